"""``avg-bench build``: materialise a manifest into parquet shards."""

from __future__ import annotations

from pathlib import Path

import typer

from avg_bench.cli import app

_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench synth --locations 12 --videos-per-location 5 --out synth/\n"
    "  avg-bench build synth/manifest.jsonl --out avg-synth/ --name AVG-Synth --clips-per-location 20\n"
    "  avg-bench validate avg-synth/\n\n"
    "Re-running resumes: finished clips are not processed again. Hidden test labels go to\n"
    "OUT-hidden-labels/ (beside OUT, never inside it): they are for the leaderboard only."
)


@app.command(epilog=_EPILOG)
def build(
    manifest: Path = typer.Argument(..., help="Manifest .jsonl (one clip per line)."),
    out: Path = typer.Option(..., "--out", "-o", help="Dataset folder to write."),
    name: str = typer.Option("AVG", "--name", help="Dataset name written into the card."),
    labels_out: Path = typer.Option(None, "--labels-out", help="Folder for the hidden test labels (default: OUT-hidden-labels)."),
    workers: int = typer.Option(2, "--workers", "-w", min=1, help="Clips processed in parallel (ffmpeg processes)."),
    clips_per_location: int = typer.Option(None, "--clips-per-location", help="Expected clips per location, checked by validate."),
) -> None:
    """Build a dataset from a manifest of local sources.

    Canonical media, splits for both protocols, parquet shards with media embedded, checksums,
    hidden test labels and the dataset card.
    """
    from avg_bench.data.build import build_dataset

    result = build_dataset(
        manifest, out, name=name, labels_dir=labels_out, workers=workers, expected_clips_per_location=clips_per_location
    )
    for config, splits in result.counts.items():
        typer.echo(f"{config}: " + ", ".join(f"{split} {n}" for split, n in splits.items()))
    if result.failed_checks:
        typer.echo(f"{len(result.failed_checks)} clip(s) failed content checks; run avg-bench validate {out}", err=True)
    typer.echo(f"wrote {out} (revision {result.revision}); hidden test labels in {result.labels_dir}")
