"""A versioned schema: numbered steps, each run once, in order, in its own transaction.

Each step spells out the DDL of its own version (never the current :mod:`leaderboard.schema`),
so an old database upgrades through the same steps a new one is built by, and keeps its rows.
A database newer than this code is refused rather than half-understood.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, Engine

from avg_bench.errors import AvgBenchError


def _v1(conn: Connection) -> None:
    """Teams, hashed tokens, entries and the uploaded files."""
    m = MetaData()
    Table("schema_version", m, Column("id", Integer, primary_key=True), Column("version", Integer, nullable=False))
    Table(
        "teams", m,
        Column("id", Integer, primary_key=True),
        Column("name", String(100), nullable=False, unique=True),
        Column("created_at", Float, nullable=False),
        Column("test_submissions", Integer, nullable=False, default=0),
    )
    Table(
        "tokens", m,
        Column("id", Integer, primary_key=True),
        Column("team_id", Integer, ForeignKey("teams.id"), nullable=False),
        Column("token_hash", String(64), nullable=False, unique=True),
        Column("prefix", String(16), nullable=False),
        Column("created_at", Float, nullable=False),
        Column("revoked_at", Float),
        Column("last_used_at", Float),
    )
    Table(
        "entries", m,
        Column("id", Integer, primary_key=True),
        Column("team_id", Integer, ForeignKey("teams.id"), nullable=False),
        Column("model_name", String(200), nullable=False),
        Column("link", String(500), nullable=False),
        Column("modalities", String(20), nullable=False),
        Column("external_data", String(500), nullable=False),
        Column("toolkit_version", String(50), nullable=False),
        Column("dataset_version", String(100), nullable=False),
        Column("split", String(10), nullable=False),
        Column("config", String(20), nullable=False),
        Column("status", String(10), nullable=False),
        Column("error", Text, nullable=False),
        Column("hidden", Boolean, nullable=False),
        Column("withdrawn", Boolean, nullable=False),
        Column("n_predictions", Integer, nullable=False),
        Column("predictions_sha256", String(64), nullable=False),
        Column("created_at", Float, nullable=False),
        Column("scored_at", Float),
        Column("scoring_seconds", Float),
        Column("summary", Text),
        Column("results", Text),
    )
    Table(
        "prediction_files", m,
        Column("entry_id", Integer, ForeignKey("entries.id"), primary_key=True),
        Column("data", LargeBinary, nullable=False),
        Column("size", Integer, nullable=False),
    )
    m.create_all(conn)


def _v2(conn: Connection) -> None:
    """Cached paired comparisons, and an index for the table's query."""
    m = MetaData()
    entries = Table("entries", m, autoload_with=conn)
    Table(
        "comparisons", m,
        Column("id", Integer, primary_key=True),
        Column("entry_a", Integer, ForeignKey("entries.id"), nullable=False),
        Column("entry_b", Integer, ForeignKey("entries.id"), nullable=False),
        Column("results", Text, nullable=False),
        Column("created_at", Float, nullable=False),
        UniqueConstraint("entry_a", "entry_b", name="uq_comparison_pair"),
    ).create(conn)
    Index("ix_entries_board", entries.c.split, entries.c.config, entries.c.status).create(conn)


def _v3(conn: Connection) -> None:
    """Add a revision counter of the public table, bumped by every change to it.

    Servers can then cache the rendered table and still see each other's writes (one indexed read per request).
    """
    m = MetaData()
    table = Table("board_revision", m, Column("id", Integer, primary_key=True), Column("revision", Integer, nullable=False))
    table.create(conn)
    conn.execute(table.insert().values(id=1, revision=0))


#: Every step, in order; the schema version is the number of steps applied.
STEPS: tuple[Callable[[Connection], None], ...] = (_v1, _v2, _v3)
LATEST = len(STEPS)


def current_version(conn: Connection) -> int:
    """0 for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        if inspect(conn).get_table_names():
            raise AvgBenchError("the database holds tables but no schema_version: not an AVG leaderboard database")
        return 0
    table = Table("schema_version", MetaData(), autoload_with=conn)
    version = conn.execute(select(table.c.version)).scalar()
    return int(version or 0)


def upgrade(engine: Engine, *, target: int = LATEST) -> tuple[int, int]:
    """Apply the missing steps up to ``target``; returns ``(version before, version after)``."""
    with engine.begin() as conn:
        before = current_version(conn)
    if before > LATEST:
        raise AvgBenchError(
            f"the database is at schema version {before}, newer than this avg-bench ({LATEST}): upgrade avg-bench"
        )
    for version in range(before + 1, target + 1):
        with engine.begin() as conn:
            STEPS[version - 1](conn)
            table = Table("schema_version", MetaData(), autoload_with=conn)
            if version == 1:
                conn.execute(table.insert().values(id=1, version=1))
            else:
                conn.execute(table.update().where(table.c.id == 1).values(version=version))
    return before, max(before, target)
