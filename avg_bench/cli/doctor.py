"""``avg-bench doctor``: check this machine for building and loading AVG."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from avg_bench.cli.root import app

_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench doctor\n"
    "  avg-bench doctor --path /scratch/avg --json\n\n"
    "Exit code 1 when a required check fails (yt-dlp, ffmpeg, disk, write access)."
)


@app.command(epilog=_EPILOG)
def doctor(
    path: Path = typer.Option(Path("."), "--path", help="Where the dataset will be built (free disk, write access)."),
    min_free_gib: float = typer.Option(20.0, "--min-free-gib", help="Free disk needed at --path."),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check yt-dlp, a JavaScript runtime, ffmpeg, torchcodec, free disk and write access."""
    from avg_bench.doctor import as_dicts, run_checks

    checks = run_checks(path, min_free_gib=min_free_gib)
    if as_json:
        typer.echo(json.dumps(as_dicts(checks), indent=2))
    else:
        for check in checks:
            mark = "ok  " if check.ok else ("FAIL" if check.required else "warn")
            typer.echo(f"[{mark}] {check.name}: {check.detail}" + (f"\n       fix: {check.fix}" if not check.ok and check.fix else ""))
    if any(c.required and not c.ok for c in checks):
        raise typer.Exit(1)
