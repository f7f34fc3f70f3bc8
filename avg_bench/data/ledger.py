"""The build ledger: one SQLite row per clip, so a build resumes, retries chosen failures, and reports.

States: ``pending`` (not built yet), ``ok`` (its canonical folder and ``clip.json`` are in place),
``retryable`` and ``permanent`` (failed, with an error class from :mod:`avg_bench.data.failures`).
A clip becomes ``ok`` only after its ``clip.json`` was renamed into place, and :meth:`Ledger.reconcile`
squares the ledger with the disk on every start: a ``clip.json`` without an ``ok`` row (killed
between the rename and the commit) becomes ``ok``; an ``ok`` row without its ``clip.json`` goes
back to ``pending``. Each update is one SQLite transaction (journalled, so a kill never leaves half
a row). One connection is shared by the worker threads behind a lock; builds are I/O- and
ffmpeg-bound, never ledger-bound.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avg_bench.data.clip_store import CLIP_META
from avg_bench.data.failures import ERROR_CLASSES, PERMANENT

STATES = ("pending", "ok", "retryable", "permanent")
LEDGER_NAME = "ledger.sqlite"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS clips (
    clip_id        TEXT PRIMARY KEY,
    source_key     TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ({", ".join(repr(s) for s in STATES)})),
    error_class    TEXT CHECK (error_class IS NULL OR error_class IN ({", ".join(repr(c) for c in ERROR_CLASSES)})),
    error          TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    started_at     REAL,
    finished_at    REAL,
    fetch_s        REAL,
    process_s      REAL,
    download_bytes INTEGER,
    output_bytes   INTEGER,
    video_sha256   TEXT,
    audio_sha256   TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class LedgerRow:
    """One clip's row in the ledger: its state, failure class and message, and timings."""
    clip_id: str
    source_key: str
    state: str
    error_class: str | None
    error: str | None
    attempts: int
    started_at: float | None
    finished_at: float | None
    fetch_s: float | None
    process_s: float | None
    download_bytes: int | None
    output_bytes: int | None
    video_sha256: str | None
    audio_sha256: str | None


class Ledger:
    """The per-clip build ledger at ``path`` (created when missing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an ok row survives a power cut like its files
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------------
    def _write(self, sql: str, rows: Any) -> None:
        """Run ``sql`` in one write transaction: once with ``rows`` as its parameters, or once per row of a list."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if isinstance(rows, list):
                    self._db.executemany(sql, rows)
                else:
                    self._db.execute(sql, rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def add(self, clips: Iterable[tuple[str, str]]) -> None:
        """Register ``(clip_id, source_key)`` pairs as pending; known clips keep their row."""
        self._write("INSERT OR IGNORE INTO clips (clip_id, source_key, state) VALUES (?, ?, 'pending')", list(clips))

    def start(self, clip_id: str) -> None:
        """Mark a clip as being fetched (a kill leaves it ``started``; resume redoes it)."""
        self._write("UPDATE clips SET attempts = attempts + 1, started_at = ? WHERE clip_id = ?", (time.time(), clip_id))

    def mark_ok(self, clip_id: str, *, fetch_s: float | None, process_s: float | None, download_bytes: int | None,
                output_bytes: int | None, video_sha256: str, audio_sha256: str) -> None:
        """Mark a clip done, with its timings and download size."""
        self._write(
            "UPDATE clips SET state='ok', error_class=NULL, error=NULL, finished_at=?, fetch_s=?, process_s=?, "
            "download_bytes=?, output_bytes=?, video_sha256=?, audio_sha256=? WHERE clip_id=?",
            (time.time(), fetch_s, process_s, download_bytes, output_bytes, video_sha256, audio_sha256, clip_id),
        )

    def mark_failed(self, clip_id: str, error_class: str, error: str, *, fetch_s: float | None = None) -> None:
        """Mark a clip failed with its error class (permanent or retryable) and message."""
        state = "permanent" if error_class in PERMANENT else "retryable"
        self._write(
            "UPDATE clips SET state=?, error_class=?, error=?, finished_at=?, fetch_s=? WHERE clip_id=?",
            (state, error_class, error[:2000], time.time(), fetch_s, clip_id),
        )

    def requeue(self, classes: Sequence[str] | None = None) -> int:
        """Failed clips back to pending: every retryable one, or those of ``classes`` (any state)."""
        if classes is None:
            sql, args = "UPDATE clips SET state='pending' WHERE state='retryable'", tuple[str, ...]()
        else:
            marks = ", ".join("?" for _ in classes)
            sql = f"UPDATE clips SET state='pending' WHERE state IN ('retryable', 'permanent') AND error_class IN ({marks})"
            args = tuple(classes)
        with self._lock:
            return self._db.execute(sql, args).rowcount

    def meta(self, key: str) -> str | None:
        """A value stored in the ledger's metadata table, or None."""
        with self._lock:
            found = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return found[0] if found else None

    # -- reading ------------------------------------------------------------------------------
    def rows(self, clip_ids: Iterable[str] | None = None) -> list[LedgerRow]:
        """Ledger rows, all or those of ``clip_ids``, in clip-id order."""
        with self._lock:
            found = self._db.execute("SELECT * FROM clips ORDER BY clip_id").fetchall()
        rows = [LedgerRow(*row) for row in found]
        if clip_ids is not None:
            wanted = set(clip_ids)
            rows = [r for r in rows if r.clip_id in wanted]
        return rows

    def states(self) -> dict[str, str]:
        """Every clip's state, by clip id."""
        with self._lock:
            return dict(self._db.execute("SELECT clip_id, state FROM clips").fetchall())

    def reconcile(self, clips_dir: Path) -> tuple[int, int]:
        """Square the ledger with the disk; returns (rows promoted to ok, rows demoted to pending)."""
        promoted, demoted = [], []
        for clip_id, state in self.states().items():
            done = (clips_dir / clip_id / CLIP_META).is_file()
            if done and state != "ok":
                promoted.append(clip_id)
            elif state == "ok" and not done:
                demoted.append(clip_id)
        if promoted:
            self._write("UPDATE clips SET state='ok', error_class=NULL, error=NULL WHERE clip_id=?", [(c,) for c in promoted])
        if demoted:
            self._write("UPDATE clips SET state='pending' WHERE clip_id=?", [(c,) for c in demoted])
        return len(promoted), len(demoted)

    def merge_from(self, other: Ledger) -> int:
        """Copy ``other``'s rows in; an ``ok`` row wins over any other, else the row with more attempts."""
        mine = {row.clip_id: row for row in self.rows()}
        chosen = []
        for row in other.rows():
            current = mine.get(row.clip_id)
            if current is None or (row.state == "ok" and current.state != "ok") or (
                current.state != "ok" and row.state != "pending" and row.attempts >= current.attempts
            ):
                chosen.append(tuple(vars(row).values()))
        if chosen:
            marks = ", ".join("?" for _ in LedgerRow.__dataclass_fields__)
            self._write(f"INSERT OR REPLACE INTO clips VALUES ({marks})", chosen)
        return len(chosen)
