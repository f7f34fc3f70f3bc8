"""Engines: SQLite (WAL, busy timeout, real transactions) or PostgreSQL, and opening a database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from avg_bench.errors import AvgBenchError
from leaderboard import migrations

#: How long an SQLite writer waits for another writer's lock before giving up (ms).
SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL (readers never block the writer) and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise AvgBenchError(f"not a database URL: {url!r} (use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB)") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _sqlite_transactions(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() in ("", "psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_size=10, max_overflow=20, pool_pre_ping=True)
    raise AvgBenchError(f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL")


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLite run real transactions (pysqlite's implicit BEGIN is off) with WAL and foreign keys.

    Writing transactions (:func:`writing`) take SQLite's single write lock when they begin, so
    concurrent writers queue (up to the busy timeout) instead of failing or reading stale counts.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        # A deferred transaction that reads before it writes fails at once with "database is
        # locked" when another writer committed in between (the busy timeout cannot help), so
        # writers take the write lock first; readers stay deferred and never block anyone.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


_WRITE = "leaderboard_write"


def writing(engine: Engine):
    """A transaction that will write (SQLite: BEGIN IMMEDIATE), for use in a ``with`` block."""
    return engine.execution_options(**{_WRITE: True}).begin()


def open_database(url: str) -> Engine:
    """Connect and bring the schema up to date (an upgrade keeps every row)."""
    engine = make_engine(url)
    try:
        migrations.upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        raise AvgBenchError(f"cannot open the leaderboard database {_safe(url)}: {exc.orig}") from None
    return engine


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"
