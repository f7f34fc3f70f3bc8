"""The current tables (SQLAlchemy Core). :mod:`leaderboard.migrations` builds them step by step.

Times are UNIX seconds (float): the same on SQLite and PostgreSQL, and quota windows are plain
subtraction. ``summary`` holds the few numbers the table shows, so rendering 1,000 rows never parses
1,000 full results files; ``results`` holds the full results JSON.
"""

from __future__ import annotations

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
)

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1: one row
    Column("version", Integer, nullable=False),
)

teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    # Bumped by every test submission: the row lock that serialises a team's quota checks.
    Column("test_submissions", Integer, nullable=False, default=0),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("team_id", Integer, ForeignKey("teams.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # shown by `token list`; not enough to guess the rest
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
    Column("last_used_at", Float),
)

entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("team_id", Integer, ForeignKey("teams.id"), nullable=False),
    Column("model_name", String(200), nullable=False),
    Column("link", String(500), nullable=False, default=""),
    Column("modalities", String(20), nullable=False),
    Column("external_data", String(500), nullable=False, default=""),
    Column("toolkit_version", String(50), nullable=False, default=""),
    Column("dataset_version", String(100), nullable=False, default=""),
    Column("split", String(10), nullable=False),
    Column("config", String(20), nullable=False),
    Column("status", String(10), nullable=False),  # pending, scoring, scored, failed
    Column("error", Text, nullable=False, default=""),
    Column("hidden", Boolean, nullable=False, default=False),
    Column("withdrawn", Boolean, nullable=False, default=False),
    Column("n_predictions", Integer, nullable=False, default=0),
    Column("predictions_sha256", String(64), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("scored_at", Float),
    Column("scoring_seconds", Float),
    Column("summary", Text),  # JSON: the table's numbers
    Column("results", Text),  # JSON: the full avg_bench results file
)

prediction_files = Table(
    "prediction_files",
    metadata,
    Column("entry_id", Integer, ForeignKey("entries.id"), primary_key=True),
    Column("data", LargeBinary, nullable=False),  # zlib-compressed upload
    Column("size", Integer, nullable=False),
)

comparisons = Table(
    "comparisons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_a", Integer, ForeignKey("entries.id"), nullable=False),
    Column("entry_b", Integer, ForeignKey("entries.id"), nullable=False),
    Column("results", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("entry_a", "entry_b", name="uq_comparison_pair"),
)

board_revision = Table(
    "board_revision",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1: one row
    Column("revision", Integer, nullable=False),
)

Index("ix_entries_board", entries.c.split, entries.c.config, entries.c.status)
