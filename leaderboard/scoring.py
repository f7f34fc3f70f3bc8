"""Checking an upload and scoring it with ``avg_bench.evaluate`` against server-held labels.

Messages are the scorer's own, with two substitutions so that nothing about the server leaks:
the upload's temporary path becomes the name the submitter gave, and the labels are named by
split and configuration, never by their path on the server.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from avg_bench import Labels, evaluate, load_labels, read_predictions
from avg_bench.errors import AvgBenchError, InputFileError, MissingPredictionsError
from avg_bench.predictions import PredictionSet
from avg_bench.results import Results
from avg_bench.spec import AVG_V1

#: Metrics the table shows (the full results JSON keeps every metric).
TABLE_METRICS = ("acc@1km", "acc@25km", "acc@200km", "acc@750km", "acc@2500km", "geoscore", "median_km", "mean_km")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def display_name(filename: str | None) -> str:
    """The upload's own file name, reduced to a harmless base name for messages."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _SAFE_NAME.sub("_", base).strip("._")[:100]
    return base or "predictions.jsonl"


class ServerLabels:
    """The labels the server holds: ``DIR/<config>/<split>.parquet`` (or ``.jsonl``), loaded once each."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._cache: dict[tuple[str, str], Labels] = {}
        self._lock = threading.Lock()

    def available(self) -> list[tuple[str, str]]:
        """``(config, split)`` pairs with a labels file."""
        found = []
        for config in AVG_V1.configs:
            for split in ("val", "test"):
                if self._path(config, split) is not None:
                    found.append((config, split))
        return found

    def _path(self, config: str, split: str) -> Path | None:
        for suffix in (".parquet", ".jsonl"):
            path = self.root / config / f"{split}{suffix}"
            if path.is_file():
                return path
        return None

    def get(self, config: str, split: str) -> Labels:
        """The labels of one board, read once and cached (thread-safe)."""
        key = (config, split)
        with self._lock:
            if key not in self._cache:
                path = self._path(config, split)
                if path is None:
                    raise AvgBenchError(f"this leaderboard holds no labels for split {split!r} of configuration {config!r}")
                labels = load_labels(path)
                self._cache[key] = dataclasses.replace(labels, source=f"the {split} split, configuration {config}")
            return self._cache[key]


def check_predictions(path: Path, shown_as: str, labels: Labels) -> PredictionSet:
    """Validate a stored upload completely (format, ids, completeness) with the scorer's messages."""
    try:
        predictions = read_predictions(path, labels)
        predictions.ensure_complete(labels)
    except (InputFileError, MissingPredictionsError) as exc:
        raise renamed(exc, path, shown_as) from None
    return predictions


def renamed(exc: AvgBenchError, path: Path, shown_as: str) -> AvgBenchError:
    """The same error with the temporary path replaced by the submitter's file name."""
    if isinstance(exc, InputFileError):
        return type(exc)(shown_as if exc.source == str(path) else exc.source, exc.line, exc.problem)
    if isinstance(exc, MissingPredictionsError):
        return MissingPredictionsError(shown_as, exc.missing, exc.abstained)
    return AvgBenchError(str(exc).replace(str(path), shown_as))


def score(path: Path, shown_as: str, labels: Labels, *, bootstrap: int, seed: int, split: str, config: str,
          baseline: Path | None = None) -> Results:
    """The official score, exactly as ``avg-bench evaluate`` computes it."""
    try:
        results = evaluate(path, labels, baseline=baseline, bootstrap=bootstrap, seed=seed, split=split, config=config)
    except (InputFileError, MissingPredictionsError) as exc:
        raise renamed(exc, path, shown_as) from None
    return dataclasses.replace(results, predictions={**results.predictions, "source": shown_as})


def summary(results: Results) -> dict[str, Any]:
    """The numbers a table row shows."""
    return {
        "metrics": {
            name: {"value": est.value, "ci_low": est.ci_low, "ci_high": est.ci_high}
            for name, est in results.metrics.items()
            if name in TABLE_METRICS
        },
        "coverage": results.coverage,
        "n": results.counts.labelled,
        "n_locations": results.counts.locations,
    }


def clip_errors_km(predictions: PredictionSet, labels: Labels) -> np.ndarray:
    """Per-clip great-circle error (km), for the map of errors."""
    from avg_bench.geo import haversine_km

    return haversine_km(labels.lat, labels.lon, predictions.lat, predictions.lon)

