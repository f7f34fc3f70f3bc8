"""The AVG metrics and their per-clip values (DESIGN §3).

Every metric is a statistic of one per-clip column: the mean (accuracies, GeoScore, mean error)
or the median (median error). Keeping them as columns of one matrix lets the bootstrap resample
all of them with one matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from avg_bench.geo.gazetteer import Hierarchy
from avg_bench.geo.sphere import haversine_km
from avg_bench.spec import BenchmarkSpec


@dataclass(frozen=True)
class Metric:
    """One reported number."""

    name: str  # key in results files
    label: str  # column title in tables
    statistic: str  # "mean" or "median" of the per-clip column
    higher_is_better: bool
    is_fraction: bool  # shown as a percentage


def metric_table(spec: BenchmarkSpec) -> tuple[Metric, ...]:
    """The metrics of ``spec`` in report order: thresholds, summaries, semantic levels."""
    thresholds = tuple(
        Metric(f"acc@{radius:g}km", f"{level.capitalize()} {radius:g} km", "mean", True, True)
        for level, radius in spec.thresholds_km.items()
    )
    summaries = (
        Metric("geoscore", "GeoScore", "mean", True, False),
        Metric("mean_km", "Mean error km", "mean", False, False),
        Metric("median_km", "Median error km", "median", False, False),
    )
    semantic = tuple(
        Metric(f"sem_{level}", f"{level.capitalize()} (sem.)", "mean", True, True)
        for level in spec.semantic_levels
    )
    return thresholds + summaries + semantic


def worst_case_km(spec: BenchmarkSpec) -> float:
    """Distance charged for a missing or abstained prediction: half the great circle."""
    return float(np.pi * spec.radius_km)


def geoscore(distance_km: NDArray[np.float64], spec: BenchmarkSpec) -> NDArray[np.float64]:
    """5000 * exp(-d / 1492.7) per clip.

    >>> from avg_bench.spec import AVG_V1
    >>> geoscore(np.array([0.0, 1492.7]), AVG_V1).round(3).tolist()
    [5000.0, 1839.397]
    """
    return spec.geoscore_max * np.exp(-distance_km / spec.geoscore_scale_km)


def clip_scores(
    *,
    true_lat: NDArray[np.float64],
    true_lon: NDArray[np.float64],
    pred_lat: NDArray[np.float64],
    pred_lon: NDArray[np.float64],
    predicted: NDArray[np.bool_],
    true_hierarchy: Hierarchy,
    pred_hierarchy: Hierarchy | None,
    spec: BenchmarkSpec,
) -> NDArray[np.float64]:
    """Per-clip values, shape ``(n_clips, n_metrics)``, columns in :func:`metric_table` order.

    Clips without a prediction score the worst case: ``d = pi * R``, GeoScore 0, every level missed.
    ``pred_hierarchy`` covers only the predicted clips (the gazetteer never sees placeholders).

    >>> from avg_bench.spec import AVG_V1
    >>> h = Hierarchy(*(np.array([v], dtype=object) for v in ("EU", "FR", "Ile-de-France", "Paris")))
    >>> row = clip_scores(true_lat=np.array([0.0]), true_lon=np.array([0.0]), pred_lat=np.array([0.0]),
    ...     pred_lon=np.array([0.0]), predicted=np.array([True]), true_hierarchy=h, pred_hierarchy=h, spec=AVG_V1)
    >>> row.tolist()
    [[1.0, 1.0, 1.0, 1.0, 1.0, 5000.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]]
    """
    n = len(true_lat)
    distance = np.full(n, worst_case_km(spec))
    distance[predicted] = haversine_km(
        true_lat[predicted], true_lon[predicted], pred_lat[predicted], pred_lon[predicted], radius_km=spec.radius_km
    )
    columns: list[NDArray[np.float64] | NDArray[np.bool_]] = [distance <= radius for radius in spec.thresholds_km.values()]
    score = geoscore(distance, spec)
    score[~predicted] = 0.0
    columns += [score, distance, distance]
    if pred_hierarchy is not None and predicted.any():
        matches = true_hierarchy.take(predicted).matches(pred_hierarchy)
    else:
        matches = {level: np.zeros(0, dtype=bool) for level in spec.semantic_levels}
    for level in spec.semantic_levels:
        column = np.zeros(n, dtype=bool)
        column[predicted] = matches[level]
        columns.append(column)
    return np.column_stack(columns).astype(np.float64)
