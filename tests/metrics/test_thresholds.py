"""Distance metrics on hand-built cases: thresholds (d <= r), GeoScore, mean and median."""

import numpy as np
import pytest
from helpers import make_labels, predictions_at

import avg_bench
from avg_bench.geo import EARTH_RADIUS_KM, destination_point, haversine_km
from avg_bench.metrics import clip_scores, geoscore, metric_table
from avg_bench.spec import AVG_V1

THRESHOLDS = dict(AVG_V1.thresholds_km)
OFFSETS_KM = (-1e-3, -1e-6, 0.0, 1e-6, 1e-3)


def test_thresholds_are_the_contract():
    assert THRESHOLDS == {"street": 1.0, "city": 25.0, "region": 200.0, "country": 750.0, "continent": 2500.0}
    assert [m.name for m in metric_table(AVG_V1)][:5] == ["acc@1km", "acc@25km", "acc@200km", "acc@750km", "acc@2500km"]


@pytest.mark.parametrize("level", list(THRESHOLDS))
@pytest.mark.parametrize("offset_km", OFFSETS_KM)
@pytest.mark.parametrize("start", [(48.8566, 2.3522), (89.9, 10.0), (-89.9, -170.0), (0.0, 179.9999), (-33.87, 151.21)])
def test_hit_exactly_when_distance_is_at_most_the_radius(level, offset_km, start):
    radius = THRESHOLDS[level]
    bearings = np.array([0.0, 63.0, 90.0, 180.0, 297.0])
    lat, lon = destination_point(*start, bearings, radius + offset_km)
    d = haversine_km(*start, lat, lon)
    n = len(bearings)
    row = clip_scores(
        true_lat=np.full(n, start[0]), true_lon=np.full(n, start[1]), pred_lat=lat, pred_lon=lon,
        predicted=np.ones(n, bool), true_hierarchy=_dummy(n), pred_hierarchy=_dummy(n), spec=AVG_V1,
    )
    column = list(THRESHOLDS).index(level)
    # The scorer's hit must agree with the distance it computes, on every row, ties included.
    assert row[:, column].tolist() == (d <= radius).astype(float).tolist(), (d, radius)
    ties = np.abs(d - radius) < 1e-9
    if offset_km != 0.0:
        assert not ties.any(), "a 1 m offset must be resolvable: the destination point is off"
        assert row[:, column].tolist() == [float(offset_km < 0)] * n
    else:
        # A point placed on the circle lands within floating point of it, either side.
        assert ties.all(), np.abs(d - radius).max()


def test_exactly_on_the_threshold_counts_as_a_hit():
    # Along a meridian from the equator, 25 km is exact to the last bit for the computed distance.
    labels = make_labels(1, {"x": (0.0, 0.0)})
    lat_25 = 25.0 / EARTH_RADIUS_KM * 180 / np.pi
    d = float(haversine_km(0.0, 0.0, lat_25, 0.0))
    results = avg_bench.evaluate([{"clip_id": "x-0", "lat": lat_25, "lon": 0.0}], labels, bootstrap=0)
    assert results.metrics["acc@25km"].value == float(d <= 25.0)
    assert abs(d - 25.0) < 1e-11


def _dummy(n):
    from avg_bench.geo import Hierarchy

    return Hierarchy(*(np.full(n, "x", dtype=object) for _ in range(4)))


def test_geoscore_formula():
    d = np.array([0.0, 1.0, 1492.7, 20015.0])
    assert geoscore(d, AVG_V1) == pytest.approx(5000 * np.exp(-d / 1492.7), abs=1e-9)
    assert geoscore(np.array([0.0]), AVG_V1)[0] == 5000.0


def test_hand_built_distances_give_exact_metrics():
    labels = make_labels(4)  # 6 cities x 4 clips
    distances = np.tile([0.0, 10.0, 300.0, 3000.0], 6)
    results = avg_bench.evaluate(predictions_at(labels, distances), labels, bootstrap=0)
    m = {k: v.value for k, v in results.metrics.items()}
    assert m["acc@1km"] == pytest.approx(0.25)
    assert m["acc@25km"] == pytest.approx(0.5)
    assert m["acc@200km"] == pytest.approx(0.5)
    assert m["acc@750km"] == pytest.approx(0.75)
    assert m["acc@2500km"] == pytest.approx(0.75)
    assert m["mean_km"] == pytest.approx(3310 / 4, abs=1e-6)
    assert m["median_km"] == pytest.approx(155.0, abs=1e-6)  # mean of the two middle values
    assert m["geoscore"] == pytest.approx(np.mean(5000 * np.exp(-np.array([0, 10, 300, 3000]) / 1492.7)), abs=1e-6)
    # every location has the same profile: macro equals micro
    assert results.macro["median_km"].value == pytest.approx(155.0, abs=1e-6)
    assert results.counts.labelled == 24 and results.counts.locations == 6 and results.coverage == 1.0


def test_macro_average_balances_locations():
    # One location with 3 perfect clips, one with a single clip 5,000 km off.
    labels = avg_bench.labels_from_records(
        [{"clip_id": f"a{k}", "location_id": "a", "lat": 10.0, "lon": 10.0} for k in range(3)]
        + [{"clip_id": "b0", "location_id": "b", "lat": -10.0, "lon": -60.0}]
    )
    predictions = predictions_at(labels, [0.0, 0.0, 0.0, 5000.0])
    results = avg_bench.evaluate(predictions, labels, bootstrap=0)
    assert results.metrics["acc@750km"].value == pytest.approx(0.75)
    assert results.macro["acc@750km"].value == pytest.approx(0.5)
    assert results.macro["mean_km"].value == pytest.approx(2500.0, abs=1e-6)
    assert results.macro["median_km"].value == pytest.approx(2500.0, abs=1e-6)


def test_missing_and_abstained_clips_score_the_worst_case():
    labels = make_labels(2)
    predictions = predictions_at(labels, 0.0)
    predictions[0] = {"clip_id": predictions[0]["clip_id"], "lat": None, "lon": None}
    del predictions[1]
    results = avg_bench.evaluate(predictions, labels, bootstrap=0, allow_missing=True)
    worst = np.pi * 6371.0
    assert results.counts.predicted == 10 and results.counts.abstained == 1 and results.counts.missing == 1
    assert results.coverage == pytest.approx(10 / 12)
    assert results.metrics["mean_km"].value == pytest.approx(2 * worst / 12, abs=1e-6)
    assert results.metrics["acc@2500km"].value == pytest.approx(10 / 12)
    assert results.metrics["geoscore"].value == pytest.approx(5000 * 10 / 12)
    assert results.metrics["sem_continent"].value == pytest.approx(10 / 12)
    assert results.by_continent["EU"].metrics["mean_km"].value == pytest.approx(worst, abs=1e-6)
    assert results.worst_continent["mean_km"].group == "EU"
