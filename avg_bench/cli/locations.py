"""``avg-bench locations``: regenerate, summarise and map the shipped locations table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from avg_bench.cli.root import app

locations_app = typer.Typer(
    help="The benchmark's locations: regenerate the shipped table, summarise it, draw its map.",
    epilog=(
        "[bold]Examples[/]\n\n"
        "  avg-bench locations regenerate --check\n"
        "  avg-bench locations summary --markdown\n"
        "  avg-bench locations map"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(locations_app, name="locations")


@locations_app.command()
def regenerate(
    output: Path = typer.Option(None, "--output", help="Where to write (default: the shipped table).", show_default=False),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if the table differs from what the selection gives."),
) -> None:
    """Run the reproducible selection and write the locations table."""
    from avg_bench.data.locations import LOCATIONS_V1_PATH, regenerate_locations

    target = output or LOCATIONS_V1_PATH
    same = regenerate_locations(target, check=check)
    if check:
        typer.echo(f"{target}: {'identical' if same else 'DIFFERS from the selection'}")
        raise typer.Exit(0 if same else 1)
    typer.echo(f"wrote {target}")


@locations_app.command()
def summary(
    path: Path = typer.Option(None, "--path", help="Table to summarise (default: the shipped table).", show_default=False),
    markdown: bool = typer.Option(False, "--markdown", help="Markdown tables, as in docs/locations.md."),
    as_json: bool = typer.Option(False, "--json", help="The summary as JSON."),
) -> None:
    """Counts per continent and country, nearest-neighbour separation, population."""
    from avg_bench.data.location_summary import summarise_locations, summary_markdown, summary_text
    from avg_bench.data.locations import candidate_places, load_locations
    from avg_bench.errors import AvgBenchError

    if markdown and as_json:
        raise AvgBenchError("give at most one of --markdown and --json")
    records = load_locations(path)
    if markdown:
        sys.stdout.write(summary_markdown(records, candidates=candidate_places() if path is None else None))
    elif as_json:
        typer.echo(json.dumps(summarise_locations(records), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(summary_text(records))


@locations_app.command(name="map")
def draw_map(
    path: Path = typer.Option(None, "--path", help="Table to draw (default: the shipped table).", show_default=False),
    output: Path = typer.Option(None, "--output", help="PNG to write (default: the dataset card's map).", show_default=False),
) -> None:
    """Draw the locations to a PNG (needs matplotlib: the maps extra)."""
    from avg_bench.data.location_summary import render_locations_map
    from avg_bench.data.locations import LOCATIONS_MAP_PATH, load_locations

    typer.echo(f"wrote {render_locations_map(load_locations(path), output or LOCATIONS_MAP_PATH)}")
