"""random-sphere and train-prior: uniformity, the dominant location, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from avg_bench.geo.sphere import to_unit_vectors
from baselines.dataset import ClipSplit
from baselines.errors import BaselineInputError, NotFittedError
from baselines.priors import RandomSphere, TrainPrior


def split_of(lat, lon, location_ids=None, name="train") -> ClipSplit:
    n = len(lat)
    labels = {"location_id": list(location_ids)} if location_ids is not None else {}
    return ClipSplit("seen", name, [], "test@0", [f"c-{i:010x}" for i in range(n)],
                     np.asarray(lat, float), np.asarray(lon, float), labels)


def unlabelled(n: int) -> ClipSplit:
    return ClipSplit("seen", "test", [], "test@0", [f"q-{i:010x}" for i in range(n)], None, None)


def test_random_sphere_is_uniform_on_the_sphere():
    predictions = RandomSphere(seed=3).fit(unlabelled(1)).predict(unlabelled(200_000))
    xyz = to_unit_vectors(predictions.lat, predictions.lon)
    # each coordinate of a uniform unit vector has variance 1/3: the mean's sd is 0.0013 here
    assert np.abs(xyz.mean(axis=0)).max() < 0.006
    # Archimedes: z = sin(lat) is uniform in [-1, 1]; longitude is uniform in [-180, 180)
    assert stats.kstest(xyz[:, 2], stats.uniform(-1, 2).cdf).pvalue > 0.01
    assert stats.kstest(predictions.lon, stats.uniform(-180, 360).cdf).pvalue > 0.01
    # a uniform sphere puts 1/2 of its area within 30 degrees of the equator
    assert abs(np.mean(np.abs(predictions.lat) < 30) - 0.5) < 0.005


def test_random_sphere_is_reproducible_and_writes_samples():
    first = RandomSphere(seed=1, samples=5).predict(unlabelled(10))
    again = RandomSphere(seed=1, samples=5).predict(unlabelled(10))
    other = RandomSphere(seed=2, samples=5).predict(unlabelled(10))
    assert np.array_equal(first.lat, again.lat) and np.array_equal(first.samples, again.samples)
    assert not np.array_equal(first.lat, other.lat)
    assert first.samples.shape == (10, 5, 2)
    assert np.all(np.abs(first.samples[..., 0]) <= 90) and np.all(np.abs(first.samples[..., 1]) <= 180)


def test_train_prior_predicts_the_dominant_location():
    lat = [48.8566] * 70 + [-33.8688] * 20 + [35.6762] * 10
    lon = [2.3522] * 70 + [151.2093] * 20 + [139.6503] * 10
    ids = ["L0001"] * 70 + ["L0002"] * 20 + ["L0003"] * 10
    order = np.random.default_rng(0).permutation(100)  # row order must not matter
    train = split_of(np.array(lat)[order], np.array(lon)[order], np.array(ids)[order])
    predictions = TrainPrior().fit(train).predict(unlabelled(7))
    assert predictions.lat.tolist() == [48.8566] * 7 and predictions.lon.tolist() == [2.3522] * 7


def test_train_prior_mode_ties_break_by_location_id_not_row_order():
    train = split_of([10.0, 20.0, 20.0, 10.0], [1.0, 2.0, 2.0, 1.0], ["L0009", "L0002", "L0002", "L0009"])
    assert TrainPrior().fit(train).predict(unlabelled(1)).lat.tolist() == [20.0]


def test_train_prior_sample_draws_from_the_training_density():
    lat = [48.8566] * 75 + [-33.8688] * 25
    lon = [2.3522] * 75 + [151.2093] * 25
    predictions = TrainPrior(seed=5, strategy="sample").fit(split_of(lat, lon)).predict(unlabelled(20_000))
    share_paris = np.mean(predictions.lat == 48.8566)
    assert abs(share_paris - 0.75) < 0.015  # binomial sd 0.003
    assert set(np.unique(predictions.lat)) == {48.8566, -33.8688}


def test_train_prior_needs_labels_and_a_known_strategy():
    from avg_bench.errors import AvgBenchError

    with pytest.raises(AvgBenchError, match="'test' split has no labels, but train-prior needs them"):
        TrainPrior().fit(unlabelled(3))
    with pytest.raises(BaselineInputError, match="strategy must be 'mode' or 'sample'"):
        TrainPrior(strategy="median")
    with pytest.raises(NotFittedError, match="not fitted"):
        TrainPrior().predict(unlabelled(1))
