"""The attacker of issue 11: two teams, constant predictions on the hidden split, every public response.

Each team may make one test submission a week, so two teams give two distance "probes": every
clip predicted at P_A, and every clip predicted at P_B. A group's ``mean_km`` is then the mean
distance from P_A (or P_B) to the group's clips; when the group is one location, two such numbers
are two circles whose intersection is the location (trilateration). The attacker here crawls every
response anyone can get (JSON, pages, map, export, compare, both teams' own views), collects every
group released at full precision, and intersects the circles of each group's mean distance (and of
the distance its GeoScore implies, and its median if one is released). Against a server with k = 1
the attack recovers held-out locations to a few km; with the default k = 5 it must stay above 500 km
and no released number may equal a per-location or per-clip value.
"""

from __future__ import annotations

import re
from itertools import product

import numpy as np
import pytest
from fastapi.testclient import TestClient
from leaderboard_tests.lb_fixtures import (
    TEST_CITIES,
    auth,
    hidden_label_records,
    upload,
    write_jsonl,
)

from avg_bench.geo import haversine_km
from leaderboard import store
from leaderboard.app import create_app
from leaderboard.disclosure import shown_groups
from leaderboard.errormap import cell_means, render_error_map
from leaderboard.export import export_table

#: The two teams' constant predictions (the attacker's choice: far apart, well inside the map).
PROBES = {"Team A": (0.0, 0.0), "Team B": (30.0, 60.0)}
GEOSCORE_SCALE_KM = 1492.7
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")


def _unit(lat: float, lon: float) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def circle_intersections(p: tuple[float, float], r_p: float, q: tuple[float, float], r_q: float) -> list[tuple[float, float]]:
    """Points at great-circle distance ``r_p`` from ``p`` and ``r_q`` from ``q`` (km); when the circles do
    not meet, the best compromise on the plane of p and q (the attacker's least-squares guess)."""
    a, b = _unit(*p), _unit(*q)
    ca, cb = np.cos(r_p / 6371.0), np.cos(r_q / 6371.0)
    ab = a @ b
    alpha, beta = np.linalg.solve(np.array([[1.0, ab], [ab, 1.0]]), np.array([ca, cb]))
    base = alpha * a + beta * b
    normal = np.cross(a, b)
    gamma_sq = (1.0 - base @ base) / (normal @ normal)
    points = [base / np.linalg.norm(base)] if gamma_sq <= 0 else [base + s * np.sqrt(gamma_sq) * normal for s in (1, -1)]
    return [(float(np.degrees(np.arcsin(np.clip(x[2], -1, 1)))), float(np.degrees(np.arctan2(x[1], x[0])))) for x in points]


def _radii(metrics: dict) -> dict[str, float]:
    """Distances a group's released numbers imply for a constant prediction, per statistic."""
    out = {}
    for name, part in product(("mean_km", "median_km", "geoscore"), ("value", "ci_low", "ci_high")):
        v = metrics[name].get(part)
        if v is None:
            continue
        if name != "geoscore":
            out[f"{name}.{part}"] = v
        elif 0 < v < 5000:
            out[f"{name}.{part}"] = -GEOSCORE_SCALE_KM * np.log(v / 5000.0)  # GeoScore = 5000 exp(-d / 1492.7)
    return out


def _groups(results: dict) -> dict[str, dict]:
    """Every group a results JSON releases, named so the two teams' copies can be paired."""
    groups = {"overall": results["metrics"], "macro": results["macro"]}
    for name, breakdown in results.items():
        if name.startswith("by_") and isinstance(breakdown, dict):
            groups.update({f"{name}/{key}": g["metrics"] for key, g in breakdown.items()})
    return groups


def recovered_error_km(released: dict[str, dict]) -> float:
    """The attacker's best: for every group both teams see and every statistic (mean, median, the distance
    GeoScore implies; value and CI ends), intersect team A's circle with team B's circle of the same
    statistic; the error is that of the estimate (either mirror point) nearest to any held-out location.

    Statistics are paired like with like: pairing every radius with every other multiplies the guesses,
    and enough guesses land near one of 8 cities by chance (radii jittered by +-400 km, i.e. carrying
    no information, "hit" more often than the real ones did when we tried it).
    """
    a, b = _groups(released["Team A"]), _groups(released["Team B"])
    truth = np.array(list(TEST_CITIES.values()))
    best = np.inf
    for name in a.keys() & b.keys():
        ra, rb = _radii(a[name]), _radii(b[name])
        for statistic in ra.keys() & rb.keys():
            for lat, lon in circle_intersections(PROBES["Team A"], ra[statistic], PROBES["Team B"], rb[statistic]):
                best = min(best, float(haversine_km(lat, lon, truth[:, 0], truth[:, 1]).min()))
    return best


def _walk_numbers(value) -> list[float]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _walk_numbers(v)]
    if isinstance(value, list):
        return [x for v in value for x in _walk_numbers(v)]
    return []


def secret_values_km() -> np.ndarray:
    """Per-clip and per-location (mean, median) distances from each probe: what must never be released."""
    records = hidden_label_records()
    lat = np.array([r["lat"] for r in records])
    lon = np.array([r["lon"] for r in records])
    location = np.array([r["location_id"] for r in records])
    values = []
    for plat, plon in PROBES.values():
        d = haversine_km(lat, lon, plat, plon)
        values += list(d)
        for loc in set(location):
            values += [d[location == loc].mean(), float(np.median(d[location == loc]))]
    return np.array(values)


def crawl(lb, min_locations: int, tmp_path) -> dict:
    """Submit the two constant predictions and fetch every public response, as anyone and as each team."""
    records = hidden_label_records()
    tokens = {team: store.create_token(lb.engine, team) for team in PROBES}
    with TestClient(create_app(leaderboard=lb, start_worker=False)) as client:
        ids = {}
        for team, (plat, plon) in PROBES.items():
            path = write_jsonl(tmp_path / f"{team[-1]}-{min_locations}.jsonl", [{"clip_id": r["clip_id"], "lat": plat, "lon": plon} for r in records])
            response = upload(client, tokens[team], path, split="test", model_name=f"constant {team}")
            assert response.status_code == 202, response.text
            ids[team] = response.json()["id"]
        assert lb.score_pending() == 2
        a, b = ids["Team A"], ids["Team B"]
        json_paths = [
            "/api/health", "/api/entries?split=test", "/api/entries?split=test&sort=median_km", "/api/entries?split=test&sort=mean_km&order=desc",
            *(p for i in (a, b) for p in (f"/api/entries/{i}", f"/api/entries/{i}/results")),
            f"/api/compare?a={a}&b={b}", f"/api/compare?a={b}&b={a}",
        ]
        html_paths = ["/?split=test", "/?split=test&sort=median_km", f"/entries/{a}", f"/entries/{b}", f"/compare?a={a}&b={b}", f"/compare?a={b}&b={a}"]
        viewers = {"anonymous": {}, **{team: auth(token) for team, token in tokens.items()}}
        out = {"json": {}, "html": {}, "png": {}, "results": {}, "ids": ids}
        for (viewer, headers), path in product(viewers.items(), json_paths):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)
            out["json"][viewer, path] = response.json()
        for team, token in tokens.items():
            out["json"][team, "/api/me"] = client.get("/api/me", headers=auth(token)).json()
            out["results"][team] = out["json"][team, f"/api/entries/{ids[team]}/results"]
        for path in html_paths:
            response = client.get(path)
            assert response.status_code == 200, path
            out["html"][path] = response.text
        for fmt in ("md", "html"):
            out["html"][f"export.{fmt}"] = export_table(lb.engine, fmt=fmt, split="test")
        for team, i in ids.items():
            out["png"][team] = client.get(f"/entries/{i}/map.png").content
    return out


def _leaks(crawled: dict) -> list[str]:
    """Released numbers equal to a per-clip or per-location value (JSON exactly, pages as printed)."""
    secrets = secret_values_km()
    found = []
    for where, body in crawled["json"].items():
        for x in _walk_numbers(body):
            if x > 1 and np.isclose(secrets, x, rtol=0, atol=1e-6).any():
                found.append(f"{where}: {x}")
    for where, text in crawled["html"].items():
        for token in _NUMBER.findall(text):
            x = float(token)
            if "." in token and x > 1 and (np.abs(secrets - x) <= 0.05).any():
                found.append(f"{where}: {token}")
    return found


@pytest.fixture
def attack(make_leaderboard, tmp_path):
    def run(min_locations: int) -> dict:
        lb = make_leaderboard(f"sqlite:///{tmp_path / f'lb-{min_locations}.sqlite3'}", min_locations=min_locations)
        return crawl(lb, min_locations, tmp_path)

    return run


def test_the_attack_works_against_a_server_without_the_k_rule(attack):
    """The control: with k = 1, one-location continents are released and trilateration finds them."""
    crawled = attack(1)
    error = recovered_error_km(crawled["results"])
    assert error < 25.0, error  # a held-out city recovered to within the spread of its clips
    assert _leaks(crawled), "the per-location mean of a one-location continent should be visible"


def test_two_teams_recover_nothing_below_k_locations(attack, make_leaderboard, tmp_path):
    crawled = attack(5)
    k = 5
    # Nothing below k locations is shown, in any response.
    for where, body in crawled["json"].items():
        for name, breakdown in (body.items() if isinstance(body, dict) else []):
            if name.startswith("by_"):
                assert all(g["n_locations"] >= k for g in breakdown.values()), where
        if isinstance(body, dict) and "settings" in body:
            assert body["settings"]["disclosure"]["min_locations"] == k
            assert body["metrics"]["median_km"] == {"value": None, "ci_low": None, "ci_high": None}
    for team in PROBES:
        results = crawled["results"][team]
        assert results["counts"]["locations"] == len(TEST_CITIES) >= k  # the overall numbers rest on 8 locations
        assert results["by_continent"] == {} and results["worst_continent"] == {}
        assert results["settings"]["disclosure"]["groups_withheld"] == {"by_continent": 6, "by_country": 0}
        assert results["error_cells"] == [] and len(results["curve"]["thresholds_km"]) == 5
    for path, text in crawled["html"].items():
        assert "data-continent=" not in text, path
    for entry in crawled["json"]["anonymous", "/api/entries?split=test"]["entries"]:
        assert entry["summary"]["metrics"]["median_km"]["value"] is None
    # The map draws no cell: byte for byte the map of an empty grid.
    empty = np.full((18, 36), np.nan)
    for team, png in crawled["png"].items():
        title = f"constant {team} ({team}), test/seen"
        assert png == render_error_map(empty, title=title)
    # No released number equals a per-clip or per-location distance, and trilateration fails.
    assert _leaks(crawled) == []
    error = recovered_error_km(crawled["results"])
    assert error > 500.0, error


def test_complementary_suppression_and_map_cells_count_locations(labels_dir):
    """Groups: 'total minus the shown groups' never isolates fewer than k locations."""
    from avg_bench import load_labels

    labels = load_labels(labels_dir / "seen" / "test.parquet")
    per_continent = {}
    for code, loc in zip(labels.hierarchy.continent, labels.location_id):
        per_continent.setdefault(code, set()).add(loc)
    counts = {code: len(locs) for code, locs in per_continent.items()}
    assert counts == {"AF": 1, "AS": 1, "EU": 2, "NA": 1, "OC": 1, "SA": 2}
    assert shown_groups(counts, 2) == {"EU", "SA"}  # the rest (AF, AS, NA, OC) covers 4 >= 2 locations
    assert shown_groups(counts, 3) == set()
    # EU with 6 locations meets k = 5, but then "total minus EU" is the other 6 locations: fine; with only
    # 3 others, EU must go too, or the difference would isolate those 3.
    assert shown_groups({**counts, "EU": 6}, 5) == {"EU"}
    assert shown_groups({"EU": 6, "AF": 1, "AS": 2}, 5) == set()
    means, n_locations = cell_means(labels.lat, labels.lon, np.zeros(len(labels)), labels.location_id, min_locations=2)
    assert n_locations.sum() == 8 and np.isfinite(means).sum() == 0


def test_a_hidden_board_under_k_locations_refuses_submissions(make_leaderboard, tmp_path, files):
    lb = make_leaderboard(f"sqlite:///{tmp_path / 'lb.sqlite3'}", min_locations=9)
    token = store.create_token(lb.engine, "Team")
    with TestClient(create_app(leaderboard=lb, start_worker=False)) as client:
        refused = upload(client, token, files["test_good"], split="test")
        assert refused.status_code == 400
        assert "covers 8 locations, fewer than the 9" in refused.json()["error"]
        assert upload(client, token, files["val_good"], split="val").status_code == 202  # val is public
        assert client.get("/api/me", headers=auth(token)).json()["quota"]["used"] == 0
