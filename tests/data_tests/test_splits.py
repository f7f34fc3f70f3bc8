"""Split assignment: deterministic, sources never span splits, every location in every split."""

from collections import Counter, defaultdict
from dataclasses import replace

import pytest

from avg_bench.data.schema import ManifestRecord
from avg_bench.data.splits import holdout_location_splits, holdout_splits, seen_splits
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


def test_holdout_holds_whole_locations_out_across_continents():
    continents = {f"L{i + 1:04d}": c for i, c in enumerate(["EU", "AS", "AF", "NA", "SA", "OC"] * 2)}
    by_location = holdout_location_splits(continents)
    assert by_location == holdout_location_splits(dict(reversed(continents.items())))
    assert Counter(by_location.values()) == Counter({"train": 7, "test": 3, "val": 2})
    assert len({continents[l] for l, s in by_location.items() if s == "test"}) == 3  # spread, not one continent
    records = _manifest()
    splits = holdout_splits(records, continents)
    for r in records:
        assert splits[r.clip_id] == by_location[r.location_id]
