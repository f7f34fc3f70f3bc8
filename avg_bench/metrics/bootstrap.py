"""Cluster bootstrap over locations, vectorised, in bounded memory.

Clips of one location share scenery and sound, so they are not independent: resampling clips
would make intervals too narrow. Each resample draws the benchmark's L locations with
replacement and keeps all their clips. A resample is then just a count per location, so a
whole bootstrap is a ``(B, L)`` integer matrix ``W``, and every mean-type metric for every
resample is a matrix product (ratio estimator: weighted clip sum over weighted clip count).

``W`` is never held whole when it is large: :class:`Resamples` hands it out in blocks of rows
sized to :data:`MEMORY_BUDGET` (1,000 resamples of 4.1 M single-clip locations would be a
16 GiB matrix), drawn from one seeded stream, so the draws do not depend on the block size (the sums may differ in
their last bit: a matrix product sums in another order). AVG-sized bootstraps fit in one block.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Union

import numpy as np
from numpy.typing import NDArray

#: Bytes one block of resample rows may take, its temporaries included (peak memory stays well under 1 GB).
MEMORY_BUDGET = 96 * 2**20
#: Bytes per matrix entry while a block is used: int64 draws, int32 counts, float64 copies and gathers.
_BYTES_PER_ENTRY = 32


class Resamples:
    """The bootstrap's ``(resamples, n_clusters)`` draw counts, produced block by block.

    >>> r = Resamples(5, 3, seed=0)
    >>> r.shape, np.array_equal(r.full(), Resamples(5, 3, seed=0, budget_bytes=1).full())
    ((3, 5), True)
    """

    def __init__(self, n_clusters: int, resamples: int, seed: int, *, budget_bytes: int = MEMORY_BUDGET,
                 columns: NDArray[np.bool_] | None = None, width: int | None = None) -> None:
        if n_clusters < 1 or resamples < 1:
            raise ValueError("a bootstrap needs at least one location and one resample")
        self.n_clusters, self.resamples, self.seed = n_clusters, resamples, seed
        self.budget_bytes = budget_bytes
        self.columns = columns
        #: The widest array a block is used with (clips, for medians), for sizing the blocks.
        self.width = max(n_clusters, width or 0)
        self._cached: NDArray[np.int32] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(resamples, locations), as the weight matrix would have."""
        return self.resamples, int(self.columns.sum()) if self.columns is not None else self.n_clusters

    @property
    def rows_per_block(self) -> int:
        """Resamples per block: as many as fit the memory budget at the widest array they meet."""
        return max(1, min(self.resamples, self.budget_bytes // (_BYTES_PER_ENTRY * self.width)))

    def select(self, columns: NDArray[np.bool_], *, width: int | None = None) -> Resamples:
        """The same resamples restricted to some locations (a subgroup), same draws."""
        picked = Resamples(self.n_clusters, self.resamples, self.seed, budget_bytes=self.budget_bytes,
                           columns=columns if self.columns is None else _compose(self.columns, columns),
                           width=max(self.width, width or 0))
        picked._cached = None if self._cached is None else self._cached[:, columns]
        return picked

    def sized_for(self, width: int) -> Resamples:
        """These resamples, in blocks small enough for arrays of ``width`` columns."""
        if width <= self.width:
            return self
        wider = Resamples(self.n_clusters, self.resamples, self.seed, budget_bytes=self.budget_bytes,
                          columns=self.columns, width=width)
        wider._cached = self._cached if wider.rows_per_block >= self.resamples else None
        return wider

    def blocks(self) -> Iterator[NDArray[np.int32]]:
        """Consecutive blocks of rows, ``(rows, n_selected)`` int32, in resample order."""
        if self._cached is not None:
            yield self._cached
            return
        rows = self.rows_per_block
        rng = np.random.default_rng(self.seed)
        done = 0
        while done < self.resamples:
            count = min(rows, self.resamples - done)
            draws = rng.integers(0, self.n_clusters, size=(count, self.n_clusters), dtype=np.int64)
            draws += (np.arange(count, dtype=np.int64) * self.n_clusters)[:, None]
            drawn = np.bincount(draws.ravel(), minlength=count * self.n_clusters).reshape(count, self.n_clusters)
            del draws
            block: NDArray[np.int32] = (drawn if self.columns is None else drawn[:, self.columns]).astype(np.int32)
            if count == self.resamples and self.columns is None:
                self._cached = block  # it fits whole: later subgroups and metrics reuse it
            yield block
            done += count

    def full(self) -> NDArray[np.int32]:
        """The whole matrix (small bootstraps and tests)."""
        return np.concatenate(list(self.blocks()))


def _compose(outer: NDArray[np.bool_], inner: NDArray[np.bool_]) -> NDArray[np.bool_]:
    combined = outer.copy()
    combined[np.flatnonzero(outer)[~inner]] = False
    return combined


#: Resample weights as callers give them: a matrix, or blocks drawn on demand.
Weights = Union[NDArray[np.int32], "Resamples", "_Fixed"]


def as_resamples(weights: Weights) -> Resamples | _Fixed:
    """Weights as an object that yields blocks of resamples (a matrix is one block)."""
    return weights if isinstance(weights, (Resamples, _Fixed)) else _Fixed(np.asarray(weights))


class _Fixed:
    """An explicit weight matrix behaving like :class:`Resamples` (one block)."""

    budget_bytes = MEMORY_BUDGET

    def __init__(self, weights: NDArray[np.int32]) -> None:
        self.weights = weights
        self.shape = weights.shape

    def blocks(self) -> Iterator[NDArray[np.int32]]:
        yield self.weights

    def select(self, columns: NDArray[np.bool_], *, width: int | None = None) -> _Fixed:
        return _Fixed(self.weights[:, columns])

    def sized_for(self, width: int) -> _Fixed:
        return self


def resample_weights(n_clusters: int, resamples: int, seed: int) -> NDArray[np.int32]:
    """How often each cluster is drawn in each resample: shape ``(resamples, n_clusters)``.

    >>> w = resample_weights(5, 3, seed=0)
    >>> w.shape, w.sum(axis=1).tolist()
    ((3, 5), [5, 5, 5])
    """
    return Resamples(n_clusters, resamples, seed).full()


def cluster_sums(values: NDArray[np.float64], cluster: NDArray[np.intp], n_clusters: int,
                 columns: NDArray[np.intp] | None = None) -> NDArray[np.float64]:
    """Per-cluster sums of ``columns`` (default: all), shape ``(n_clusters, n_columns)``."""
    chosen = range(values.shape[1]) if columns is None else columns
    return np.column_stack([np.bincount(cluster, weights=values[:, c], minlength=n_clusters) for c in chosen])


def bootstrap_means(
    values: NDArray[np.float64], cluster: NDArray[np.intp], weights: Weights,
    columns: NDArray[np.intp] | None = None,
) -> NDArray[np.float64]:
    """Clip-level mean of every column (or of ``columns``) in every resample, shape ``(B, n_columns)``.

    NaN where a resample holds none of the clips (possible for a subgroup such as a continent).
    """
    resamples = as_resamples(weights)
    n_clusters = resamples.shape[1]
    sums = cluster_sums(values, cluster, n_clusters, columns)
    counts = np.bincount(cluster, minlength=n_clusters).astype(np.float64)
    out = []
    for block in resamples.blocks():
        w = block.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append((w @ sums) / (w @ counts)[:, None])
    return np.concatenate(out)


def bootstrap_medians(x: NDArray[np.float64], cluster: NDArray[np.intp], weights: Weights) -> NDArray[np.float64]:
    """Median of ``x`` over the clips of every resample, shape ``(B,)``; NaN for an empty resample.

    A resample is a weighted sample (clip weight = its location's draw count); its median is an
    order statistic. Sorting ``x`` once and cutting the sorted clips into ~sqrt(n) blocks, the
    cumulative weight per block locates the block holding the k-th value; a cumulative sum inside
    that block finds it exactly. Even totals average the two middle values, like ``numpy.median``.
    Cost ~B*n, in blocks of resamples sized to the memory budget.

    >>> x = np.array([1.0, 2.0, 3.0, 10.0]); cluster = np.array([0, 0, 1, 2])
    >>> bootstrap_medians(x, cluster, np.array([[1, 1, 1], [0, 0, 3], [2, 1, 0]], dtype=np.int32)).tolist()
    [2.5, 10.0, 2.0]
    """
    resamples = as_resamples(weights)
    n = len(x)
    if n == 0:
        return np.full(resamples.shape[0], np.nan)
    order = np.argsort(x, kind="stable")
    x_sorted, cluster_sorted = x[order], cluster[order]
    n_blocks = max(1, min(n, int(np.sqrt(n))))
    block_of = np.arange(n) * n_blocks // n  # positional blocks: ties in x cannot straddle ambiguity
    starts = np.searchsorted(block_of, np.arange(n_blocks + 1))  # starts[-1] == n
    width = int(np.diff(starts).max())
    n_clusters = resamples.shape[1]
    per_block: NDArray[np.float64] | None = None
    if n_clusters * n_blocks * 8 <= resamples.budget_bytes:
        # The (locations x blocks) clip counts fit: one matrix product per block of resamples gives the
        # cumulative weights, ~2x faster at AVG's size than gathering every clip's weight.
        counts = np.bincount(cluster_sorted * n_blocks + block_of, minlength=n_clusters * n_blocks)
        per_block = counts.reshape(n_clusters, n_blocks).astype(np.float64)
        blocks = resamples.blocks()
    else:  # millions of locations: per-clip weights, in blocks sized for n columns
        blocks = resamples.sized_for(n).blocks()
    out = [_medians_of_block(rows, x_sorted, cluster_sorted, starts, n_blocks, width, per_block) for rows in blocks]
    return np.concatenate(out)


def _medians_of_block(weights: NDArray[np.int32], x_sorted, cluster_sorted, starts, n_blocks: int, width: int,
                      per_block: NDArray[np.float64] | None) -> NDArray[np.float64]:
    n_resamples, n = weights.shape[0], len(x_sorted)
    rows = np.arange(n_resamples)[:, None]
    if per_block is not None:
        cumulative = np.cumsum(weights.astype(np.float64) @ per_block, axis=1)

        def weight_at(position: NDArray[np.intp]) -> NDArray[np.int32]:
            return weights[rows, cluster_sorted[position]]
    else:
        clip_weights = weights[:, cluster_sorted]  # (rows, n): each sorted clip's draw count
        cumulative = np.cumsum(np.add.reduceat(clip_weights, starts[:-1], axis=1, dtype=np.float64), axis=1)

        def weight_at(position: NDArray[np.intp]) -> NDArray[np.int32]:
            return clip_weights[rows, position]
    total = cumulative[:, -1].astype(np.int64)

    def order_statistic(rank: NDArray[np.int64]) -> NDArray[np.float64]:
        block = np.minimum((cumulative < rank[:, None]).sum(axis=1), n_blocks - 1)
        before = np.where(block > 0, cumulative[np.arange(n_resamples), block - 1], 0.0)
        position = starts[block][:, None] + np.arange(width)[None, :]
        inside = position < starts[block + 1][:, None]
        w = np.where(inside, weight_at(np.minimum(position, n - 1)), 0)
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
