"""``avg-bench download`` and ``avg-bench publish``: get the hosted dataset, or push a built one."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import typer

from avg_bench.cli.root import app

_DOWNLOAD_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench download --config seen --split val --revision v1.0\n"
    "  avg-bench download --source https://mirror.example.org/avg-v1/ --out avg/ --validate\n\n"
    "Every shard is checked against checksums.sha256; a mismatch is deleted and refused. An\n"
    "interrupted mirror download resumes where it stopped (HTTP Range). --validate then checks the\n"
    "copy as avg-bench validate does; without the operator's hidden labels it names the checks it\n"
    "had to skip. When the host cannot be\n"
    "reached, build from the public manifest instead (avg-bench build --help)."
)
_PUBLISH_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench publish avg/ --repo avg-bench/AVG --dry-run\n"
    "  avg-bench publish avg/ --repo me/AVG-Synth --private\n\n"
    "Pushes README.md, build_info.json, checksums.sha256 and data/*/*.parquet only: never .work/\n"
    "nor the hidden test labels; a test split that carries labels is refused, and so is media whose\n"
    "source licence does not allow redistribution (--dry-run lists each such clip and why)."
)


@app.command(epilog=_DOWNLOAD_EPILOG)
def download(
    config: str = typer.Option(None, "--config", help="seen or geo-holdout (default: both)."),
    split: str = typer.Option(None, "--split", help="train, val or test (default: all)."),
    revision: str = typer.Option(None, "--revision", help="Hub revision (tag, branch or commit) to pin; default main."),
    source: str = typer.Option("hub", "--source", help="hub, or the URL of an HTTP mirror of a built dataset."),
    repo: str = typer.Option(None, "--repo", help="Hub dataset repository (default avg-bench/AVG)."),
    out: Path = typer.Option(None, "--out", "-o", help="Folder to write (default: the dataset cache, see --data elsewhere)."),
    as_json: bool = typer.Option(False, "--json", help="Print what was fetched as JSON."),
    validate_copy: bool = typer.Option(False, "--validate", help="Then run avg-bench validate on the copy (exit 1 on a violation)."),
) -> None:
    """Download the hosted AVG dataset, verified against its checksums."""
    from avg_bench.data import download as dl
    from avg_bench.data.layout import data_dir

    if validate_copy and (config or split):
        raise dl.DownloadError("--validate checks a whole copy: drop --config/--split, or validate later with avg-bench validate")
    out = out or data_dir()
    if source == "hub":
        result = dl.download_hub(out, repo=repo or dl.HUB_REPO, revision=revision or dl.DEFAULT_REVISION, config=config, split=split)
    elif source.startswith(("http://", "https://")):
        result = dl.download_mirror(source, out, config=config, split=split)
    else:
        raise dl.DownloadError(f"--source {source!r}: expected 'hub' or an http(s):// mirror URL")
    if as_json:
        typer.echo(json.dumps({"out_dir": str(result.out_dir), "files": result.files, "resumed": result.resumed,
                               "bytes_fetched": result.bytes_fetched}, indent=2))
    else:
        typer.echo(f"{len(result.files)} shard(s) verified in {result.out_dir}"
                   + (f" ({len(result.resumed)} resumed)" if result.resumed else ""))
    if config or split:
        return
    if not validate_copy:
        typer.echo(f"check the copy with: avg-bench validate {shlex.quote(str(result.out_dir))}", err=as_json)
        return
    from avg_bench.cli.validate import _print
    from avg_bench.data.validate import validate as run_validation

    report = run_validation(result.out_dir)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2), err=True)
    else:
        _print(report)
    raise typer.Exit(0 if report.ok else 1)


@app.command(epilog=_PUBLISH_EPILOG)
def publish(
    folder: Path = typer.Argument(..., help="A dataset folder written by avg-bench build."),
    repo: str = typer.Option(..., "--repo", help="Hub dataset repository, e.g. avg-bench/AVG."),
    revision: str = typer.Option(None, "--revision", help="Branch to push to (default main)."),
    private: bool = typer.Option(False, "--private", help="Create the repository private."),
    token: str = typer.Option(None, "--token", envvar="HF_TOKEN", help="Hub token (default: the logged-in one)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be pushed, push nothing."),
) -> None:
    """Push a built dataset (shards, card, checksums) to the Hugging Face Hub; test labels never go."""
    from avg_bench.data.publish import plan
    from avg_bench.data.publish import publish as push

    if dry_run:
        chosen = plan(folder)
        for name in chosen.files:
            typer.echo(name)
        if chosen.refused:
            from avg_bench.data.publish import PublishError

            typer.echo(f"\nwould refuse {len(chosen.refused)} clip(s): their source licence does not allow redistribution")
            for clip in chosen.refused:
                typer.echo(f"  {clip.clip_id}  {clip.shard}  licence {clip.licence!r}: {clip.reason}")
            raise PublishError(chosen.refusal())
        return
    typer.echo(f"pushed: {push(folder, repo, revision=revision, private=private, token=token)}")
