"""The Chain-of-Region gazetteer: well-known places, true great-circle nearest, quietness."""

import subprocess
import sys

import numpy as np
import pytest

from avg_bench.geo import default_gazetteer, haversine_km, reverse_geocode
from avg_bench.geo.continents import CONTINENT_NAMES, continent_of, country_to_continent


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        (48.8566, 2.3522, ("EU", "FR", "Ile-de-France", "Paris")),
        (-33.8688, 151.2093, ("OC", "AU", "New South Wales", "Sydney")),
        (35.6762, 139.6503, ("AS", "JP", "Tokyo", "Tokyo")),
        (40.7128, -74.0060, ("NA", "US", "New York", "New York City")),
        (-1.2921, 36.8219, ("AF", "KE", "Nairobi Area", "Nairobi")),
        (-23.5505, -46.6333, ("SA", "BR", "Sao Paulo", "Sao Paulo")),
        (19.0760, 72.8777, ("AS", "IN", "Maharashtra", "Mumbai")),
        (55.7558, 37.6173, ("EU", "RU", "Moscow", "Moscow")),
        (-18.1248, 178.4501, ("OC", "FJ", "Central", "Suva")),
        # Definitions to state, not bugs: continent follows the country.
        (21.3069, -157.8583, ("NA", "US", "Hawaii", "Honolulu")),
        (28.1235, -15.4363, ("EU", "ES", "Canary Islands", "Las Palmas de Gran Canaria")),
    ],
)
def test_well_known_places(lat, lon, expected):
    h = reverse_geocode(lat, lon)
    assert (h.continent[0], h.country[0], h.admin1[0], h.city[0]) == expected


def test_nearest_is_the_great_circle_nearest_not_the_raw_degree_one():
    # reverse_geocoder's own lookup (K-D tree on raw degrees) sends the South Pole to South
    # Georgia (~3,972 km away); the true nearest populated place is McMurdo Station (~1,352 km).
    h = reverse_geocode(-90.0, 0.0)
    assert (h.country[0], h.city[0]) == ("AQ", "McMurdo Station")
    # Near the Eiffel Tower the raw-degree lookup picks Vanves (3.9 km); Neuilly-sur-Seine is closer.
    assert reverse_geocode(48.8584, 2.2945).city[0] == "Neuilly-sur-Seine"
    # Across the antimeridian: raw degrees pick Atafu (Tokelau, 2,478 km) for this point.
    assert reverse_geocode(12.4714, -179.9911).country[0] == "MH"


def test_nearest_matches_brute_force_on_random_points():
    gazetteer = default_gazetteer()
    table = gazetteer._table
    rng = np.random.default_rng(11)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 150)))
    lon = rng.uniform(-180, 180, 150)
    index, _ = gazetteer.nearest(lat, lon)
    for i in range(len(lat)):
        distances = haversine_km(lat[i], lon[i], table.lat, table.lon)
        assert distances[index[i]] == pytest.approx(distances.min(), abs=1e-9)


def test_every_country_in_the_table_has_a_continent():
    table = default_gazetteer()._table
    mapping = country_to_continent()
    assert set(table.countries) <= set(mapping)
    assert set(mapping.values()) == set(CONTINENT_NAMES)
    assert continent_of(["FR", "AQ", "BR"]).tolist() == ["EU", "AN", "SA"]
    with pytest.raises(KeyError, match="'ZZ'"):
        continent_of(["ZZ"])


def test_batch_keeps_shape_and_order():
    lat = np.array([48.8566, -33.8688, 48.8566])
    lon = np.array([2.3522, 151.2093, 2.3522])
    h = reverse_geocode(lat, lon)
    assert h.city.tolist() == ["Paris", "Sydney", "Paris"]
    assert h.take(np.array([2, 0])).city.tolist() == ["Paris", "Paris"]


def test_hierarchical_matches_require_every_coarser_level():
    truth = reverse_geocode([48.8566, 48.8566, 48.8566], [2.3522, 2.3522, 2.3522])
    # Paris itself; Lyon (same country, other admin1); a Paris in Texas (other country).
    predicted = reverse_geocode([48.8566, 45.7640, 33.6609], [2.3522, 4.8357, -95.5555])
    matches = truth.matches(predicted)
    assert matches["continent"].tolist() == [True, True, False]
    assert matches["country"].tolist() == [True, True, False]
    assert matches["admin1"].tolist() == [True, False, False]
    # Same city name in another country never counts as the same city.
    assert predicted.city[2] == "Paris" and matches["city"].tolist() == [True, False, False]


def test_quiet_and_cached(tmp_path):
    """No stray stdout (reverse_geocoder prints on first use), and a second process reads the cache."""
    code = (
        "from avg_bench.geo import reverse_geocode; h = reverse_geocode(48.8566, 2.3522); "
        "import sys; sys.stderr.write(h.city[0])"
    )
    env = {"AVG_BENCH_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        assert done.stdout == "" and done.stderr == "Paris"
    assert len(list(tmp_path.glob("gazetteer-*.pkl"))) == 1


def test_out_of_range_points_are_refused():
    with pytest.raises(ValueError, match=r"lat must be a finite number in \[-90, 90\], found 95.0"):
        reverse_geocode(95.0, 0.0)


def test_a_new_cache_deletes_other_installations_stale_ones(tmp_path, monkeypatch):
    """Every reinstall keys a new 9 MB cache; week-old ones of other installations go, fresh ones stay."""
    import os
    import time

    from avg_bench.geo import gazetteer as module

    monkeypatch.setenv("AVG_BENCH_CACHE", str(tmp_path))
    stale, fresh, unrelated = tmp_path / "gazetteer-v2-aaaa.pkl", tmp_path / "gazetteer-v1-bbbb.pkl", tmp_path / "other.pkl"
    for path in (stale, fresh, unrelated):
        path.write_bytes(b"x")
    old = time.time() - module.STALE_CACHE_S - 60
    os.utime(stale, (old, old))
    os.utime(unrelated, (old, old))
    module.default_gazetteer.cache_clear()
    try:
        assert len(module.default_gazetteer()) > 100_000
    finally:
        module.default_gazetteer.cache_clear()
    written = [p.name for p in tmp_path.glob("gazetteer-v*.pkl") if p not in (stale, fresh)]
    assert len(written) == 1 and not stale.exists() and fresh.exists() and unrelated.exists()
