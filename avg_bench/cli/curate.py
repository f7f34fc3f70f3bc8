"""``avg-bench curate``: candidate source videos per location, for human review."""

from __future__ import annotations

from pathlib import Path

import typer

from avg_bench.cli.root import app

_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench curate locations.jsonl --out candidates.jsonl --per-location 5\n"
    "  avg-bench curate locations.jsonl --out candidates.jsonl --recorded search_results.json\n\n"
    "LOCATIONS is JSON Lines of location records (avg-bench synth writes one: locations.jsonl).\n"
    "Searching needs the internet (yt-dlp); --recorded replays saved results {query: [entries]}."
)


@app.command(epilog=_EPILOG)
def curate(
    locations: Path = typer.Argument(..., help="Locations .jsonl (location_id, name, admin1, country, ...)."),
    out: Path = typer.Option(..., "--out", "-o", help="Candidates .jsonl to write for review."),
    per_location: int = typer.Option(5, "--per-location", min=1, help="Candidates kept per location."),
    results_per_query: int = typer.Option(10, "--results-per-query", min=1, help="Search results read per query."),
    min_duration: float = typer.Option(60.0, "--min-duration", min=0, help="Shortest source video, seconds."),
    max_duration: float = typer.Option(14400.0, "--max-duration", min=1, help="Longest source video, seconds."),
    recorded: Path = typer.Option(None, "--recorded", help="Replay recorded search results instead of searching."),
) -> None:
    """Propose candidate source videos per location (platform search, metadata checks, scores)."""
    from avg_bench.data.curate import CurateOptions, read_locations, recorded_search, write_candidates, ytdlp_search
    from avg_bench.data.curate import curate as run

    options = CurateOptions(per_location=per_location, results_per_query=results_per_query,
                            min_duration_s=min_duration, max_duration_s=max_duration)
    places = read_locations(locations)
    candidates = run(places, search=recorded_search(recorded) if recorded else ytdlp_search, options=options)
    write_candidates(candidates, out)
    short = sorted({p.location_id for p in places} - {c.location_id for c in candidates})
    typer.echo(f"wrote {len(candidates)} candidate(s) for {len(places) - len(short)} of {len(places)} location(s) to {out}")
    if short:
        typer.echo(f"no candidate for: {', '.join(short)}", err=True)
