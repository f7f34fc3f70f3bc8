"""``avg-bench demo``: generate AVG-Synth, build it, run the baselines, score and compare them."""

from __future__ import annotations

from pathlib import Path

import typer

from avg_bench.cli import app

_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench demo\n"
    "  avg-bench demo --out /tmp/avg-demo --locations 6 --bootstrap 200\n\n"
    "Everything runs offline (ffmpeg, espeak-ng, no model downloads) and resumes when re-run.\n"
    "AVG-Synth is synthetic: never report its numbers as AVG."
)


@app.command(epilog=_EPILOG)
def demo(
    out: Path = typer.Option(Path("avg-demo"), "--out", "-o", help="Folder for the videos, dataset, predictions and results."),
    locations: int = typer.Option(12, "--locations", "-n", min=2, help="Real locations to synthesise."),
    videos_per_location: int = typer.Option(5, "--videos-per-location", min=3, help="Source videos per location (train/val/test split by video)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the data, the baselines and the bootstrap."),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=0, help="Location resamples for the 95% CIs."),
    workers: int = typer.Option(None, "--workers", "-w", min=1, help="ffmpeg processes at once (default: CPU cores, at most 8).", show_default=False),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Run the whole benchmark loop on AVG-Synth: synth -> build -> baselines -> scores, in minutes."""
    from rich.console import Console

    from avg_bench.report import results_renderable
    from baselines.demo import run_demo
    from baselines.summary import rich_table

    console = Console()
    result = run_demo(out, locations=locations, videos_per_location=videos_per_location, seed=seed,
                      workers=workers, bootstrap=bootstrap, progress=not quiet)
    console.print(f"\n[bold]Baselines on AVG-Synth val[/] (synthetic data; accuracies in %; CIs in {out}/results/*.json)\n")
    console.print(rich_table(result.results))
    console.print("\n[bold]Does the soundtrack add signal?[/] knn-av compared with knn-visual (paired, same clips)\n")
    console.print(results_renderable(result.comparison))
    console.print(f"\nTable for baselines/README.md: python -m baselines.summary {out} --readme baselines/README.md")
