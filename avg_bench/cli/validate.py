"""``avg-bench validate``: check a built dataset or a manifest against the spec."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from avg_bench.cli.root import app

_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench validate avg-synth/\n"
    "  avg-bench validate manifest.jsonl\n"
    "  avg-bench validate avg-synth/ --labels avg-synth-hidden-labels/ --json report.json\n\n"
    "Without the operator's hidden labels (a downloaded copy) every check the released files allow\n"
    "is run, and one note names the checks that need the labels.\n\n"
    "Exit code 0: clean; 1: violations found (each names its clip); 2: unreadable input."
)


@app.command(epilog=_EPILOG)
def validate(
    target: Path = typer.Argument(..., help="A dataset folder (with build_info.json) or a manifest .jsonl."),
    labels: Path = typer.Option(None, "--labels", help="Hidden test labels folder (default: TARGET-hidden-labels)."),
    json_out: str = typer.Option(None, "--json", help="Write the report as JSON to this file ('-' for stdout)."),
) -> None:
    """Check every config and the hidden pool across them: counts, splits, columns, sources, near-duplicates, coordinates, commitment, checksums."""
    from avg_bench.data.validate import validate as run_validation

    report = run_validation(target, labels_dir=labels)
    if json_out == "-":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        _print(report)
        if json_out:
            Path(json_out).write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    raise typer.Exit(0 if report.ok else 1)


def _print(report) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{report.kind} {report.target}[/]: {report.locations} locations")
    counts = Table(box=None, header_style="bold underline", pad_edge=False)
    counts.add_column("config")
    order = ("train", "val", "test", "clips")
    splits = sorted({s for c in report.counts.values() for s in c}, key=lambda s: order.index(s) if s in order else len(order))
    for split in splits:
        counts.add_column(split, justify="right")
    for config, by_split in report.counts.items():
        counts.add_row(config, *(str(by_split.get(s, 0)) for s in splits))
    console.print(counts)
    if report.by_continent:
        console.print("clips per continent: " + ", ".join(f"{c} {n}" for c, n in report.by_continent.items()))
    for note in report.notes:
        console.print(f"note: {note}", style="dim", markup=False, soft_wrap=True)  # one line each, whatever the width
    if report.ok:
        console.print("[green]no violations[/]")
        return
    table = Table(title=f"{len(report.violations)} violation(s)", title_justify="left", box=None, header_style="bold underline", pad_edge=False)
    for column in ("check", "clip / subject", "detail"):
        table.add_column(column, overflow="fold")
    for v in report.violations:
        table.add_row(v.check, v.subject, v.detail)
    console.print(table)
