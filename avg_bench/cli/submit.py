"""``avg-bench submit``: check a predictions file locally, upload it to the leaderboard, show the score."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from avg_bench.cli.root import app
from avg_bench.errors import AvgBenchError
from avg_bench.modality import MODALITY_SET_NAMES, parse_modality_set

_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench submit predictions.jsonl --server https://leaderboard.example.org --token $TOKEN --model-name my-model\n"
    "  avg-bench submit test_preds.jsonl --server http://127.0.0.1:8000 --model-name my-model --split test --no-wait\n"
    "  AVG_BENCH_TOKEN=... avg-bench submit preds.jsonl --server URL --model-name m --labels val_labels.jsonl --json\n\n"
    "The token can come from $AVG_BENCH_TOKEN instead of --token (it then stays out of the shell history).\n"
    "val submissions are scored at once; test ones count against your team's quota (default one per 7 days)."
)


@app.command(epilog=_EPILOG)
def submit(
    predictions: Path = typer.Argument(..., help="predictions.jsonl to submit.", show_default=False),
    server: str = typer.Option(..., "--server", help="Leaderboard URL, e.g. http://127.0.0.1:8000."),
    token: str = typer.Option(None, "--token", envvar="AVG_BENCH_TOKEN", help="Team token (or $AVG_BENCH_TOKEN).", show_default=False),
    model_name: str = typer.Option(..., "--model-name", help="Name shown in the table."),
    split: str = typer.Option("val", "--split", help="val (no quota) or test (hidden labels, quota)."),
    config: str = typer.Option("seen", "--config", help="seen or geo-holdout."),
    modalities: str = typer.Option("audio+visual", "--modalities", help=f"What the model reads: {', '.join(MODALITY_SET_NAMES)}."),
    link: str = typer.Option("", "--link", help="URL of the code or paper."),
    external_data: str = typer.Option("", "--external-data", help="External data used for training, if any."),
    dataset_version: str = typer.Option("", "--dataset-version", help="Dataset revision the model was trained on."),
    labels: Path = typer.Option(None, "--labels", help="Labels to check ids and completeness against first (e.g. val labels)."),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait for the score (default) or return once queued."),
    timeout: float = typer.Option(600.0, "--timeout", help="Seconds to wait for the score."),
    json_out: bool = typer.Option(False, "--json", help="Print the entry (and its results when scored) as JSON."),
) -> None:
    """Submit a predictions file to an AVG leaderboard.

    The file is checked locally with the scorer's own messages before anything is sent.
    """
    from avg_bench import __version__
    from avg_bench import leaderboard_client as client  # standard library only: no server dependencies

    parse_modality_set(modalities, what="--modalities")
    if not token:
        raise AvgBenchError("a team token is needed: pass --token TOKEN or set AVG_BENCH_TOKEN")
    n = client.check_locally(predictions, labels)
    def say(text: str) -> None:
        typer.echo(text, err=True)

    say(f"{predictions}: {n} predictions, format OK; uploading to {server}")
    metadata = {
        "model_name": model_name, "split": split, "config": config, "modalities": modalities, "link": link,
        "external_data": external_data, "toolkit_version": __version__, "dataset_version": dataset_version,
    }
    entry = client.submit(server, token, predictions, metadata)
    say(f"entry {entry['id']}: {entry['status']} ({server.rstrip('/')}/entries/{entry['id']})")
    if wait:
        entry = client.wait(server, token, entry["id"], timeout=timeout)
    results = client.results(server, token, entry["id"]) if entry["status"] == "scored" else None
    if json_out:
        sys.stdout.write(json.dumps({"entry": entry, "results": results}, indent=2, ensure_ascii=False) + "\n")
    elif results is not None:
        from avg_bench.report import print_results
        from avg_bench.results import Results

        print_results(Results.from_dict(results))
    else:
        typer.echo(f"entry {entry['id']}: {entry['status']}" + (" (still queued; check the page later)" if entry["status"] != "failed" else ""))
    if entry["status"] == "failed":
        raise AvgBenchError(f"entry {entry['id']} failed: {entry.get('error') or 'see the entry page'}")
