"""Cluster bootstrap over locations, vectorised.

Clips of one location share scenery and sound, so they are not independent: resampling clips
would make intervals too narrow. Each resample draws the benchmark's L locations with
replacement and keeps all their clips. A resample is then just a count per location, so a
whole bootstrap is one ``(B, L)`` integer matrix ``W``, and every mean-type metric for every
resample is one matrix product (ratio estimator: weighted clip sum over weighted clip count).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

def resample_weights(n_clusters: int, resamples: int, seed: int) -> NDArray[np.int32]:
    """How often each cluster is drawn in each resample: shape ``(resamples, n_clusters)``.

    >>> w = resample_weights(5, 3, seed=0)
    >>> w.shape, w.sum(axis=1).tolist()
    ((3, 5), [5, 5, 5])
    """
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_clusters, size=(resamples, n_clusters), dtype=np.int64)
    offsets = (np.arange(resamples, dtype=np.int64) * n_clusters)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=resamples * n_clusters)
    return counts.reshape(resamples, n_clusters).astype(np.int32)


def cluster_sums(values: NDArray[np.float64], cluster: NDArray[np.intp], n_clusters: int) -> NDArray[np.float64]:
    """Per-cluster column sums, shape ``(n_clusters, n_columns)``."""
    return np.column_stack([np.bincount(cluster, weights=column, minlength=n_clusters) for column in values.T])


def bootstrap_means(
    values: NDArray[np.float64], cluster: NDArray[np.intp], weights: NDArray[np.int32]
) -> NDArray[np.float64]:
    """Clip-level mean of every column in every resample, shape ``(B, n_columns)``.

    NaN where a resample holds none of the clips (possible for a subgroup such as a continent).
    """
    n_clusters = weights.shape[1]
    sums = cluster_sums(values, cluster, n_clusters)
    counts = np.bincount(cluster, minlength=n_clusters).astype(np.float64)
    w = weights.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w @ sums) / (w @ counts)[:, None]


def bootstrap_medians(x: NDArray[np.float64], cluster: NDArray[np.intp], weights: NDArray[np.int32]) -> NDArray[np.float64]:
    """Median of ``x`` over the clips of every resample, shape ``(B,)``; NaN for an empty resample.

    A resample is a weighted sample (clip weight = its location's draw count); its median is an
    order statistic. Sorting ``x`` once and cutting the sorted clips into ~sqrt(n) blocks, one
    matrix product gives every resample's cumulative weight per block, which locates the block
    holding the k-th value; a cumulative sum inside that block finds it exactly. Even totals
    average the two middle values, like ``numpy.median``. Cost ~B*L*sqrt(n), not B*n.

    >>> x = np.array([1.0, 2.0, 3.0, 10.0]); cluster = np.array([0, 0, 1, 2])
    >>> bootstrap_medians(x, cluster, np.array([[1, 1, 1], [0, 0, 3], [2, 1, 0]], dtype=np.int32)).tolist()
    [2.5, 10.0, 2.0]
    """
    n_resamples, n_clusters = weights.shape
    n = len(x)
    if n == 0:
        return np.full(n_resamples, np.nan)
    order = np.argsort(x, kind="stable")
    x_sorted, cluster_sorted = x[order], cluster[order]
    n_blocks = max(1, min(n, int(np.sqrt(n))))
    block_of = np.arange(n) * n_blocks // n  # positional blocks: ties in x cannot straddle ambiguity
    starts = np.searchsorted(block_of, np.arange(n_blocks + 1))  # starts[-1] == n
    per_block = np.bincount(cluster_sorted * n_blocks + block_of, minlength=n_clusters * n_blocks)
    cumulative = np.cumsum(weights.astype(np.float64) @ per_block.reshape(n_clusters, n_blocks), axis=1)
    total = cumulative[:, -1].astype(np.int64)
    width = int(np.diff(starts).max())
    rows = np.arange(n_resamples)[:, None]

    def order_statistic(rank: NDArray[np.int64]) -> NDArray[np.float64]:
        block = np.minimum((cumulative < rank[:, None]).sum(axis=1), n_blocks - 1)
        before = np.where(block > 0, cumulative[np.arange(n_resamples), block - 1], 0.0)
        position = starts[block][:, None] + np.arange(width)[None, :]
        inside = position < starts[block + 1][:, None]
        w = np.where(inside, weights[rows, cluster_sorted[np.minimum(position, n - 1)]], 0)
        offset = (np.cumsum(w, axis=1) < (rank - before)[:, None]).sum(axis=1)
        return x_sorted[np.minimum(starts[block] + offset, n - 1)]

    medians = (order_statistic(np.maximum((total + 1) // 2, 1)) + order_statistic(total // 2 + 1)) / 2
    medians[total == 0] = np.nan
    return medians


def percentile_interval(estimates: NDArray[np.float64], confidence: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Percentile bootstrap interval per column, ignoring empty (NaN) resamples.

    Same numbers as ``np.nanpercentile`` (linear interpolation), without its per-column Python loop:
    a subgroup's resamples are often empty, and hundreds of subgroups (countries) each paid for it.

    >>> x = np.array([[1.0, np.nan], [2.0, 5.0], [np.nan, 7.0], [4.0, 6.0]])
    >>> [v.tolist() for v in percentile_interval(x, 0.5)]
    [[1.5, 5.5], [3.0, 6.5]]
    """
    tail = (1.0 - confidence) / 2
    if not np.isnan(estimates).any():
        low, high = np.percentile(estimates, [tail * 100, 100 - tail * 100], axis=0)
        return low, high
    ordered = np.sort(estimates, axis=0)  # NaN sort last
    valid = (~np.isnan(estimates)).sum(axis=0)

    def quantile(q: float) -> NDArray[np.float64]:
        position = q * np.maximum(valid - 1, 0)
        below = np.floor(position).astype(np.intp)
        above = np.minimum(below + 1, np.maximum(valid - 1, 0))
        fraction = position - below
        a = np.take_along_axis(ordered, below[None, :], axis=0)[0]
        b = np.take_along_axis(ordered, above[None, :], axis=0)[0]
        value = np.where(fraction >= 0.5, b - (b - a) * (1 - fraction), a + (b - a) * fraction)  # numpy's lerp
        return np.where(valid > 0, value, np.nan)

    return quantile(tail), quantile(1.0 - tail)


def paired_p_value(observed: NDArray[np.float64], resampled: NDArray[np.float64]) -> NDArray[np.float64]:
    """Two-sided bootstrap p-value of a difference, per column (shift method).

    Under the null the resampled differences, centred on the observed one, are as far from zero
    as the observed one: ``p = (1 + #{|d_b - d| >= |d|}) / (B + 1)``. Identical files give 1.

    >>> paired_p_value(np.array([0.0, 1.0]), np.array([[0.0, 1.1], [0.0, 0.9], [0.0, 1.0]])).tolist()
    [1.0, 0.25]
    """
    resampled = resampled[~np.isnan(resampled).any(axis=1)]
    extreme = np.abs(resampled - observed) >= np.abs(observed) - 1e-12 * np.maximum(1.0, np.abs(observed))
    return (1.0 + extreme.sum(axis=0)) / (len(resampled) + 1.0)
