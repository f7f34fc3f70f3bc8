"""The per-clip log (``evaluate --per-clip``): every clip's distance, hits and both hierarchies.

What lmms-eval users know as ``--log_samples``: the numbers behind the aggregate, to find the
clips a model gets wrong. Only for splits whose labels are public: on a hidden split the log
would hand out the labels themselves, so it is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from avg_bench.errors import AvgBenchError
from avg_bench.geo.gazetteer import Gazetteer, default_gazetteer
from avg_bench.geo.sphere import haversine_km
from avg_bench.labels import Labels
from avg_bench.predictions import ABSTAINED, PREDICTED, read_predictions
from avg_bench.spec import AVG_V1, BenchmarkSpec


def refuse_hidden(split: str | None, labels: Labels, spec: BenchmarkSpec = AVG_V1) -> None:
    """Raise unless the labels are of a public (val-type) split."""
    for name in (split, labels.split):
        if name in spec.hidden_splits:
            raise AvgBenchError(
                f"--per-clip is refused for the hidden split {name!r}: a per-clip log would publish its labels; "
                "use it on val (or train)"
            )


def clip_records(predictions: Any, labels: Labels, *, spec: BenchmarkSpec = AVG_V1,
                 gazetteer: Gazetteer | None = None) -> Iterator[dict[str, Any]]:
    """One record per labelled clip, in label order; missing or abstained clips have ``pred: null``.

    >>> from avg_bench import labels_from_records
    >>> labels = labels_from_records([{"clip_id": "a", "location_id": "paris", "lat": 48.8566, "lon": 2.3522}])
    >>> record = next(clip_records([{"clip_id": "a", "lat": 48.85, "lon": 2.35}], labels))
    >>> round(record["distance_km"], 3), record["hits"]["city"], record["true"]["country"], record["pred"]["country"]
    (0.751, True, 'FR', 'FR')
    """
    gazetteer = gazetteer or default_gazetteer()
    scored = read_predictions(predictions, labels)
    predicted = scored.predicted
    distance = np.full(len(labels), np.pi * spec.radius_km)
    distance[predicted] = haversine_km(labels.lat[predicted], labels.lon[predicted], scored.lat[predicted],
                                       scored.lon[predicted], radius_km=spec.radius_km)
    pred_hierarchy = gazetteer.reverse(scored.lat[predicted], scored.lon[predicted]) if predicted.any() else None
    pred_row = np.cumsum(predicted) - 1
    state_names = {PREDICTED: "predicted", ABSTAINED: "abstained"}
    for i, clip_id in enumerate(labels.clip_id):
        pred = None
        if pred_hierarchy is not None and predicted[i]:
            j = pred_row[i]
            pred = {"lat": float(scored.lat[i]), "lon": float(scored.lon[i]),
                    **{level: pred_hierarchy.level(level)[j] for level in labels.hierarchy.LEVELS}}
        yield {
            "clip_id": clip_id,
            "location_id": labels.location_id[i],
            "state": state_names.get(int(scored.state[i]), "missing"),
            "distance_km": round(float(distance[i]), 6),
            "hits": {level: bool(distance[i] <= radius) for level, radius in spec.thresholds_km.items()},
            "true": {"lat": float(labels.lat[i]), "lon": float(labels.lon[i]),
                     **{level: labels.hierarchy.level(level)[i] for level in labels.hierarchy.LEVELS}},
            "pred": pred,
        }


def write_clip_log(path: str | Path, predictions: Any, labels: Labels, *, split: str | None = None,
                   spec: BenchmarkSpec = AVG_V1) -> int:
    """Write the log as JSON Lines (atomically); returns the number of clips written."""
    from avg_bench.cache import atomic_write_bytes

    refuse_hidden(split, labels, spec)
    lines = [json.dumps(record, ensure_ascii=False) for record in clip_records(predictions, labels, spec=spec)]
    atomic_write_bytes(Path(path), ("\n".join(lines) + "\n").encode("utf-8"))
    return len(lines)
