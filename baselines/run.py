"""Fit, predict, write and (optionally) score a baseline in one call: ``avg-bench baseline run``.

Predictions go to ``--out`` (default ``predictions/<name>-<config>-<split>.jsonl``) with a sidecar
``<out>.run.json`` recording the baseline, its options, seed, dataset revision and timings, so a
results table can always say what produced each row.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avg_bench.cache import atomic_write_bytes
from avg_bench.errors import AvgBenchError
from avg_bench.spec import AVG_V1
from baselines.dataset import ClipSplit, load_split
from baselines.registry import create


@dataclass
class BaselineRun:
    """One baseline run: where its predictions and run record were written, and the scores when evaluated."""
    name: str
    predictions_path: Path
    record_path: Path
    record: dict[str, Any]
    results: Any = None  # avg_bench.results.Results when evaluated


def default_output(name: str, config: str, split: str) -> Path:
    """The default predictions path: ``predictions/<name>-<config>-<split>.jsonl``."""
    return Path("predictions") / f"{name}-{config}-{split}.jsonl"


def run_baseline(
    name: str,
    *,
    data: str | Path | None,
    config: str = "seen",
    split: str = "val",
    train_split: str = "train",
    out: str | Path | None = None,
    options: dict[str, Any] | None = None,
    seed: int = 0,
    evaluate: bool = False,
    bootstrap: int = AVG_V1.default_bootstrap,
    progress: bool = True,
    limit: int | None = None,
) -> BaselineRun:
    """Fit ``name`` on ``train_split``, predict ``split``, write predictions; score them if asked."""
    if split == train_split:
        raise AvgBenchError(f"--split {split} is also the training split: predict a held-out split (val, test)")
    if evaluate and split in AVG_V1.hidden_splits:
        raise AvgBenchError(f"--evaluate needs labels, and the {split!r} split's are hidden: submit it to the leaderboard")
    predictor = create(name, options, seed=seed, progress=progress)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    train = load_split(data, train_split, config=config)
    target = load_split(data, split, config=config)
    if limit is not None:
        target = target.head(limit)
    timings["load_s"] = time.perf_counter() - start
    start = time.perf_counter()
    predictor.fit(train)
    timings["fit_s"] = time.perf_counter() - start
    start = time.perf_counter()
    predictions = predictor.predict(target)
    timings["predict_s"] = time.perf_counter() - start
    out_path = Path(out) if out else default_output(name, config, split)
    predictions.write_jsonl(out_path)
    record = {
        "baseline": predictor.describe(),
        "limit": limit,
        "config": config,
        "train_split": train_split,
        "split": split,
        "dataset_revision": target.revision,
        "clips": len(target),
        "abstained": int(predictions.abstained.sum()),
        "timings": {key: round(value, 3) for key, value in timings.items()},
    }
    record_path = out_path.with_name(out_path.name.removesuffix(".jsonl") + ".run.json")
    atomic_write_bytes(record_path, json.dumps(record, indent=2).encode())
    run = BaselineRun(name, out_path, record_path, record)
    if evaluate:
        from avg_bench.evaluation import evaluate as score

        labels = _labels_of(target, limited=limit is not None)
        run.results = score(out_path, labels, allow_missing=record["abstained"] > 0, bootstrap=bootstrap,
                            seed=seed, split=split, config=config)
    return run


def _labels_of(split: ClipSplit, limited: bool):
    """What to score against.

    The split's shards (with their revision), or, after ``--limit``, the labels of the clips that ran, taken from the split already in memory.
    """
    if not limited:
        return split.shards
    from avg_bench.labels import labels_from_records

    lat, lon = split.require_labels("--evaluate")
    columns = {key: split.labels[key] for key in ("location_id", "continent", "country", "admin1", "city")}
    records = [{"clip_id": clip_id, "lat": float(lat[i]), "lon": float(lon[i]),
                **{key: values[i] for key, values in columns.items()}}
               for i, clip_id in enumerate(split.clip_ids)]
    return labels_from_records(records, source=f"{split.config}/{split.split} (first {len(split)} clips)")
