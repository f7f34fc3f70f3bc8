"""``avg-bench leaderboard``: run the server, manage team tokens, export the table.

:func:`register` is this package's ``avg_bench.commands`` entry point (pyproject.toml): the core
CLI calls it only when a command line asks for ``leaderboard`` (or for the full ``--help``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from avg_bench.errors import AvgBenchError

group = typer.Typer(
    name="leaderboard",
    help="Run the AVG leaderboard server and administer it (tokens, static export).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
tokens = typer.Typer(name="token", help="Issue, list and revoke team tokens (admin).", no_args_is_help=True, rich_markup_mode="rich")
group.add_typer(tokens)

_DB_HELP = "Database URL: sqlite:///PATH (default: $AVG_BENCH_LEADERBOARD_DB or the cache) or postgresql+psycopg://USER@HOST/DB."


def _db(url: str | None) -> str:
    from leaderboard.config import default_db_url

    return url or default_db_url()


def _engine(url: str | None):
    try:
        from leaderboard.db import open_database
    except ImportError as exc:
        raise AvgBenchError(f"the leaderboard needs its extra: pip install 'avg-bench[leaderboard]' ({exc.name} is missing)") from None
    return open_database(_db(url))


@group.command(epilog=(
    "[bold]Examples[/]\n\n"
    "  avg-bench leaderboard serve --labels avg-hidden-labels/\n"
    "  avg-bench leaderboard serve --db postgresql+psycopg://lb@127.0.0.1/lb --labels labels/ --host 0.0.0.0 --port 8080\n\n"
    "--labels DIR holds DIR/<config>/<split>.parquet (or .jsonl): the hidden test labels that\n"
    "`avg-bench build` writes to OUT-hidden-labels/, plus val labels for development submissions."
))
def serve(
    db: str = typer.Option(None, "--db", help=_DB_HELP),
    labels: Path = typer.Option(Path("labels"), "--labels", help="Folder of server-held labels: DIR/<config>/<split>.parquet."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    quota: int = typer.Option(1, "--quota", min=0, help="Scored test submissions per team per window."),
    quota_days: float = typer.Option(7.0, "--quota-days", min=0.0, help="Length of the quota window in days."),
    max_upload_mb: float = typer.Option(64.0, "--max-upload-mb", min=0.001, help="Largest accepted predictions file (MiB)."),
    workers: int = typer.Option(1, "--workers", min=1, max=16, help="Background scoring threads."),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=0, help="Bootstrap resamples of every score's CIs."),
    min_locations: int = typer.Option(
        5, "--min-locations", min=1, help="k: on hidden splits, show a group (continent, map cell) only if it covers k+ locations.",
    ),
) -> None:
    """Serve the leaderboard: JSON API (/api, /docs) and pages, scoring in the background."""
    try:
        import uvicorn

        from leaderboard.app import create_app
        from leaderboard.config import Settings
    except ImportError as exc:
        raise AvgBenchError(f"the leaderboard needs its extra: pip install 'avg-bench[leaderboard]' ({exc.name} is missing)") from None
    if not labels.is_dir():
        raise AvgBenchError(f"--labels {labels}: no such folder (expected DIR/<config>/<split>.parquet)")
    settings = Settings(
        db_url=_db(db), labels_dir=labels, quota_count=quota, quota_days=quota_days,
        max_upload_bytes=int(max_upload_mb * 2**20), workers=workers, bootstrap=bootstrap, min_locations=min_locations,
    )
    app_ = create_app(settings)
    boards = app_.state.leaderboard.labels.available()
    if not boards:
        raise AvgBenchError(f"--labels {labels}: no labels found (expected e.g. {labels}/seen/test.parquet)")
    typer.echo(f"serving {', '.join(f'{s}/{c}' for c, s in boards)} on http://{host}:{port}", err=True)
    uvicorn.run(app_, host=host, port=port, log_level="warning")


@tokens.command("create", epilog="[bold]Example[/]\n\n  avg-bench leaderboard token create \"Team Geo\" --db sqlite:///lb.sqlite3")
def token_create(
    team: str = typer.Argument(..., help="Team name (created on first use)."),
    db: str = typer.Option(None, "--db", help=_DB_HELP),
) -> None:
    """Issue a new token for TEAM; it is printed once (only its hash is stored)."""
    from leaderboard import store

    token = store.create_token(_engine(db), team)
    typer.echo(f"token for team {team!r} (shown once; store it safely):", err=True)
    typer.echo(token)


@tokens.command("revoke", epilog=(
    "[bold]Examples[/]\n\n  avg-bench leaderboard token revoke avgt_AbCdEfG\n  avg-bench leaderboard token revoke --team \"Team Geo\""
))
def token_revoke(
    prefix: str = typer.Argument(None, help="The token, or its first characters as `token list` shows them."),
    team: str = typer.Option(None, "--team", help="Revoke every token of this team instead."),
    db: str = typer.Option(None, "--db", help=_DB_HELP),
) -> None:
    """Revoke a token (or all of a team's); its submissions are refused from then on."""
    from leaderboard import store

    n = store.revoke_tokens(_engine(db), team=team, prefix=prefix)
    if n == 0:
        raise AvgBenchError("no live token matched")
    typer.echo(f"revoked {n} token(s)")


@tokens.command("list", epilog="[bold]Example[/]\n\n  avg-bench leaderboard token list --db sqlite:///lb.sqlite3")
def token_list(db: str = typer.Option(None, "--db", help=_DB_HELP)) -> None:
    """List tokens: team, prefix, created, last used, revoked."""
    from rich.console import Console
    from rich.table import Table

    from leaderboard import store
    from leaderboard.table import iso_date

    table = Table("team", "token prefix", "created", "last used", "revoked")
    for row in store.list_tokens(_engine(db)):
        table.add_row(row["team"], row["prefix"] + "…", iso_date(row["created_at"]), iso_date(row["last_used_at"]) or "-",
                      iso_date(row["revoked_at"]) or "-")
    Console().print(table)


@group.command(epilog=(
    "[bold]Examples[/]\n\n"
    "  avg-bench leaderboard export --format md > LEADERBOARD.md\n"
    "  avg-bench leaderboard export --format html --split test --config seen -o leaderboard.html"
))
def export(
    fmt: str = typer.Option("md", "--format", help="md or html."),
    split: str = typer.Option("test", "--split", help="val or test."),
    config: str = typer.Option("seen", "--config", help="seen or geo-holdout."),
    out: Path = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
    db: str = typer.Option(None, "--db", help=_DB_HELP),
    min_locations: int = typer.Option(5, "--min-locations", min=1, help="k, as the server's: what a hidden split may show."),
) -> None:
    """A static copy of the table (Markdown for the README, HTML for the dataset card)."""
    from leaderboard.export import export_table

    if fmt not in ("md", "html"):
        raise AvgBenchError(f"--format must be md or html, found {fmt!r}")
    text = export_table(_engine(db), fmt=fmt, split=split, config=config, k=min_locations)
    if out is None:
        sys.stdout.write(text)
    else:
        from avg_bench.cache import atomic_write_bytes

        atomic_write_bytes(out, text.encode("utf-8"))
        typer.echo(f"written to {out}", err=True)


def register(app: typer.Typer) -> None:
    """Add ``leaderboard`` to the ``avg-bench`` app (the ``avg_bench.commands`` entry point)."""
    app.add_typer(group)
