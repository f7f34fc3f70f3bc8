"""Server settings: one frozen dataclass whose fields map one-to-one onto ``serve`` options."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from avg_bench.cache import cache_dir
from avg_bench.spec import AVG_V1

#: Default upload limit: 20,000 predictions with short reasoning fit in ~2 MB; samples need more.
DEFAULT_MAX_UPLOAD_BYTES = 64 << 20


def default_db_url() -> str:
    """``$AVG_BENCH_LEADERBOARD_DB``, else an SQLite file in the cache folder."""
    if env := os.environ.get("AVG_BENCH_LEADERBOARD_DB"):
        return env
    return f"sqlite:///{cache_dir() / 'leaderboard' / 'leaderboard.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    """Everything the server is configured by.

    Attributes:
        db_url: SQLAlchemy URL: ``sqlite:///path`` (default) or ``postgresql+psycopg://...``.
        labels_dir: server-held labels, ``DIR/<config>/<split>.parquet`` (or ``.jsonl``), e.g.
            the ``OUT-hidden-labels`` folder that ``avg-bench build`` writes, plus ``val`` labels.
        quota_count / quota_days: scored test submissions a team may make per rolling window.
        max_upload_bytes: larger uploads are refused before being read to the end.
        bootstrap / seed: the CI settings of every leaderboard score (the scorer's defaults).
        workers: background scoring threads (0: the caller scores, used by tests and the bench).
        compare_per_minute / compare_burst: new (uncached) comparisons one client address may ask
            for; ten times the rate over all clients. compare_cache_size: comparisons kept (oldest dropped).
        min_locations: k, the fewest distinct locations any number published about a hidden split
            may rest on (groups, map cells, the board itself); see :mod:`leaderboard.disclosure`.
    """

    db_url: str = field(default_factory=default_db_url)
    labels_dir: Path = Path("labels")
    quota_count: int = 1
    quota_days: float = 7.0
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    bootstrap: int = AVG_V1.default_bootstrap
    seed: int = AVG_V1.default_seed
    workers: int = 1
    title: str = "AVG leaderboard"
    min_locations: int = AVG_V1.min_group_locations
    compare_per_minute: float = 6.0
    compare_burst: int = 5
    compare_cache_size: int = 1000

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels_dir", Path(self.labels_dir))
        if self.min_locations < 1:
            raise ValueError("min_locations must be at least 1")
        if self.quota_count < 0 or self.quota_days < 0 or self.max_upload_bytes <= 0:
            raise ValueError("quota and upload limits must be non-negative (upload limit positive)")
