"""Great-circle geometry: exact cases, an independent reference, and bad input."""

import numpy as np
import pytest
from geopy.distance import great_circle

from avg_bench.geo import EARTH_RADIUS_KM, destination_point, from_unit_vectors, haversine_km, to_unit_vectors

HALF_CIRCUMFERENCE = np.pi * EARTH_RADIUS_KM


def test_radius_is_the_contract_value():
    assert EARTH_RADIUS_KM == 6371.0


def test_agrees_with_geopy_great_circle_on_10000_random_pairs():
    rng = np.random.default_rng(7)
    lat1, lat2 = np.degrees(np.arcsin(rng.uniform(-1, 1, (2, 10_000))))
    lon1, lon2 = rng.uniform(-180, 180, (2, 10_000))
    ours = haversine_km(lat1, lon1, lat2, lon2)
    reference = np.array(
        [great_circle((a, b), (c, d), radius=6371.0).km for a, b, c, d in zip(lat1, lon1, lat2, lon2)]
    )
    assert np.abs(ours - reference).max() < 1e-6


@pytest.mark.parametrize(
    ("a", "b", "expected_km"),
    [
        ((0.0, 0.0), (0.0, 0.0), 0.0),
        ((48.8566, 2.3522), (48.8566, 2.3522), 0.0),
        ((90.0, 0.0), (90.0, 123.0), 0.0),  # the pole has every longitude
        ((90.0, 0.0), (-90.0, 0.0), HALF_CIRCUMFERENCE),
        ((0.0, 0.0), (0.0, 180.0), HALF_CIRCUMFERENCE),
        ((0.0, 179.9), (0.0, -179.9), 0.2 * np.pi / 180 * EARTH_RADIUS_KM),  # across the antimeridian
        ((0.0, -180.0), (0.0, 180.0), 0.0),
        ((0.0, 0.0), (90.0, 0.0), HALF_CIRCUMFERENCE / 2),
        ((45.0, 10.0), (-45.0, -170.0), HALF_CIRCUMFERENCE),  # antipodes
    ],
)
def test_exact_cases(a, b, expected_km):
    assert float(haversine_km(*a, *b)) == pytest.approx(expected_km, abs=1e-9)


def test_near_antipodes_keeps_full_precision():
    # 1 m short of the antipode: the arcsin form of haversine would be off by ~0.06 km here.
    lat, lon = destination_point(10.0, 20.0, 33.0, HALF_CIRCUMFERENCE - 0.001)
    assert float(haversine_km(10.0, 20.0, lat, lon)) == pytest.approx(HALF_CIRCUMFERENCE - 0.001, abs=1e-6)


def test_symmetric_and_broadcasts():
    d = haversine_km([0.0, 10.0], [0.0, 20.0], 5.0, 5.0)
    assert d.shape == (2,)
    assert np.allclose(d, haversine_km(5.0, 5.0, [0.0, 10.0], [0.0, 20.0]))


@pytest.mark.parametrize("distance_km", [0.0, 0.5, 1.0, 25.0, 200.0, 750.0, 2500.0, 10_000.0, 20_000.0])
@pytest.mark.parametrize("bearing", [0.0, 45.0, 90.0, 180.0, 271.0])
@pytest.mark.parametrize("start", [(0.0, 0.0), (48.8566, 2.3522), (-33.87, 151.21), (89.0, -179.5), (-60.0, 179.9)])
def test_destination_point_lands_at_the_requested_distance(start, bearing, distance_km):
    lat, lon = destination_point(*start, bearing, distance_km)
    assert -90 <= lat <= 90 and -180 <= lon <= 180
    assert float(haversine_km(*start, lat, lon)) == pytest.approx(distance_km, abs=1e-6)
    # The direction matters too: geopy's great-circle destination is the independent oracle.
    expected = great_circle(kilometers=distance_km, radius=EARTH_RADIUS_KM).destination(start, bearing)
    assert float(haversine_km(lat, lon, expected.latitude, expected.longitude)) < 1e-6


def test_unit_vectors_round_trip():
    rng = np.random.default_rng(3)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 1000)))
    lon = rng.uniform(-180, 180, 1000)
    xyz = to_unit_vectors(lat, lon)
    assert np.allclose(np.linalg.norm(xyz, axis=-1), 1.0, atol=1e-15)
    back_lat, back_lon = from_unit_vectors(xyz)
    assert np.allclose(back_lat, lat, atol=1e-9) and np.allclose(back_lon, lon, atol=1e-9)
    # chord length and arc length agree: the fact the gazetteer's K-D tree relies on
    chord = np.linalg.norm(xyz[:-1] - xyz[1:], axis=-1)
    arc = haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:]) / EARTH_RADIUS_KM
    assert np.allclose(chord, 2 * np.sin(arc / 2), atol=1e-12)


@pytest.mark.parametrize(
    ("lat", "lon", "message"),
    [
        (91.0, 0.0, "lat must be a finite number in [-90, 90], found 91.0"),
        (-90.0001, 0.0, "lat must be a finite number in [-90, 90], found -90.0001"),
        (0.0, 180.5, "lon must be a finite number in [-180, 180], found 180.5"),
        (np.nan, 0.0, "lat must be a finite number in [-90, 90], found nan"),
        (0.0, np.inf, "lon must be a finite number in [-180, 180], found inf"),
    ],
)
def test_out_of_range_is_an_error_never_wrapped(lat, lon, message):
    with pytest.raises(ValueError) as info:
        haversine_km(lat, lon, 0.0, 0.0)
    assert str(info.value) == message


def test_zero_vector_has_no_direction():
    with pytest.raises(ValueError, match="zero vector"):
        from_unit_vectors([0.0, 0.0, 0.0])
