"""``avg-bench report``: figures and an HTML page from results JSON, offline."""

from __future__ import annotations

from pathlib import Path

import typer

from avg_bench.cli.root import app

_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench evaluate predictions.jsonl --split val --json results.json && avg-bench report results.json\n"
    "  avg-bench report avg-demo/results/*.json --out avg-demo/report\n\n"
    "Several files draw several models on one figure (same labels only). Writes accuracy_curve, continents "
    "and error_map as SVG and PNG, and index.html with the tables. Needs matplotlib (the maps extra)."
)


@app.command(epilog=_EPILOG)
def report(
    results: list[Path] = typer.Argument(..., help="One or more results JSON files (from evaluate --json or compare --json-dir).", show_default=False),
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Folder for the figures and index.html."),
    name: list[str] = typer.Option(None, "--name", "-n", help="Model name per file, in order (default: each file's name)."),
) -> None:
    """Plot results: accuracy vs distance threshold, per-continent bars, a world map of errors, and an HTML page."""
    from avg_bench.errors import AvgBenchError
    from avg_bench.figures.report import write_report
    from avg_bench.results import Results

    if name and len(name) != len(results):
        raise AvgBenchError(f"--name given {len(name)} times for {len(results)} results files: give one per file, or none")
    runs = []
    for i, path in enumerate(results):
        if not path.is_file():
            raise AvgBenchError(f"{path}: file not found")
        runs.append((name[i] if name else path.stem, Results.from_json(path)))
    page = write_report(runs, out)
    typer.echo(f"report written to {page}")
