"""Where a local copy of the dataset lives and where each split's shards sit inside it.

Layout (one folder per configuration, Hugging Face ``configs:`` style)::

    DATA_DIR/data/<config>/<split>-<i>-of-<n>.parquet

``DATA_DIR`` is ``--data``, else ``$AVG_BENCH_DATA``, else ``<cache>/datasets/AVG-v1``.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from avg_bench.cache import cache_dir
from avg_bench.errors import AvgBenchError, DatasetNotFoundError
from avg_bench.spec import AVG_V1, BenchmarkSpec

DATA_ENV = "AVG_BENCH_DATA"


def data_dir(explicit: str | Path | None = None, *, spec: BenchmarkSpec = AVG_V1) -> Path:
    """The dataset root: the explicit path, ``$AVG_BENCH_DATA``, or the cache default."""
    if explicit is not None:
        return Path(explicit)
    if env := os.environ.get(DATA_ENV):
        return Path(env)
    return cache_dir() / "datasets" / spec.version


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value in allowed:
        return value
    close = difflib.get_close_matches(value, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise AvgBenchError(f"unknown {what} {value!r}: expected one of {', '.join(allowed)}{hint}")


def split_shards(
    split: str,
    *,
    config: str = "seen",
    root: str | Path | None = None,
    spec: BenchmarkSpec = AVG_V1,
    allow_hidden: bool = False,
) -> list[Path]:
    """The parquet shards of one split, checked to exist.

    Scoring needs labels, so a hidden split refuses with advice unless ``allow_hidden`` (a predictor
    reads the hidden split's media to write leaderboard predictions; its label columns are null).
    """
    split = _choice(split, spec.splits, "split")
    config = _choice(config, spec.configs, "config")
    if split in spec.hidden_splits and not allow_hidden:
        raise AvgBenchError(
            f"the {split!r} split's labels are hidden: submit {split} predictions to the AVG leaderboard, "
            "and score locally on --split val"
        )
    folder = data_dir(root, spec=spec) / "data" / config
    shards = sorted(folder.glob(f"{split}-*.parquet"))
    if not shards:
        raise DatasetNotFoundError(
            f"no {config}/{split} shards in {folder}: put the {spec.version} dataset there "
            f"(or point --data / ${DATA_ENV} at it), or pass --labels FILE"
        )
    return shards
