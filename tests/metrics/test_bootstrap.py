"""Cluster bootstrap: exactness of the vectorised pieces, reproducibility, paired tests."""

import numpy as np
import pytest
from helpers import make_labels, predictions_at

import avg_bench
from avg_bench.metrics import bootstrap_means, bootstrap_medians, paired_p_value, resample_weights


def test_resample_weights_draw_every_location_count_times():
    w = resample_weights(50, 200, seed=3)
    assert w.shape == (200, 50) and (w.sum(axis=1) == 50).all()
    assert np.array_equal(w, resample_weights(50, 200, seed=3))
    assert not np.array_equal(w, resample_weights(50, 200, seed=4))
    # each location is drawn once per resample on average
    assert w.mean() == pytest.approx(1.0) and abs(w[:, 0].mean() - 1.0) < 0.25


def test_vectorised_bootstrap_equals_explicit_resampling():
    rng = np.random.default_rng(0)
    for trial in range(300):
        n, n_clusters = int(rng.integers(1, 40)), int(rng.integers(1, 8))
        x = rng.normal(size=n).round(1)  # rounding makes ties
        cluster = rng.integers(0, n_clusters, n)
        weights = resample_weights(n_clusters, 5, seed=trial)
        means = bootstrap_means(x[:, None], cluster, weights)[:, 0]
        medians = bootstrap_medians(x, cluster, weights)
        for b in range(5):
            sample = np.repeat(x, weights[b][cluster])
            if len(sample):
                assert means[b] == pytest.approx(sample.mean())
                assert medians[b] == pytest.approx(np.median(sample))
            else:
                assert np.isnan(means[b]) and np.isnan(medians[b])


def _noisy_predictions(labels, scale_km, seed):
    rng = np.random.default_rng(seed)
    return predictions_at(labels, rng.exponential(scale_km, len(labels)), seed=seed)


def test_bootstrap_is_reproducible_and_contains_the_estimate():
    labels = make_labels(5)
    predictions = _noisy_predictions(labels, 300.0, seed=1)
    first = avg_bench.evaluate(predictions, labels, bootstrap=500, seed=42)
    again = avg_bench.evaluate(predictions, labels, bootstrap=500, seed=42)
    other_seed = avg_bench.evaluate(predictions, labels, bootstrap=500, seed=43)
    assert first.metrics == again.metrics and first.by_continent == again.by_continent
    assert first.metrics != other_seed.metrics
    for name, estimate in first.metrics.items():
        assert estimate.ci_low <= estimate.value <= estimate.ci_high, name
        assert other_seed.metrics[name].value == estimate.value  # the point estimate ignores the seed
    assert first.metrics["mean_km"].ci_low < first.metrics["mean_km"].ci_high


def test_bootstrap_zero_gives_point_estimates_only():
    labels = make_labels(2)
    results = avg_bench.evaluate(predictions_at(labels, 5.0), labels, bootstrap=0)
    assert results.metrics["acc@25km"].value == 1.0 and results.metrics["acc@25km"].ci_low is None


def test_row_order_of_the_labels_does_not_change_the_intervals():
    labels = make_labels(3)
    predictions = _noisy_predictions(labels, 500.0, seed=2)
    shuffled = avg_bench.labels_from_records(
        [
            {"clip_id": c, "location_id": loc, "lat": a, "lon": b}
            for c, loc, a, b in list(zip(labels.clip_id, labels.location_id, labels.lat, labels.lon))[::-1]
        ]
    )
    a = avg_bench.evaluate(predictions, labels, bootstrap=300)
    b = avg_bench.evaluate(predictions, shuffled, bootstrap=300)
    for name in a.metrics:
        assert a.metrics[name].ci_low == pytest.approx(b.metrics[name].ci_low)
        assert a.metrics[name].ci_high == pytest.approx(b.metrics[name].ci_high)


def test_cluster_intervals_are_wider_than_naive_ones_when_locations_differ():
    # Half the locations are easy, half hard: clips within a location are correlated.
    labels = make_labels(20)
    distances = np.where(np.isin(labels.location_id, ["paris", "tokyo", "sydney"]), 5.0, 3000.0)
    results = avg_bench.evaluate(predictions_at(labels, distances), labels, bootstrap=1000)
    acc = results.metrics["acc@25km"]
    naive_half_width = 1.96 * np.sqrt(0.5 * 0.5 / len(labels))
    assert acc.value == 0.5
    assert (acc.ci_high - acc.ci_low) / 2 > 2 * naive_half_width


def test_paired_comparison_finds_a_real_difference():
    labels = make_labels(10)
    good = _noisy_predictions(labels, 50.0, seed=5)
    bad = _noisy_predictions(labels, 2000.0, seed=6)
    results = avg_bench.evaluate(good, labels, baseline=bad, bootstrap=1000)
    diff = results.comparison.metrics
    assert diff["mean_km"].value < 0 and diff["mean_km"].ci_high < 0 and diff["mean_km"].p_value < 0.01
    assert diff["acc@750km"].value > 0 and diff["acc@750km"].ci_low > 0 and diff["acc@750km"].p_value < 0.01
    assert diff["geoscore"].value == pytest.approx(
        results.metrics["geoscore"].value - avg_bench.evaluate(bad, labels, bootstrap=0).metrics["geoscore"].value
    )


def test_paired_comparison_finds_nothing_between_a_file_and_itself():
    labels = make_labels(5)
    predictions = _noisy_predictions(labels, 400.0, seed=7)
    diff = avg_bench.evaluate(predictions, labels, baseline=predictions, bootstrap=500).comparison.metrics
    for name, d in diff.items():
        assert d.value == 0.0 and d.ci_low == 0.0 and d.ci_high == 0.0 and d.p_value == 1.0, name


def test_paired_p_value_shift_method():
    observed = np.array([0.0, 1.0, -1.0])
    resampled = np.array([[0.0, 0.5, -3.0], [0.0, 1.5, -1.0], [0.0, 2.5, 0.5]])
    # column 1: |d_b - 1| = 0.5, 0.5, 1.5 -> one >= 1; column 2: |d_b + 1| = 2, 0, 1.5 -> two >= 1
    assert paired_p_value(observed, resampled).tolist() == [1.0, 0.5, 0.75]


def test_per_continent_breakdown_and_worst_continent():
    labels = make_labels(4)
    distances = np.where(labels.location_id == "nairobi", 1000.0, 10.0)
    results = avg_bench.evaluate(predictions_at(labels, distances), labels, bootstrap=200)
    assert set(results.by_continent) == {"EU", "AF", "AS", "NA", "SA", "OC"}
    africa = results.by_continent["AF"]
    assert (africa.name, africa.n_clips, africa.n_locations) == ("Africa", 4, 1)
    assert africa.metrics["mean_km"].value == pytest.approx(1000.0, abs=1e-6)
    assert results.worst_continent["geoscore"].group == "AF"
    assert results.worst_continent["median_km"].group == "AF"
    assert results.worst_continent["median_km"].value == pytest.approx(1000.0, abs=1e-6)
    europe = results.by_continent["EU"].metrics["acc@25km"]
    assert (europe.value, europe.ci_low, europe.ci_high) == (1.0, 1.0, 1.0)


def test_blocks_of_resamples_give_the_same_numbers_as_the_whole_matrix():
    from avg_bench.metrics.bootstrap import Resamples
    from avg_bench.metrics.definitions import Metric
    from avg_bench.metrics.summary import summarise, summarise_macro

    rng = np.random.default_rng(7)
    n_clusters = 37
    cluster = np.sort(rng.integers(0, n_clusters, 400))
    cluster[:n_clusters] = np.arange(n_clusters)  # every location has a clip
    values = rng.lognormal(3, 2, (400, 2))
    metrics = (Metric("mean_km", "mean km", "mean", False, False), Metric("median_km", "median km", "median", False, False))
    whole = Resamples(n_clusters, 101, seed=5)
    tiny = Resamples(n_clusters, 101, seed=5, budget_bytes=1)  # one resample per block
    assert tiny.rows_per_block == 1 and np.array_equal(tiny.full(), whole.full())
    assert np.array_equal(whole.full(), resample_weights(n_clusters, 101, seed=5))
    for picked in (slice(None), cluster < 20):  # everything, and a subgroup missing some locations
        a = summarise(values[picked], metrics, cluster[picked], whole)
        b = summarise(values[picked], metrics, cluster[picked], tiny)
        assert np.allclose(a.resampled, b.resampled, rtol=1e-12, equal_nan=True)  # BLAS may sum in another order
        assert np.array_equal(a.resampled[:, 1], b.resampled[:, 1], equal_nan=True)  # medians: exact
    a = summarise_macro(values, metrics, cluster, whole, n_clusters)
    b = summarise_macro(values, metrics, cluster, tiny, n_clusters)
    assert np.allclose(a.resampled, b.resampled, rtol=1e-12)


def test_bootstrap_memory_is_bounded_by_the_block_budget():
    """Issue 13: resamples x locations was allocated at once (4.1 M single-clip locations: 30.6 GiB)."""
    import tracemalloc

    from avg_bench.metrics.bootstrap import Resamples
    from avg_bench.metrics.definitions import Metric
    from avg_bench.metrics.summary import summarise

    n = 200_000  # single-clip locations: the whole matrix would be 100 x 200k x 28 B = 560 MB of temporaries
    values = np.random.default_rng(0).lognormal(3, 2, (n, 2))
    metrics = (Metric("mean_km", "mean km", "mean", False, False), Metric("median_km", "median km", "median", False, False))
    resamples = Resamples(n, 100, seed=0, budget_bytes=16 * 2**20)
    tracemalloc.start()
    try:
        summary = summarise(values, metrics, np.arange(n), resamples)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert summary.resampled.shape == (100, 2) and np.isfinite(summary.resampled).all()
    assert peak < 64 * 2**20, peak / 2**20
    # The resampled means centre on the point estimate (the draws are real).
    assert abs(np.median(summary.resampled[:, 0]) - summary.point[0]) < 0.05 * summary.point[0]
