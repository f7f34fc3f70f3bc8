"""``avg-bench demo``: the whole benchmark loop on AVG-Synth, offline.

Sources -> remote build -> validate -> load -> baselines -> scores -> local leaderboard -> report.

Registered by :func:`baselines.cli.register`; the demo needs both client packages.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

DEMO_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench demo\n"
    "  avg-bench demo --out /tmp/avg-demo --locations 6 --bootstrap 200\n"
    "  avg-bench demo --serve --port 8000\n\n"
    "Everything runs offline (ffmpeg, espeak-ng, a video host and a leaderboard on 127.0.0.1, no model\n"
    "downloads) and resumes when re-run. AVG-Synth is synthetic: never report its numbers as AVG."
)


def demo(
    out: Path = typer.Option(Path("avg-demo"), "--out", "-o", help="Folder for the videos, dataset, predictions, results, board and report."),
    locations: int = typer.Option(12, "--locations", "-n", min=2, help="Real locations to synthesise."),
    videos_per_location: int = typer.Option(5, "--videos-per-location", min=3, help="Source videos per location (train/val/test split by video)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the data, the baselines and the bootstrap."),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=0, help="Location resamples for the 95% CIs."),
    workers: int = typer.Option(None, "--workers", "-w", min=1, help="ffmpeg processes at once (default: CPU cores, at most 8).", show_default=False),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars (they are off anyway when output is not a terminal)."),
    serve: bool = typer.Option(False, "--serve", help="Afterwards, keep the demo's leaderboard up on 127.0.0.1 and print its URL."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port of the leaderboard with --serve."),
) -> None:
    """Run the whole benchmark loop on AVG-Synth, offline: build, validate, load, baselines, leaderboard, report."""
    from rich.console import Console

    from avg_bench.report import results_renderable
    from baselines.demo import run_demo
    from baselines.summary import rich_table

    terminal = sys.stdout.isatty()
    # A log file has no width: never let rich cut a header to a guessed 80 columns there.
    console = Console(width=None if terminal else 120, soft_wrap=not terminal)
    say = lambda line: console.print(line, markup=False, highlight=False)  # noqa: E731
    result = run_demo(out, locations=locations, videos_per_location=videos_per_location, seed=seed, workers=workers,
                      bootstrap=bootstrap, progress=not quiet and sys.stderr.isatty(), echo=say)
    console.print(f"\n[bold]Baselines on AVG-Synth val[/] (synthetic data; accuracies in %; CIs in {out}/results/*.json)\n")
    console.print(rich_table(result.results))
    console.print("\n[bold]Does the soundtrack add signal?[/] knn-av compared with knn-visual (paired, same clips)\n")
    console.print(results_renderable(result.comparison))
    say(f"\nReport: {result.report}")
    say(f"Leaderboard: {result.board.settings.db_url} ({len(result.board.entries)} entries; avg-bench demo --serve shows it)")
    say(f"Table for baselines/README.md: avg-bench baseline summary {out} --readme baselines/README.md")
    total = sum(result.timings.values())
    say(f"Done in {total:.0f} s ({total / 60:.1f} min).")
    if serve:
        from leaderboard.demo import serve as serve_board

        serve_board(result.board.settings, port=port,
                    on_ready=lambda url: say(f"\nServing the demo leaderboard at {url}/ (Ctrl-C to stop)"))
