"""Retrieval baselines (``knn-audio``, ``knn-visual``, ``knn-av``).

They geolocate a clip by its nearest training clips in a frozen embedding space.

A query clip's embedding is compared with every training ("gallery") clip's embedding by **cosine
similarity**; the location is then either the best neighbour's coordinates (``method="best"``) or a
weighted vote on the sphere among the ``k`` nearest (``method="weighted"``).

* :func:`l2_normalise` puts rows on the unit sphere, so a dot product is a cosine;
* :func:`top_k_cosine` returns the ``k`` best gallery rows of every query, sorted by descending score,
  **ties broken by the lower gallery index**: deterministic, and equal to the first ``k`` columns of
  a stable ``argsort`` of the full float32 similarity matrix of the unit-normalised rows;
* :func:`vote_location` turns the neighbours' coordinates into one prediction per query;
* :class:`KnnLocator` is the fitted baseline: ``fit(embeddings, lat, lon)``, then ``predict``.

The search is exact and pure numpy: one float32 matrix product (BLAS) per block of queries, then a
vectorised selection. Torch is never imported unless ``backend="torch"`` is asked for, and then
only replaces the matrix product. On the 2-core reference machine, in interleaved runs of
``benchmarks/bench_retrieval.py``, torch's MKL ranged from as fast as numpy's OpenBLAS to ~10%
faster end to end: below the 15% that would justify a torch default, so numpy is the default.

Selecting the ``k`` best of each row without sorting it
--------------------------------------------------------
The scores of a block are split into ``m = 512`` disjoint column groups (column ``j`` belongs to
group ``j mod m``); one vectorised ``max`` gives each group's maximum, and the ``k``-th largest group
maximum ``t`` is a lower bound of the ``k``-th largest score (the ``k`` best groups hold ``k``
distinct scores ``>= t``). Every score of the top ``k``, and every score tied with the ``k``-th, is
therefore ``>= t`` and lies in a group whose maximum is ``>= t``: only those groups (about ``k`` per
row on real data) are read again. Their candidates are ranked by one exact ``int64`` key per score,
``(-score, index)`` (the float32 bits mapped to an order-preserving integer, then the index), which
makes ties go to the lower index without a second sort key and lets blocks of the gallery be merged
exactly. The selection costs about one pass over the scores, rather than a per-row
``argpartition`` (4-5 times slower on the benchmark).

Threads
-------
With several cores, worker threads each take whole blocks of queries: normalise them, multiply with a
single-threaded BLAS, select. numpy releases the GIL throughout, so the selection runs in parallel
too, and no BLAS thread busy-waits beside it (OpenBLAS spins for ~30 ms after each call, which
made a multi-threaded-BLAS-then-select loop 30-50% slower on 2 cores). While a search runs, BLAS is set to
one thread per caller (threadpoolctl) and restored afterwards; the workers never exceed BLAS's own
thread setting, so ``OMP_NUM_THREADS=1`` or an enclosing ``threadpool_limits(1)`` still means one core.

Memory
------
A search holds, besides its inputs and the unit-norm gallery (``4·G·D`` bytes; :class:`KnnLocator`
keeps it from ``fit``, :func:`top_k_cosine` makes it): the results (``12·Q·k`` bytes), a squared-norm
per query (``4·Q``), and per worker one score block of at most ``DEFAULT_BLOCK_BYTES`` (32 MiB; a
gallery over 32,768 clips is processed in chunks so that the block keeps that size), its queries'
unit-norm copy and the selection's scratch: a few MB on typical data, at most about
``100·max(2**18, G)`` bytes when many scores tie (the candidates are then gathered a few rows at a
time). None of it grows with the number of queries except the results. Measured for the
benchmark (20,000 x 512 queries, 14,000 gallery clips, k = 10, 2 workers): a peak of about 80 MB
of numpy allocations during ``predict``, two 33.5 MB score blocks included.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from avg_bench.geo.sphere import check_coordinates as _geo_check_coordinates
from avg_bench.geo.sphere import from_unit_vectors, to_unit_vectors
from baselines.errors import BaselineInputError, NotFittedError

__all__ = [
    "DEFAULT_BLOCK_BYTES",
    "DEFAULT_K",
    "DEFAULT_TEMPERATURE",
    "MIN_RESULTANT",
    "KnnLocator",
    "l2_normalise",
    "top_k_cosine",
    "vote_location",
]

Method = Literal["best", "weighted"]
Backend = Literal["numpy", "torch"]

#: Neighbours used by :meth:`KnnLocator.predict` unless told otherwise.
DEFAULT_K = 10
#: Softmax temperature of the weighted vote, in units of cosine similarity (this project's choice:
#: a neighbour 0.05 less similar than the best gets e^-1 of its weight). Tune it on ``val``.
DEFAULT_TEMPERATURE = 0.05
#: Length of the weighted mean of unit vectors (weights summing to 1) below which the neighbours
#: are taken to cancel out (e.g. two antipodal ones) and the vote falls back to the best neighbour.
MIN_RESULTANT = 1e-6
#: Bytes of one worker's block of scores: ``block_rows = max(256, 32 MiB / (4·G))`` queries by
#: default (599 for the AVG gallery of 14,000 clips), and a gallery larger than 32 MiB / (4·256)
#: = 32,768 clips is split into chunks so that the block stays this size. Tuned by
#: ``benchmarks/bench_retrieval.py``: a single-threaded matrix product re-reads the whole gallery
#: for every block, so blocks of fewer rows are slower (16 MiB: 7-20%), while 2-4x larger blocks
#: gained 3-10%, within the noise of the shared 2-core machine, for 2-4x the memory.
DEFAULT_BLOCK_BYTES = 32 * 2**20
#: Groups of columns per row in the selection (at least ``8·k``); see the module docstring.
_GROUPS = 512
#: Candidate scores gathered at once; bounds the selection's memory when many scores tie.
_GATHER_LIMIT = 2**18
_METHODS = ("best", "weighted")
_BACKENDS = ("numpy", "torch")
#: Worker threads of the search (None: the usable cores, at most 8); each gets >= 32 queries.
_WORKERS: int | None = None
_MIN_ROWS_PER_WORKER = 32
#: Fewest queries in a default block: below that the matrix product re-reads the gallery too often
#: (a larger gallery is then split into chunks instead; see :func:`_search`).
_MIN_BLOCK_ROWS = 256
_KEY_PAD = np.iinfo(np.int64).max
_LOW32 = np.int64(0xFFFFFFFF)


def l2_normalise(x: ArrayLike) -> NDArray[np.floating]:
    """Scale every row (the last axis) of ``x`` to unit Euclidean length.

    Floating inputs keep their dtype, others become float64. Rows that are all zeros stay zeros
    (their cosine similarity with anything is then 0). Rows whose squared norm would overflow or
    underflow in the working precision are rescaled first, so tiny and huge rows are exact too.

    >>> l2_normalise([[3, 4], [0, 0]]).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    >>> l2_normalise(np.array([1e30, 1e30], dtype=np.float32)).astype(float).round(6).tolist()
    [0.707107, 0.707107]
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    rows = x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)
    info = np.finfo(x.dtype)
    with np.errstate(over="ignore", under="ignore"):
        squared = np.einsum("ij,ij->i", rows, rows)
    # Squares that may have overflowed or lost bits to underflow (also NaN): rescale those rows.
    risky = ~((squared >= np.sqrt(info.tiny)) & (squared <= np.sqrt(info.max)))
    norm = np.sqrt(squared)
    if risky.any():
        scale = np.max(np.abs(rows[risky]), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            scaled = rows[risky] / scale[:, None]
            norm[risky] = scale * np.sqrt(np.einsum("ij,ij->i", scaled, scaled))
    norm = norm.astype(x.dtype, copy=False)[:, None]
    return np.divide(rows, norm, out=np.zeros_like(rows), where=norm > 0).reshape(x.shape)


def top_k_cosine(
    queries: ArrayLike,
    gallery: ArrayLike,
    k: int,
    *,
    block_rows: int | None = None,
    backend: Backend = "numpy",
) -> tuple[NDArray[np.float32], NDArray[np.intp]]:
    """Exact ``k`` nearest gallery rows of every query by cosine similarity.

    Returns ``scores`` (``(Q, k)`` float32, descending along each row) and ``indices`` (``(Q, k)``
    gallery row numbers). Ties go to the lower gallery index, so the result equals the first ``k``
    columns of ``np.argsort(-S, axis=1, kind="stable")`` where ``S`` is the float32 similarity
    matrix of the unit-normalised rows (an all-zero row has cosine 0 with everything). Queries are
    processed ``block_rows`` at a time (default: as many as fill a ``DEFAULT_BLOCK_BYTES`` score
    block, at least 256), by one worker thread per core, so memory stays bounded whatever ``Q``
    (module docstring: *Memory*). ``backend="torch"`` computes the matrix product with torch
    (imported then).

    >>> gallery = [[1, 0], [0, 1], [1, 1], [0, 1]]
    >>> scores, indices = top_k_cosine([[0, 2], [3, 2.9]], gallery, k=3)
    >>> indices.tolist()  # rows 1 and 3 tie: the lower index comes first
    [[1, 3, 2], [2, 0, 1]]
    >>> scores.astype(float).round(4).tolist()
    [[1.0, 1.0, 0.7071], [0.9999, 0.719, 0.695]]
    """
    queries = _as_matrix(queries, "queries", allow_empty_rows=True)
    gallery = _as_matrix(gallery, "gallery")
    if queries.shape[1] != gallery.shape[1]:
        raise BaselineInputError(
            f"queries have {queries.shape[1]} columns but the gallery has {gallery.shape[1]}"
        )
    k = _check_k(k, len(gallery))
    block_rows = _check_block_rows(block_rows)
    backend = _check_choice(backend, "backend", _BACKENDS)
    return _search(queries, l2_normalise(gallery), k, block_rows, backend)


def vote_location(
    neighbour_lat: ArrayLike,
    neighbour_lon: ArrayLike,
    scores: ArrayLike,
    *,
    method: Method = "best",
    temperature: float = DEFAULT_TEMPERATURE,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One location per query from its neighbours' coordinates and similarity scores.

    All three inputs have shape ``(Q, k)`` (one row per query). ``method="best"`` returns the
    coordinates of the highest-scoring neighbour (the first one on ties). ``method="weighted"``
    returns the **weighted mean direction** of the neighbours' unit vectors ``x_i``, i.e. the
    normalised sum ``sum_i w_i x_i / |sum_i w_i x_i|`` with ``w = softmax(scores / temperature)``:
    the maximum-likelihood mean direction of a von Mises-Fisher distribution fitted to the
    weighted neighbours. It follows great circles (two equally weighted points give their geodesic
    midpoint) and is blind to the antimeridian (179.9 and -179.9 average to 180, not 0). Where the
    weighted sum nearly cancels (length below ``MIN_RESULTANT``, e.g. two antipodal neighbours)
    the direction is meaningless and the best neighbour is returned instead; where all ``k``
    neighbours share one location it is returned exactly.

    >>> lat, lon = vote_location([[0.0, 0.0]], [[179.9, -179.9]], [[0.8, 0.8]], method="weighted")
    >>> round(float(lat[0]), 9), round(abs(float(lon[0])), 9)
    (0.0, 180.0)
    >>> vote_location([[10.0, 20.0]], [[30.0, 40.0]], [[0.5, 0.9]])  # best: the higher score
    (array([20.]), array([40.]))
    """
    lat, lon = check_coordinates(neighbour_lat, neighbour_lon)
    scores = np.asarray(scores, dtype=np.float64)
    if lat.ndim != 2 or lat.shape != lon.shape or lat.shape != scores.shape:
        raise BaselineInputError(
            "neighbour_lat, neighbour_lon and scores must have the same shape (queries, k), "
            f"found {lat.shape}, {lon.shape} and {scores.shape}"
        )
    if lat.shape[1] == 0:
        raise BaselineInputError("every query needs at least one neighbour (k >= 1), found k = 0")
    if not np.isfinite(scores).all():
        raise BaselineInputError("scores must be finite numbers")
    method = _check_choice(method, "method", _METHODS)
    rows = np.arange(len(lat))
    best = np.argmax(scores, axis=1)
    best_lat, best_lon = lat[rows, best], lon[rows, best]
    if method == "best" or lat.shape[1] == 1 or len(lat) == 0:
        return best_lat, best_lon
    logits = (scores - scores[rows, best][:, None]) / _check_temperature(temperature)
    weights = np.exp(logits)
    weights /= weights.sum(axis=1, keepdims=True)
    mean = np.einsum("qk,qkd->qd", weights, to_unit_vectors(lat, lon))
    length = np.linalg.norm(mean, axis=1)
    exact = (length < MIN_RESULTANT) | (
        (lat == lat[:, :1]).all(axis=1) & (lon == lon[:, :1]).all(axis=1)
    )
    mean[exact] = 1.0  # any non-zero vector; these rows are replaced below
    vote_lat, vote_lon = from_unit_vectors(mean)
    return np.where(exact, best_lat, vote_lat), np.where(exact, best_lon, vote_lon)


class KnnLocator:
    """The retrieval baseline: remember the training clips, predict by nearest neighbours.

    ``fit(embeddings, lat, lon)`` stores unit-normalised float32 copies of the ``(N, D)``
    training embeddings and their coordinates; ``predict(embeddings, k=..., method=...)``
    returns ``(lat, lon, scores)`` for each query row: the voted location (see
    :func:`vote_location`) and the ``(Q, k)`` cosine scores of its neighbours, best first.
    ``neighbours`` returns the scores and gallery indices themselves. Inputs are checked:
    shapes, finite values, non-zero embedding rows, coordinates in range (errors are
    ``ValueError`` with a message that names the problem). ``temperature`` is the weighted vote's
    softmax temperature; ``block_rows`` and ``backend`` are passed to the search
    (:func:`top_k_cosine`).

    >>> paris, nairobi, tokyo = (48.86, 2.35), (-1.29, 36.82), (35.68, 139.65)
    >>> lat, lon = zip(paris, nairobi, tokyo)
    >>> locator = KnnLocator().fit([[1, 0], [0, 1], [-1, 0]], lat, lon)
    >>> lat, lon, scores = locator.predict([[0.9, 0.1], [-0.2, 0.9]], k=2)
    >>> lat.tolist(), lon.tolist()
    ([48.86, -1.29], [2.35, 36.82])
    >>> scores.astype(float).round(3).tolist()
    [[0.994, 0.11], [0.976, 0.217]]
    """

    def __init__(
        self,
        *,
        temperature: float = DEFAULT_TEMPERATURE,
        block_rows: int | None = None,
        backend: Backend = "numpy",
    ) -> None:
        self.temperature = _check_temperature(temperature)
        self.block_rows = _check_block_rows(block_rows)
        self.backend = _check_choice(backend, "backend", _BACKENDS)
        self._gallery: NDArray[np.float32] | None = None
        self._lat: NDArray[np.float64] | None = None
        self._lon: NDArray[np.float64] | None = None

    def fit(self, embeddings: ArrayLike, lat: ArrayLike, lon: ArrayLike) -> KnnLocator:
        """Store the training clips: ``(N, D)`` embeddings and their ``(N,)`` coordinates."""
        gallery = _as_matrix(embeddings, "embeddings", nonzero_rows=True)
        n = len(gallery)
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        for name, values in (("lat", lat), ("lon", lon)):
            if values.shape != (n,):
                raise BaselineInputError(
                    f"{name} must have shape ({n},), one value per embedding row, found {values.shape}"
                )
        lat, lon = check_coordinates(lat, lon)
        self._gallery = np.ascontiguousarray(l2_normalise(gallery))
        self._lat, self._lon = lat.copy(), lon.copy()
        return self

    @property
    def n_gallery(self) -> int:
        """Number of training clips (0 before ``fit``)."""
        return 0 if self._gallery is None else len(self._gallery)

    def neighbours(
        self, embeddings: ArrayLike, *, k: int = DEFAULT_K
    ) -> tuple[NDArray[np.float32], NDArray[np.intp]]:
        """``(scores, indices)``, each ``(Q, k)``: the ``k`` nearest training clips of each query."""
        gallery = self._fitted()
        queries = _as_matrix(embeddings, "embeddings", allow_empty_rows=True, nonzero_rows=True)
        if queries.shape[1] != gallery.shape[1]:
            raise BaselineInputError(
                f"embeddings have {queries.shape[1]} columns "
                f"but the gallery was fitted with {gallery.shape[1]}"
            )
        k = _check_k(k, len(gallery))
        return _search(queries, gallery, k, self.block_rows, self.backend)

    def predict(
        self, embeddings: ArrayLike, *, k: int = DEFAULT_K, method: Method = "best"
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float32]]:
        """``(lat, lon, scores)``: one location per query row and its neighbours' ``(Q, k)`` scores.

        ``method="best"`` (the default) is the top neighbour's coordinates, ``"weighted"`` the
        softmax-weighted spherical mean of the ``k`` neighbours at the locator's ``temperature``
        (:func:`vote_location`).
        """
        method = _check_choice(method, "method", _METHODS)
        scores, indices = self.neighbours(embeddings, k=k)
        lat, lon = vote_location(
            self._lat[indices], self._lon[indices], scores, method=method, temperature=self.temperature
        )
        return lat, lon, scores

    def _fitted(self) -> NDArray[np.float32]:
        if self._gallery is None:
            raise NotFittedError("KnnLocator is not fitted: call fit(embeddings, lat, lon) first")
        return self._gallery


# --- checks -------------------------------------------------------------------------------------


def _as_matrix(
    x: ArrayLike, name: str, *, allow_empty_rows: bool = False, nonzero_rows: bool = False
) -> NDArray[np.float32]:
    """``x`` as a finite float32 ``(rows, dim)`` array, or a ValueError naming the problem.

    One pass (the rows' squared norms) finds NaN, infinities and all-zero rows; only suspect rows
    are looked at again, so checking costs a few ms on the benchmark's 20,000 x 512 queries.
    """
    original = np.asarray(x)
    if original.ndim != 2:
        raise BaselineInputError(f"{name} must be a 2-D array of shape (rows, dim), found shape {original.shape}")
    if original.dtype == object or not (
        np.issubdtype(original.dtype, np.floating)
        or np.issubdtype(original.dtype, np.integer)
        or original.dtype == bool
    ):
        raise BaselineInputError(f"{name} must hold real numbers, found dtype {original.dtype}")
    if original.shape[1] == 0 or (original.shape[0] == 0 and not allow_empty_rows):
        raise BaselineInputError(f"{name} must have at least one row and one column, found shape {original.shape}")
    with np.errstate(over="ignore"):
        matrix = np.asarray(original, dtype=np.float32)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        squared = np.einsum("ij,ij->i", matrix, matrix)  # NaN or inf in a row makes it NaN or inf
    suspect = np.flatnonzero(~np.isfinite(squared))  # (or an overflow of finite values)
    if suspect.size:
        bad = np.argwhere(~np.isfinite(matrix[suspect]))
        if bad.size:
            row, column = int(suspect[bad[0, 0]]), int(bad[0, 1])
            raise BaselineInputError(
                f"{name} must be finite float32 values, found {float(original[row, column])!r} "
                f"at row {row}, column {column}"
            )
    if nonzero_rows:
        suspect = np.flatnonzero(squared == 0)  # (or an underflow of tiny values)
        zero = suspect[~matrix[suspect].any(axis=1)]
        if zero.size:
            raise BaselineInputError(f"{name} row {int(zero[0])} is all zeros: its cosine similarity is undefined")
    return matrix


def check_coordinates(lat: ArrayLike, lon: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`avg_bench.geo.sphere.check_coordinates`, its ``ValueError`` raised as a baseline user error."""
    try:
        return _geo_check_coordinates(lat, lon)
    except ValueError as exc:
        raise BaselineInputError(str(exc)) from exc


def _check_k(k: object, gallery_size: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= gallery_size:
        raise BaselineInputError(f"k must be an integer in [1, {gallery_size}] (the gallery size), found {k!r}")
    return int(k)


def _check_block_rows(block_rows: object) -> int | None:
    if block_rows is None:
        return None
    if isinstance(block_rows, bool) or not isinstance(block_rows, (int, np.integer)) or block_rows < 1:
        raise BaselineInputError(f"block_rows must be a positive integer or None, found {block_rows!r}")
    return int(block_rows)


def _check_temperature(temperature: object) -> float:
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float, np.integer, np.floating))
        or not (np.isfinite(temperature) and temperature > 0)
    ):
        raise BaselineInputError(f"temperature must be a finite number > 0, found {temperature!r}")
    return float(temperature)


def _check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        allowed = " or ".join(repr(c) for c in choices)
        raise BaselineInputError(f"{name} must be {allowed}, found {value!r}")
    return value  # type: ignore[return-value]


# --- search -------------------------------------------------------------------------------------


def _search(
    queries: NDArray[np.float32], gallery: NDArray[np.float32], k: int, block_rows: int | None, backend: str
) -> tuple[NDArray[np.float32], NDArray[np.intp]]:
    """Top-k of float32 queries (normalised here, a block at a time) over a unit-norm gallery.

    Work is split into blocks of ``block_rows`` queries (:func:`_plan`); a block's scores are
    computed against at most ``DEFAULT_BLOCK_BYTES / (4 * block_rows)`` gallery rows at a time
    (a single chunk for the AVG gallery), and the chunks' top-k are merged by their exact keys.
    Each worker thread takes whole blocks (module docstring: *Threads*).
    """
    n_queries, n_gallery = len(queries), len(gallery)
    scores = np.empty((n_queries, k), dtype=np.float32)
    indices = np.empty((n_queries, k), dtype=np.intp)
    if n_queries == 0:
        return scores, indices
    block_rows, chunk, workers = _plan(n_queries, n_gallery, k, block_rows)
    starts = range(0, n_queries, block_rows)
    matmul = _torch_matmul(gallery) if backend == "torch" else _numpy_matmul(gallery)
    buffers: queue.SimpleQueue[NDArray[np.float32]] = queue.SimpleQueue()
    for _ in range(workers):
        buffers.put(np.empty(block_rows * min(chunk, n_gallery), dtype=np.float32))

    def run(start: int) -> None:
        stop = min(start + block_rows, n_queries)
        unit = l2_normalise(queries[start:stop])
        buffer = buffers.get()
        best = None
        for first in range(0, n_gallery, chunk):
            last = min(first + chunk, n_gallery)
            block = buffer[: (stop - start) * (last - first)].reshape(stop - start, last - first)
            matmul(unit, first, last, block)
            keys = _top_k_keys(block, min(k, last - first))
            if first:
                keys += first  # the column part of the key becomes the gallery index
                keys = _smallest_sorted(np.concatenate([best, keys], axis=1), k)
            best = keys
        buffers.put(buffer)
        indices[start:stop] = best & _LOW32
        scores[start:stop] = _scores_of_keys(best)

    if workers == 1:
        for start in starts:
            run(start)
        return scores, indices
    with _single_threaded_blas(backend), ThreadPoolExecutor(workers) as pool:
        for job in [pool.submit(run, start) for start in starts]:
            job.result()
    return scores, indices


def _plan(n_queries: int, n_gallery: int, k: int, block_rows: int | None) -> tuple[int, int, int]:
    """``(block_rows, chunk, workers)``: queries per block, gallery rows per chunk, threads."""
    workers = _workers(n_queries)
    if block_rows is None:
        block_rows = max(_MIN_BLOCK_ROWS, DEFAULT_BLOCK_BYTES // (4 * n_gallery))
        block_rows = min(block_rows, -(-n_queries // workers))  # every worker gets a block
    block_rows = max(1, min(block_rows, n_queries))
    n_chunks = -(-n_gallery // max(k, DEFAULT_BLOCK_BYTES // (4 * block_rows)))
    chunk = -(-n_gallery // n_chunks)  # balanced chunks
    return block_rows, chunk, min(workers, -(-n_queries // block_rows))


def _workers(n_queries: int) -> int:
    """Worker threads for a search: the usable cores, at most 8, each with >= 32 queries.

    Never more than BLAS's own thread setting, so ``OMP_NUM_THREADS=1`` or a ``threadpool_limits`` still holds.
    """
    if _WORKERS is not None:
        return _WORKERS
    from threadpoolctl import threadpool_info

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    blas = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return max(1, min(cores, 8, max(blas, default=cores), n_queries // _MIN_ROWS_PER_WORKER))


@contextmanager
def _single_threaded_blas(backend: str) -> Iterator[None]:
    """BLAS (and torch) on one thread per caller while the workers run; restored afterwards."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        if backend != "torch":
            yield
            return
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)


def _numpy_matmul(gallery: NDArray[np.float32]):
    def matmul(queries: NDArray[np.float32], first: int, last: int, out: NDArray[np.float32]) -> None:
        np.matmul(queries, gallery[first:last].T, out=out)

    return matmul


def _torch_matmul(gallery: NDArray[np.float32]):
    import torch  # optional, only for backend="torch"

    tensor = torch.from_numpy(np.ascontiguousarray(gallery))

    def matmul(queries: NDArray[np.float32], first: int, last: int, out: NDArray[np.float32]) -> None:
        torch.matmul(torch.from_numpy(queries), tensor[first:last].T, out=torch.from_numpy(out))

    return matmul


def _sort_keys(values: NDArray[np.float32], columns: NDArray[np.integer]) -> NDArray[np.int64]:
    """One int64 per score that sorts ascending as (descending score, ascending column)."""
    bits = (values + np.float32(0)).view(np.int32)  # + 0 turns -0.0 into 0.0: they tie
    ordered = bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))  # int32 order == float order
    return (np.invert(ordered).astype(np.int64) << 32) | columns.astype(np.int64)


def _scores_of_keys(keys: NDArray[np.int64]) -> NDArray[np.float32]:
    """The float32 scores encoded in keys made by :func:`_sort_keys` (-0.0 comes back as 0.0)."""
    ordered = np.invert((keys >> 32).astype(np.int32))
    return (ordered ^ ((ordered >> 31) & np.int32(0x7FFFFFFF))).view(np.float32)


def _smallest_sorted(keys: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """The ``k`` smallest keys of each row, sorted."""
    if keys.shape[1] > 4 * k:
        keys = np.partition(keys, k - 1, axis=1)[:, :k]
    return np.sort(keys, axis=1)[:, :k]


def _top_k_keys(scores: NDArray[np.float32], k: int) -> NDArray[np.int64]:
    """Keys (:func:`_sort_keys`) of the ``k`` largest scores of each row, best first.

    Ties go to the lower column.
    """
    n_rows, n_columns = scores.shape
    groups = min(n_columns, max(_GROUPS, 8 * k))
    if groups * 2 > n_columns:  # small gallery: rank every score
        keys = _sort_keys(scores, np.broadcast_to(np.arange(n_columns), scores.shape))
        return _smallest_sorted(keys, k)
    per_group, rest = divmod(n_columns, groups)
    # Group g holds columns g, g + groups, g + 2*groups, ...: a max over axis 1 of a reshaped view.
    group_max = scores[:, : per_group * groups].reshape(n_rows, per_group, groups).max(axis=1)
    if rest:  # the last `rest` columns join groups 0 .. rest-1
        np.maximum(group_max[:, :rest], scores[:, per_group * groups :], out=group_max[:, :rest])
    threshold = np.partition(group_max, groups - k, axis=1)[:, groups - k]
    hit_row, hit_group = np.divmod(np.flatnonzero(group_max >= threshold[:, None]), groups)
    width = per_group + (rest > 0)
    result = np.empty((n_rows, k), dtype=np.int64)
    # Gather the hit groups a few rows at a time when many scores tie, so memory stays bounded.
    ends = np.cumsum(np.bincount(hit_row, minlength=n_rows))
    limit = max(1, _GATHER_LIMIT // width)
    grouped = scores[:, : per_group * groups].reshape(n_rows, per_group, groups)
    first_row = 0
    while first_row < n_rows:
        start = int(ends[first_row - 1]) if first_row else 0
        last_row = int(np.searchsorted(ends, start + limit, side="right"))
        last_row = min(max(last_row, first_row + 1), n_rows)
        stop = int(ends[last_row - 1])
        rows, group = hit_row[start:stop], hit_group[start:stop]
        values = np.empty((len(rows), width), dtype=scores.dtype)
        values[:, :per_group] = grouped[rows, :, group]  # the group's scores, slot by slot
        if rest:  # the extra column of groups < rest; the others get -inf
            values[:, -1] = scores[rows, per_group * groups + np.minimum(group, rest - 1)]
            values[group >= rest, -1] = -np.inf
        flat = np.flatnonzero(values >= threshold[rows][:, None])
        pair, slot = np.divmod(flat, width)
        cand_rows = rows[pair] - first_row
        keys = _sort_keys(values.reshape(-1)[flat], group[pair] + slot * groups)
        counts = np.bincount(cand_rows, minlength=last_row - first_row)
        position = np.arange(len(flat)) - (np.cumsum(counts) - counts)[cand_rows]
        padded = np.full((last_row - first_row, int(counts.max())), _KEY_PAD, dtype=np.int64)
        padded[cand_rows, position] = keys
        result[first_row:last_row] = _smallest_sorted(padded, k)
        first_row = last_row
    return result
