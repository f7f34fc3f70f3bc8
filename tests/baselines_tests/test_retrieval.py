"""Retrieval baselines: exact top-k against a brute-force reference, voting on the sphere, checks."""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import baselines.retrieval as retrieval
from avg_bench.geo import destination_point, haversine_km, to_unit_vectors
from baselines.errors import BaselineInputError, NotFittedError
from baselines.retrieval import KnnLocator, l2_normalise, top_k_cosine, vote_location

REPO = Path(__file__).resolve().parents[2]


def brute_force(queries, gallery, k):
    """The reference: the full float32 similarity matrix, stably argsorted (ties: lower index)."""
    similarity = l2_normalise(np.asarray(queries, np.float32)) @ l2_normalise(np.asarray(gallery, np.float32)).T
    order = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(similarity, order, axis=1), order


def lattice(rng, rows, dim):
    """Random +-1 vectors with dim a power of 4: unit-normalised entries are +-2^-n, so every
    cosine is exact in float32 whatever the summation order (BLAS blocking, FMA, threads), and
    the 1 + dim possible values make ties everywhere."""
    return rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(rows, dim))


# --- l2_normalise --------------------------------------------------------------------------------


def test_l2_normalise_rows_dtypes_and_zero_rows():
    x = np.array([[3, 4, 0], [0, 0, 0], [1, 1, 1]])
    out = l2_normalise(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [[0.6, 0.8, 0], [0, 0, 0], [3**-0.5] * 3], rtol=1e-15)
    assert l2_normalise(x.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(l2_normalise(np.random.default_rng(0).normal(size=(50, 7))), axis=1), 1, rtol=1e-14)


@pytest.mark.parametrize("magnitude", [1e-30, 1e-20, 1e20, 1e30])
def test_l2_normalise_is_exact_for_tiny_and_huge_float32_rows(magnitude):
    x = np.array([[3 * magnitude, 4 * magnitude], [1, 0]], dtype=np.float32)
    np.testing.assert_allclose(l2_normalise(x), [[0.6, 0.8], [1, 0]], rtol=1e-6)


def test_l2_normalise_one_dimensional():
    np.testing.assert_allclose(l2_normalise([0.0, 2.0]), [0.0, 1.0])


# --- top_k_cosine ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_queries", "n_gallery", "dim", "k"),
    [
        (40, 3001, 16, 10),  # grouped selection, with leftover columns (3001 = 5*512 + 441)
        (25, 5120, 4, 7),  # 5 possible scores: thousands of ties per row
        (30, 1024, 64, 1),
        (30, 2000, 16, 200),  # large k: more groups than the default
        (20, 700, 16, 700),  # small gallery (every score ranked), k = gallery size
        (13, 9, 4, 3),
    ],
)
def test_top_k_equals_full_argsort_with_ties(n_queries, n_gallery, dim, k):
    rng = np.random.default_rng(n_gallery)
    queries, gallery = lattice(rng, n_queries, dim), lattice(rng, n_gallery, dim)
    gallery[n_gallery // 2 :: 3] = gallery[: len(gallery[n_gallery // 2 :: 3])]  # duplicate rows
    scores, indices = top_k_cosine(queries, gallery, k)
    ref_scores, ref_indices = brute_force(queries, gallery, k)
    boundary = brute_force(queries, gallery, min(k + 1, n_gallery))[0]
    assert (np.diff(boundary, axis=1) == 0).any()  # the case really has ties within or at the top k
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_array_equal(scores, ref_scores)
    assert indices.dtype == np.intp and scores.dtype == np.float32


def test_top_k_equals_full_argsort_on_gaussian_data():
    rng = np.random.default_rng(3)
    queries, gallery = rng.normal(size=(200, 48)), rng.normal(size=(6000, 48))
    scores, indices = top_k_cosine(queries, gallery, 10, block_rows=37)
    ref_scores, ref_indices = brute_force(queries, gallery, 11)
    # The blocked product may differ from the full one by an ulp; no neighbours are that close here.
    assert np.diff(-ref_scores, axis=1).min() > 1e-6
    np.testing.assert_array_equal(indices, ref_indices[:, :10])
    np.testing.assert_allclose(scores, ref_scores[:, :10], atol=1e-6)


@pytest.mark.parametrize("block_rows", [1, 2, 7, 64, 199])
def test_blocked_equals_unblocked(block_rows):
    rng = np.random.default_rng(11)
    queries, gallery = lattice(rng, 200, 16), lattice(rng, 2500, 16)
    whole = top_k_cosine(queries, gallery, 12, block_rows=200)
    blocked = top_k_cosine(queries, gallery, 12, block_rows=block_rows)
    np.testing.assert_array_equal(blocked[0], whole[0])
    np.testing.assert_array_equal(blocked[1], whole[1])


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_worker_threads_do_not_change_the_result(monkeypatch, workers):
    rng = np.random.default_rng(5)
    queries, gallery = lattice(rng, 300, 16), lattice(rng, 3000, 16)
    monkeypatch.setattr(retrieval, "_WORKERS", workers)
    scores, indices = top_k_cosine(queries, gallery, 10, block_rows=40)
    ref_scores, ref_indices = brute_force(queries, gallery, 10)
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_array_equal(scores, ref_scores)


def test_all_scores_tied_takes_the_lowest_indices(monkeypatch):
    # Every score ties, so every group is a candidate; a small gather limit forces many chunks.
    monkeypatch.setattr(retrieval, "_GATHER_LIMIT", 5000)
    queries, gallery = np.ones((50, 8), np.float32), np.ones((4000, 8), np.float32)
    scores, indices = top_k_cosine(queries, gallery, 5)
    np.testing.assert_array_equal(indices, np.tile(np.arange(5), (50, 1)))
    np.testing.assert_array_equal(scores, brute_force(queries, gallery, 5)[0])


@pytest.mark.parametrize("workers", [1, 2])
def test_memory_stays_within_the_documented_bound_even_when_everything_ties(monkeypatch, workers):
    # 200 queries x 100,000 gallery rows, all tied: the worst case for the selection's scratch.
    monkeypatch.setattr(retrieval, "_WORKERS", workers)
    queries, gallery = np.ones((200, 8), np.float32), np.ones((100_000, 8), np.float32)
    tracemalloc.start()
    try:
        scores, indices = top_k_cosine(queries, gallery, 3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(indices, np.tile(np.arange(3), (200, 1)))
    per_worker = retrieval.DEFAULT_BLOCK_BYTES + 100 * max(2**18, len(gallery))
    assert peak <= workers * per_worker + gallery.nbytes + 2**20, peak


def test_large_gallery_is_split_into_chunks_and_merged_exactly(monkeypatch):
    rng = np.random.default_rng(8)
    queries, gallery = lattice(rng, 90, 16), lattice(rng, 5000, 16)
    monkeypatch.setattr(retrieval, "DEFAULT_BLOCK_BYTES", 40 * 1500 * 4)  # 40 rows x 1500 columns
    assert retrieval._plan(90, 5000, 10, 40)[1] == 1250  # four balanced chunks
    scores, indices = top_k_cosine(queries, gallery, 10, block_rows=40)
    ref_scores, ref_indices = brute_force(queries, gallery, 10)
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_array_equal(scores, ref_scores)


def test_sort_keys_order_like_descending_scores_then_ascending_index_and_decode_exactly():
    rng = np.random.default_rng(9)
    values = np.concatenate([rng.normal(size=500), [0.0, -0.0, 1.0, -1.0, 1e-40, -1e-40, 0.5, 0.5]]).astype(np.float32)
    columns = rng.permutation(len(values))
    keys = retrieval._sort_keys(values, columns)
    reference = np.lexsort((columns, -values.astype(np.float64)))  # -0.0 == 0.0 here: they tie
    np.testing.assert_array_equal(np.argsort(keys, kind="stable"), reference)
    np.testing.assert_array_equal(retrieval._scores_of_keys(keys), values)  # -0.0 comes back as 0.0
    np.testing.assert_array_equal(keys & 0xFFFFFFFF, columns)


def test_search_respects_and_restores_the_blas_thread_setting():
    import threadpoolctl

    def blas_threads():
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    rng = np.random.default_rng(10)
    queries, gallery = lattice(rng, 400, 16), lattice(rng, 2000, 16)
    top_k_cosine(queries, gallery, 5)
    assert blas_threads() == before
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert retrieval._workers(20_000) == 1  # OMP_NUM_THREADS=1 and the like still mean one core
        top_k_cosine(queries, gallery, 5)
        assert set(blas_threads()) == {1}
    assert blas_threads() == before


def test_zero_query_gets_score_zero_everywhere():
    scores, indices = top_k_cosine([[0.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], 2)
    assert scores.tolist() == [[0.0, 0.0]] and indices.tolist() == [[0, 1]]


def test_torch_backend_agrees_with_numpy():
    rng = np.random.default_rng(2)
    queries, gallery = lattice(rng, 120, 64), lattice(rng, 3000, 64)
    numpy_result = top_k_cosine(queries, gallery, 10, block_rows=50)
    torch_result = top_k_cosine(queries, gallery, 10, block_rows=50, backend="torch")
    np.testing.assert_array_equal(torch_result[1], numpy_result[1])
    np.testing.assert_array_equal(torch_result[0], numpy_result[0])


def test_importing_and_predicting_does_not_import_torch():
    code = (
        "import sys, numpy as np\n"
        "from baselines.retrieval import KnnLocator\n"
        "KnnLocator().fit(np.eye(3), [0, 1, 2], [0, 1, 2]).predict(np.eye(3), k=2, method='weighted')\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# --- vote_location --------------------------------------------------------------------------------

PAIRS = [((48.8566, 2.3522), (-1.2921, 36.8219)), ((35.6762, 139.6503), (40.7128, -74.0060)), ((-33.8688, 151.2093), (64.1466, -21.9426)), ((89.0, 0.0), (-10.0, 170.0))]


def test_weighted_vote_of_two_equal_neighbours_is_the_geodesic_midpoint():
    (lat_a, lon_a), (lat_b, lon_b) = np.array(PAIRS).transpose(1, 2, 0)
    lat, lon = vote_location(np.c_[lat_a, lat_b], np.c_[lon_a, lon_b], np.full((len(PAIRS), 2), 0.7), method="weighted")
    to_a, to_b = haversine_km(lat, lon, lat_a, lon_a), haversine_km(lat, lon, lat_b, lon_b)
    np.testing.assert_allclose(to_a, to_b, atol=1e-6)  # equidistant
    np.testing.assert_allclose(to_a + to_b, haversine_km(lat_a, lon_a, lat_b, lon_b), atol=1e-6)  # on the geodesic


def test_weighted_vote_splits_the_geodesic_by_the_softmax_weights():
    (lat_a, lon_a), (lat_b, lon_b) = PAIRS[0]
    temperature = 0.05
    lat, lon = vote_location([[lat_a, lat_b]], [[lon_a, lon_b]], [[0.9, 0.85]], method="weighted", temperature=temperature)
    to_a, to_b = float(haversine_km(lat, lon, lat_a, lon_a)[0]), float(haversine_km(lat, lon, lat_b, lon_b)[0])
    total = float(haversine_km(lat_a, lon_a, lat_b, lon_b))
    assert to_a + to_b == pytest.approx(total, abs=1e-6)
    # w_a a + w_b b makes angles alpha (to a) and beta (to b) with sin(alpha) / sin(beta) = w_b / w_a.
    w_b_over_w_a = np.exp((0.85 - 0.9) / temperature)
    alpha, beta = to_a / 6371.0, to_b / 6371.0
    assert np.sin(alpha) / np.sin(beta) == pytest.approx(w_b_over_w_a, rel=1e-9)
    assert to_a < to_b


def test_weighted_vote_across_the_antimeridian_lands_near_180_not_0():
    lat, lon = vote_location([[0.0, 0.0], [10.0, -10.0]], [[179.9, -179.9], [179.9, -179.9]], np.ones((2, 2)), method="weighted")
    assert np.all(np.abs(lon) > 179.99)
    np.testing.assert_allclose(haversine_km(lat, lon, 0.0, 180.0), 0.0, atol=1e-6)


def test_weighted_vote_is_the_vmf_maximum_likelihood_direction():
    rng = np.random.default_rng(4)
    lat_n, lon_n = rng.uniform(30, 60, (1, 8)), rng.uniform(-20, 40, (1, 8))
    scores = rng.uniform(0.5, 0.9, (1, 8))
    lat, lon = vote_location(lat_n, lon_n, scores, method="weighted", temperature=0.1)
    weights = np.exp(scores[0] / 0.1)
    resultant = weights @ to_unit_vectors(lat_n[0], lon_n[0])
    # The vMF log-likelihood of a mean direction mu is kappa * mu . resultant (+ const): no other
    # direction, near or far, does better than the vote.
    best = resultant @ to_unit_vectors(lat[0], lon[0])
    near_lat, near_lon = destination_point(lat[0], lon[0], rng.uniform(0, 360, 2000), rng.uniform(0.01, 500, 2000))
    far = rng.normal(size=(2000, 3))
    far /= np.linalg.norm(far, axis=1, keepdims=True)
    assert best >= (to_unit_vectors(near_lat, near_lon) @ resultant).max()
    assert best >= (far @ resultant).max()
    assert best == pytest.approx(np.linalg.norm(resultant), rel=1e-12)


def test_antipodal_neighbours_fall_back_to_the_best_one():
    # Equal weights on antipodes cancel out: the best neighbour (the first of the tie) is returned.
    lat, lon = vote_location([[10.0, -10.0], [-10.0, 10.0]], [[20.0, -160.0], [-160.0, 20.0]], np.full((2, 2), 0.8), method="weighted")
    assert lat.tolist() == [10.0, -10.0] and lon.tolist() == [20.0, -160.0]
    # Four neighbours in two antipodal pairs, the higher-scored pair first: still the best one.
    lat, lon = vote_location([[0.0, 0.0, 0.0, 0.0]], [[30.0, -150.0, 100.0, -80.0]], [[0.9, 0.9, 0.7, 0.7]], method="weighted")
    assert (lat.tolist(), lon.tolist()) == ([0.0], [30.0])
    # Unequal weights do not cancel: the vote is the heavier neighbour's direction.
    lat, lon = vote_location([[10.0, -10.0]], [[20.0, -160.0]], [[0.5, 0.6]], method="weighted")
    assert float(haversine_km(lat, lon, -10.0, -160.0)[0]) < 1e-6


def test_best_vote_and_identical_neighbours_are_exact():
    lat, lon = vote_location([[1.5, 2.5, 3.5]], [[4.5, 5.5, 6.5]], [[0.2, 0.9, 0.9]], method="best")
    assert (lat.tolist(), lon.tolist()) == ([2.5], [5.5])  # highest score; the first of a tie
    lat, lon = vote_location([[48.8566] * 4], [[2.3522] * 4], [[0.9, 0.8, 0.7, 0.1]], method="weighted")
    assert (lat.tolist(), lon.tolist()) == ([48.8566], [2.3522])


def test_single_neighbour_weighted_is_that_neighbour():
    lat, lon = vote_location([[12.25]], [[-33.5]], [[0.3]], method="weighted")
    assert (lat.tolist(), lon.tolist()) == ([12.25], [-33.5])


# --- KnnLocator: planted clusters ----------------------------------------------------------------


def planted(rng, n_locations=20, gallery_per=14, queries_per=20, dim=64, noise=0.8):
    """Clips of a location = its random centre + Gaussian noise (at 0.8, the within-location
    cosine is about 0.6 and the between-location one about 0)."""
    centres = rng.normal(size=(n_locations, dim))
    lat = np.degrees(np.arcsin(rng.uniform(-0.9, 0.9, n_locations)))
    lon = rng.uniform(-180, 180, n_locations)
    g_loc, q_loc = np.repeat(np.arange(n_locations), gallery_per), np.repeat(np.arange(n_locations), queries_per)
    gallery = centres[g_loc] + noise * rng.normal(size=(len(g_loc), dim))
    queries = centres[q_loc] + noise * rng.normal(size=(len(q_loc), dim))
    return gallery, queries, lat, lon, g_loc, q_loc


@pytest.mark.parametrize("method", ["best", "weighted"])
def test_recovers_planted_clusters(method):
    gallery, queries, lat, lon, g_loc, q_loc = planted(np.random.default_rng(0))
    locator = KnnLocator().fit(gallery, lat[g_loc], lon[g_loc])
    pred_lat, pred_lon, scores = locator.predict(queries, k=10, method=method)
    correct = haversine_km(pred_lat, pred_lon, lat[q_loc], lon[q_loc]) < 1.0
    assert correct.mean() > 0.95
    assert scores.shape == (len(queries), 10) and np.all(np.diff(scores, axis=1) <= 0)
    if method == "best":  # the best neighbour's coordinates, exactly
        assert np.isin(pred_lat, lat).all() and np.isin(pred_lon, lon).all()


def test_neighbours_are_the_brute_force_ones():
    gallery, queries, lat, lon, g_loc, _ = planted(np.random.default_rng(1), dim=16)
    locator = KnnLocator(block_rows=33).fit(gallery, lat[g_loc], lon[g_loc])
    scores, indices = locator.neighbours(queries, k=5)
    ref_scores, ref_indices = brute_force(queries, gallery, 6)
    assert np.diff(-ref_scores, axis=1).min() > 1e-6
    np.testing.assert_array_equal(indices, ref_indices[:, :5])
    np.testing.assert_allclose(scores, ref_scores[:, :5], atol=1e-6)


def test_predict_on_no_queries():
    locator = KnnLocator().fit(np.eye(3), [0, 1, 2], [0, 1, 2])
    lat, lon, scores = locator.predict(np.zeros((0, 3)), k=2)
    assert lat.shape == lon.shape == (0,) and scores.shape == (0, 2)


def test_docstring_examples_run():
    result = doctest.testmod(retrieval, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0


# --- bad input ------------------------------------------------------------------------------------

GALLERY = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
LAT, LON = np.array([0.0, 10.0, 20.0]), np.array([0.0, 10.0, 20.0])


def fitted():
    return KnnLocator().fit(GALLERY, LAT, LON)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: KnnLocator().fit(np.ones(3), LAT, LON), "embeddings must be a 2-D array of shape (rows, dim), found shape (3,)"),
        (lambda: KnnLocator().fit(np.ones((0, 4)), [], []), "embeddings must have at least one row and one column, found shape (0, 4)"),
        (lambda: KnnLocator().fit(np.array([["a", "b"]]), [0], [0]), "embeddings must hold real numbers, found dtype <U1"),
        (lambda: KnnLocator().fit([[1.0, 0.0], [np.nan, 1.0]], [0, 0], [0, 0]), "embeddings must be finite float32 values, found nan at row 1, column 0"),
        (lambda: KnnLocator().fit([[1.0, 1e39]], [0], [0]), "embeddings must be finite float32 values, found 1e+39 at row 0, column 1"),
        (lambda: KnnLocator().fit([[1.0, 0.0], [0.0, 0.0]], [0, 0], [0, 0]), "embeddings row 1 is all zeros: its cosine similarity is undefined"),
        (lambda: KnnLocator().fit(GALLERY, LAT[:2], LON), "lat must have shape (3,), one value per embedding row, found (2,)"),
        (lambda: KnnLocator().fit(GALLERY, LAT, LON[:, None]), "lon must have shape (3,), one value per embedding row, found (3, 1)"),
        (lambda: KnnLocator().fit(GALLERY, [0, 91, 0], LON), "lat must be a finite number in [-90, 90], found 91.0"),
        (lambda: KnnLocator().fit(GALLERY, LAT, [0, np.inf, 0]), "lon must be a finite number in [-180, 180], found inf"),
        (lambda: KnnLocator(temperature=0), "temperature must be a finite number > 0, found 0"),
        (lambda: KnnLocator(block_rows=0), "block_rows must be a positive integer or None, found 0"),
        (lambda: KnnLocator(backend="jax"), "backend must be 'numpy' or 'torch', found 'jax'"),
        (lambda: fitted().predict([[1.0, 0.0, 0.0]]), "embeddings have 3 columns but the gallery was fitted with 2"),
        (lambda: fitted().predict([[1.0, 0.0]], k=0), "k must be an integer in [1, 3] (the gallery size), found 0"),
        (lambda: fitted().predict([[1.0, 0.0]], k=4), "k must be an integer in [1, 3] (the gallery size), found 4"),
        (lambda: fitted().predict([[1.0, 0.0]], k=2.0), "k must be an integer in [1, 3] (the gallery size), found 2.0"),
        (lambda: fitted().predict([[1.0, 0.0]], k=True), "k must be an integer in [1, 3] (the gallery size), found True"),
        (lambda: fitted().predict([[1.0, 0.0]], k=2, method="mean"), "method must be 'best' or 'weighted', found 'mean'"),
        (lambda: fitted().predict([[0.0, 0.0]], k=2), "embeddings row 0 is all zeros: its cosine similarity is undefined"),
        (lambda: fitted().predict([[1.0, -np.inf]], k=2), "embeddings must be finite float32 values, found -inf at row 0, column 1"),
        (lambda: top_k_cosine([[1.0, 0.0]], [[1.0, 0.0, 0.0]], 1), "queries have 2 columns but the gallery has 3"),
        (lambda: top_k_cosine([[1.0, 0.0]], GALLERY, 1, block_rows=-5), "block_rows must be a positive integer or None, found -5"),
        (lambda: vote_location([[0.0, 1.0]], [[0.0]], [[0.5, 0.5]]), "neighbour_lat, neighbour_lon and scores must have the same shape (queries, k), found (1, 2), (1, 1) and (1, 2)"),
        (lambda: vote_location([0.0, 1.0], [0.0, 1.0], [0.5, 0.5]), "neighbour_lat, neighbour_lon and scores must have the same shape (queries, k), found (2,), (2,) and (2,)"),
        (lambda: vote_location([[0.0, 100.0]], [[0.0, 0.0]], [[0.5, 0.5]]), "lat must be a finite number in [-90, 90], found 100.0"),
        (lambda: vote_location([[0.0, 0.0]], [[0.0, 190.0]], [[0.5, 0.5]]), "lon must be a finite number in [-180, 180], found 190.0"),
        (lambda: vote_location([[0.0, 0.0]], [[0.0, 0.0]], [[0.5, np.nan]]), "scores must be finite numbers"),
        (lambda: vote_location(np.zeros((1, 0)), np.zeros((1, 0)), np.zeros((1, 0))), "every query needs at least one neighbour (k >= 1), found k = 0"),
        (lambda: vote_location([[0.0, 0.0]], [[0.0, 0.0]], [[0.5, 0.5]], method="median"), "method must be 'best' or 'weighted', found 'median'"),
        (lambda: vote_location([[0.0, 0.0]], [[0.0, 0.0]], [[0.5, 0.5]], method="weighted", temperature=-1.0), "temperature must be a finite number > 0, found -1.0"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, message):
    # A user error (one `error:` line from the CLI) that is still a ValueError for library callers.
    with pytest.raises(BaselineInputError, match=f"^{re.escape(message)}$") as raised:
        call()
    assert isinstance(raised.value, ValueError)
    with pytest.raises(ValueError):
        call()


def test_predict_before_fit_raises():
    with pytest.raises(NotFittedError, match=re.escape("KnnLocator is not fitted: call fit(embeddings, lat, lon) first")):
        KnnLocator().predict([[1.0, 0.0]])
