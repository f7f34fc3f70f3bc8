"""curate on recorded search results (data/search_results.json, made by data/make_search_results.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from remote_tests.data.make_search_results import LOCATIONS, build

from avg_bench.data.curate import CurateOptions, check, curate, proposed_starts, recorded_search

DATA = Path(__file__).with_name("data")
CLI = Path(sys.executable).parent / "avg-bench"


def test_recorded_fixture_is_what_the_script_makes():
    assert json.loads((DATA / "search_results.json").read_text()) == build()


def test_filters_drop_every_planted_bad_row():
    options = CurateOptions()
    rows = {e["id"]: e for results in build().values() for e in results}
    assert check(rows["parisLive001"], options) == ["duration unknown", "live stream (is_live)"]
    assert check(rows["parisShort1"], options) == ["duration 30 s outside [60, 14400]"]
    assert check(rows["parisMusic1"], options) == ["title suggests official video"]
    assert check(rows["parisPriv01"], options) == ["availability private"]
    assert check(rows["parisMute01"], options) == ["no audio"]
    assert check(rows["parisPrem01"], options) == ["live stream (is_upcoming)"]
    assert check(rows["parisWalk01"], options) == []


def test_curate_ranks_and_never_reuses_a_video():
    chosen = curate(LOCATIONS, search=recorded_search(DATA / "search_results.json"), options=CurateOptions(per_location=5))
    by_location = {}
    for c in chosen:
        by_location.setdefault(c.location_id, []).append(c.source_id)
    assert by_location == {"L0001": ["parisWalk01", "parisAmb002", "sharedVid01"], "L0002": ["tokyoWalk01"]}
    best = chosen[0]
    assert best.source_platform == "youtube" and best.source_uri.endswith("v=parisWalk01")
    assert "Creative Commons licence" in best.reasons and "place named in title" in best.reasons
    assert best.proposed_starts == proposed_starts(3600, CurateOptions()) == [718.8, 1436.2, 2153.8, 2871.2]


def test_curate_cli_writes_candidates(tmp_path):
    locations = tmp_path / "locations.jsonl"
    locations.write_text("".join(json.dumps(asdict(loc)) + "\n" for loc in LOCATIONS))
    out = tmp_path / "candidates.jsonl"
    done = subprocess.run([str(CLI), "curate", str(locations), "--out", str(out), "--per-location", "1",
                           "--recorded", str(DATA / "search_results.json")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["location_id"], r["source_id"]) for r in rows] == [("L0001", "parisWalk01"), ("L0002", "tokyoWalk01")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"location_id": "L0001"}\n')
    done = subprocess.run([str(CLI), "curate", str(bad), "--out", str(out), "--recorded", str(DATA / "search_results.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and f"{bad}:1:" in done.stderr and "Traceback" not in done.stderr


def test_curate_records_the_licence_it_sees_and_what_publish_would_do():
    chosen = curate(LOCATIONS, search=recorded_search(DATA / "search_results.json"), options=CurateOptions(per_location=5))
    by_id = {c.source_id: c for c in chosen}
    assert by_id["parisWalk01"].license == "Creative Commons Attribution license (reuse allowed)"
    assert by_id["parisWalk01"].license_check == "redistributable: Creative Commons Attribution"
    unlicensed = [c for c in chosen if c.license is None]
    assert unlicensed and all(c.license_check == "publish would refuse: no licence recorded: all rights reserved by default"
                              for c in unlicensed)
