"""From per-clip values to reported numbers: micro, location-balanced macro, subgroups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from avg_bench.metrics.bootstrap import Resamples, as_resamples, bootstrap_means, bootstrap_medians, percentile_interval
from avg_bench.metrics.definitions import Metric
from avg_bench.results import Estimate


@dataclass(frozen=True)
class Summary:
    """Point estimates ``(M,)`` and, with a bootstrap, their resampled values ``(B, M)``."""

    point: NDArray[np.float64]
    resampled: NDArray[np.float64] | None

    def estimates(self, metrics: tuple[Metric, ...], confidence: float) -> dict[str, Estimate]:
        """Point value and percentile interval of each metric (no interval without resamples)."""
        if self.resampled is None:
            return {m.name: Estimate(float(v)) for m, v in zip(metrics, self.point)}
        low, high = percentile_interval(self.resampled, confidence)
        return {
            m.name: Estimate(float(v), float(lo), float(hi))
            for m, v, lo, hi in zip(metrics, self.point, low, high)
        }

    def __sub__(self, other: Summary) -> Summary:
        resampled = None
        if self.resampled is not None:
            assert other.resampled is not None, "a paired difference needs both summaries resampled"
            resampled = self.resampled - other.resampled
        return Summary(self.point - other.point, resampled)


def _median_columns(metrics: tuple[Metric, ...]) -> NDArray[np.bool_]:
    return np.array([m.statistic == "median" for m in metrics])


def column_medians(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``np.median(x, axis=0)`` bit for bit, at a tenth of its cost on small columns.

    Why: the per-continent and per-country breakdowns summarise ~230 groups, and ``np.median``'s
    fixed overhead (~0.1 ms a call) was a tenth of a whole ``avg-bench evaluate``. The middle
    elements of a sort, averaged as ``np.median`` averages them; NaN columns go to ``np.median``.
    """
    n = x.shape[0]
    if n == 0 or np.isnan(x).any():
        return np.median(x, axis=0)
    ordered = np.sort(x, axis=0)
    return (ordered[(n - 1) // 2] + ordered[n // 2]) / 2


def summarise(
    values: NDArray[np.float64],
    metrics: tuple[Metric, ...],
    cluster: NDArray[np.intp],
    weights: NDArray[np.int32] | Resamples | None,
) -> Summary:
    """Clip-level (micro) statistics of every column, resampled by location when ``weights``."""
    median = _median_columns(metrics)
    point = np.empty(len(metrics))
    point[~median] = values[:, ~median].mean(axis=0)
    point[median] = column_medians(values[:, median])
    if weights is None:
        return Summary(point, None)
    resamples = as_resamples(weights)
    present = np.bincount(cluster, minlength=resamples.shape[1]) > 0
    if not present.all():  # a subgroup: drop the locations it has no clips in
        cluster = (np.cumsum(present) - 1)[cluster]
        resamples = resamples.select(present)
    resampled = np.empty((resamples.shape[0], len(metrics)))
    resampled[:, ~median] = bootstrap_means(values, cluster, resamples, columns=np.flatnonzero(~median))
    for column in np.flatnonzero(median):
        resampled[:, column] = bootstrap_medians(values[:, column], cluster, resamples)
    return Summary(point, resampled)


def per_location(values: NDArray[np.float64], metrics: tuple[Metric, ...], cluster: NDArray[np.intp], n_clusters: int) -> NDArray[np.float64]:
    """Each metric computed within each location, shape ``(n_clusters, M)``; every cluster needs a clip."""
    counts = np.bincount(cluster, minlength=n_clusters)
    table = np.empty((n_clusters, len(metrics)))
    for column, metric in enumerate(metrics):
        x = values[:, column]
        if metric.statistic == "mean":
            table[:, column] = np.bincount(cluster, weights=x, minlength=n_clusters) / counts
        else:
            order = np.lexsort((x, cluster))
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            x_sorted = x[order]
            table[:, column] = (x_sorted[starts + (counts - 1) // 2] + x_sorted[starts + counts // 2]) / 2
    return table


def summarise_macro(
    values: NDArray[np.float64],
    metrics: tuple[Metric, ...],
    cluster: NDArray[np.intp],
    weights: NDArray[np.int32] | Resamples | None,
    n_clusters: int,
) -> Summary:
    """Location-balanced average: the mean over locations of each location's own metric."""
    table = per_location(values, metrics, cluster, n_clusters)
    point = table.mean(axis=0)
    if weights is None:
        return Summary(point, None)
    blocks = [(w.astype(np.float64) @ table) / w.sum(axis=1, keepdims=True) for w in as_resamples(weights).blocks()]
    return Summary(point, np.concatenate(blocks))
