"""Split assignment: deterministic, sources never span splits, every location in every split, one hidden pool."""

from collections import Counter, defaultdict
from dataclasses import replace

import pytest

from avg_bench.data.schema import ManifestRecord
from avg_bench.data.splits import assign_splits, hidden_pool, holdout_location_splits, seen_splits
from avg_bench.errors import AvgBenchError


def _manifest(locations=12, sources=5, clips=4, prefix="t"):
    records = []
    for loc in range(locations):
        for src in range(sources):
            for clip in range(clips):
                records.append(
                    ManifestRecord(
                        clip_id=f"{prefix}-{loc:03d}{src:03d}{clip:04d}",
                        location_id=f"L{loc + 1:04d}",
                        source_platform="synthetic",
                        source_id=f"v{loc}-{src}",
                        source_uri=f"v{loc}-{src}.mp4",
                        start_s=clip * 10.0,
                        end_s=clip * 10.0 + 10.0,
                        lat=0.0,
                        lon=0.0,
                        coord_source="centroid",
                        license="CC0-1.0",
                    )
                )
    return records


def test_seen_splits_keep_sources_whole_and_cover_every_location():
    records = _manifest()
    splits = seen_splits(records)
    assert splits == seen_splits(list(reversed(records)))  # order of the manifest does not matter
    by_source = defaultdict(set)
    by_location = defaultdict(Counter)
    for r in records:
        by_source[r.source_key].add(splits[r.clip_id])
        by_location[r.location_id][splits[r.clip_id]] += 1
    assert all(len(s) == 1 for s in by_source.values())
    for counts in by_location.values():
        assert set(counts) == {"train", "val", "test"}
        assert counts == Counter({"train": 12, "val": 4, "test": 4})  # closest to 14/2/4 with 4-clip sources


def test_seen_splits_hit_14_2_4_when_sources_allow():
    template = _manifest(1, 1, 1)[0]
    records = [
        replace(template, clip_id=f"t-{src:05d}{clip:05d}", source_id=f"s{src}", start_s=clip * 10.0, end_s=clip * 10.0 + 10)
        for src, size in enumerate([4, 4, 4, 2, 2, 2, 2])  # 20 clips
        for clip in range(size)
    ]
    counts = Counter(seen_splits(records).values())
    assert counts == Counter({"train": 14, "val": 2, "test": 4})


def test_seen_splits_need_three_sources_per_location():
    with pytest.raises(AvgBenchError, match="location L0001 has 2 source video"):
        seen_splits(_manifest(locations=1, sources=2))


KEY = b"operator-secret"


def test_holdout_holds_whole_locations_out_across_continents():
    continents = {f"L{i + 1:04d}": c for i, c in enumerate(["EU", "AS", "AF", "NA", "SA", "OC"] * 2)}
    by_location = holdout_location_splits(continents, key=KEY)
    assert by_location == holdout_location_splits(dict(reversed(continents.items())), key=KEY)
    assert Counter(by_location.values()) == Counter({"train": 7, "test": 3, "val": 2})
    assert len({continents[loc] for loc, s in by_location.items() if s == "test"}) == 3  # spread, not one continent


def test_held_out_locations_follow_the_secret_key_not_a_public_seed():
    continents = {f"L{i + 1:04d}": ["EU", "AS", "AF", "NA", "SA", "OC"][i % 6] for i in range(60)}
    draws = [frozenset(loc for loc, s in holdout_location_splits(continents, key=k).items() if s == "test")
             for k in (b"a", b"b", b"c")]
    assert all(len(d) == 12 for d in draws) and len(set(draws)) == 3  # another key, another held-out set
    with pytest.raises(AvgBenchError, match="secret key"):
        holdout_location_splits(continents, key=b"")


def test_one_hidden_pool_across_both_protocols():
    records = _manifest()
    continents = {f"L{i + 1:04d}": c for i, c in enumerate(["EU", "AS", "AF", "NA", "SA", "OC"] * 2)}
    splits, by_location = assign_splits(records, continents, key=KEY)
    assert splits == assign_splits(list(reversed(records)), continents, key=KEY)[0]
    pool = hidden_pool(splits)
    held = {loc for loc, s in by_location.items() if s == "test"}
    at = {r.clip_id: r.location_id for r in records}
    # the pool: every clip at a held-out test location, plus the seen test clips
    assert pool == {c for c, loc in at.items() if loc in held} | {c for c, s in splits["seen"].items() if s == "test"}
    for config, by_clip in splits.items():
        labelled = {c for c, s in by_clip.items() if s != "test"}
        assert not labelled & pool, config
    # seen: the other 9 locations, 12/4/4 each; geo-holdout: 7 train and 2 val locations (16 clips each), 3 test (20)
    assert Counter(splits["seen"].values()) == Counter({"train": 108, "val": 36, "test": 36})
    assert Counter(splits["geo-holdout"].values()) == Counter({"train": 112, "val": 32, "test": 60})
    assert {at[c] for c, s in splits["geo-holdout"].items() if s == "train"}.isdisjoint(
        {at[c] for c, s in splits["geo-holdout"].items() if s != "train"})
    assert {at[c] for c in splits["seen"]}.isdisjoint(held)  # held-out test locations are labelled nowhere


def test_planned_avg_sizes_come_from_the_split_code():
    from avg_bench.data.card import planned_counts
    from avg_bench.data.locations import load_locations

    # AVG-v1: 1,000 public locations + 200 secret held-out ones, 20 clips each
    assert planned_counts(load_locations(), secret=200) == {
        "seen": {"train": 14000, "val": 2000, "test": 4000},
        "geo-holdout": {"train": 14400, "val": 1600, "test": 4000},
    }
    # the same 1,000 with the held-out ones drawn among them (what elimination over the table would name)
    assert planned_counts(load_locations()) == {
        "seen": {"train": 11200, "val": 1600, "test": 3200},
        "geo-holdout": {"train": 11200, "val": 1600, "test": 4000},
    }


def test_secret_locations_are_the_held_out_test_set_and_lie_outside_the_public_table():
    import numpy as np

    from avg_bench.data.holdout import draw_secret_locations
    from avg_bench.data.locations import load_locations
    from avg_bench.geo import haversine_km

    public = load_locations()
    secret = draw_secret_locations(KEY, 30, public)
    assert [p.location_id for p in secret] == [f"L{1000 + k:04d}" for k in range(1, 31)]
    assert secret == draw_secret_locations(KEY, 30, public)  # the key decides ...
    assert {p.geonameid for p in secret} != {p.geonameid for p in draw_secret_locations(b"other", 30, public)}
    lat, lon = np.array([p.lat for p in public]), np.array([p.lon for p in public])
    assert min(float(haversine_km(p.lat, p.lon, lat, lon).min()) for p in secret) >= 100.0  # ... never a public place
    assert {p.geonameid for p in secret}.isdisjoint(p.geonameid for p in public)
    records = _manifest(locations=12)  # L0001..L0012 public; make three of them secret ids
    renamed = {"L0001": "L1001", "L0002": "L1002", "L0003": "L1003"}
    records = [replace(r, location_id=renamed.get(r.location_id, r.location_id)) for r in records]
    continents = {r.location_id: ["EU", "AS", "AF"][int(r.location_id[1:]) % 3] for r in records}
    splits, by_location = assign_splits(records, continents, key=KEY, public_locations={p.location_id for p in public})
    assert {loc for loc, s in by_location.items() if s == "test"} == set(renamed.values())
    assert Counter(by_location.values()) == Counter({"train": 8, "test": 3, "val": 1})
    assert not {r.location_id for r in records if r.clip_id in splits["seen"]} & set(renamed.values())
