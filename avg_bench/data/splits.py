"""Deterministic split assignment for both evaluation protocols.

* ``seen`` (seen-location protocol): every location has clips in train, val and test, and every
  source video lies in exactly one split, so no scene leaks across splits. Per location, sources are
  ordered by a seeded hash and each goes to the split furthest below its target share
  (14/2/4 of 20 clips by default); the last sources are forced into any still-empty split.
* ``geo-holdout`` (unseen-location protocol): whole locations are held out. Locations are ordered
  by a seeded hash within each continent, interleaved across continents, and the first 20% go to
  test, the next 10% to val, the rest to train, so held-out locations span the continents.

Both depend only on ids and the seed: re-running gives the same splits, on any machine.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from itertools import zip_longest
from typing import Mapping, Sequence

from avg_bench.errors import AvgBenchError
from avg_bench.data.schema import ManifestRecord

SPLITS = ("train", "val", "test")
#: Target share of each location's clips per split (seen protocol): 14/2/4 of 20.
SEEN_SHARES = {"train": 0.7, "val": 0.1, "test": 0.2}
#: Share of locations per split (geo-holdout protocol).
HOLDOUT_SHARES = {"test": 0.2, "val": 0.1}
SPLIT_SEED = "avg-splits-v1"


def _rank(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def seen_splits(records: Sequence[ManifestRecord], *, seed: str = SPLIT_SEED) -> dict[str, str]:
    """``clip_id -> split`` for the seen-location protocol.

    Raises if a location has fewer than three source videos (it could not be in every split).
    """
    sources: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        sources[record.location_id][record.source_key].append(record.clip_id)
    assignment: dict[str, str] = {}
    for location_id in sorted(sources):
        by_source = sources[location_id]
        if len(by_source) < len(SPLITS):
            raise AvgBenchError(
                f"location {location_id} has {len(by_source)} source video(s); the seen protocol needs at least "
                f"{len(SPLITS)} (one per split) so that no source spans two splits"
            )
        total = sum(len(clips) for clips in by_source.values())
        target = {split: share * total for split, share in SEEN_SHARES.items()}
        taken = {split: 0 for split in SPLITS}
        holders = {split: 0 for split in SPLITS}
        ordered = sorted(by_source, key=lambda key: _rank(seed, location_id, key))
        for position, source in enumerate(ordered):
            remaining = len(ordered) - position
            empty = [split for split in SPLITS if holders[split] == 0]
            candidates = empty if len(empty) >= remaining else list(SPLITS)
            split = max(candidates, key=lambda s: (target[s] - taken[s], -SPLITS.index(s)))
            taken[split] += len(by_source[source])
            holders[split] += 1
            for clip_id in by_source[source]:
                assignment[clip_id] = split
    return assignment


def holdout_location_splits(locations: Mapping[str, str], *, seed: str = SPLIT_SEED) -> dict[str, str]:
    """``location_id -> split`` for the geo-holdout protocol; ``locations`` maps id -> continent."""
    if len(locations) < len(SPLITS):
        raise AvgBenchError(f"the geo-holdout protocol needs at least {len(SPLITS)} locations, found {len(locations)}")
    by_continent: dict[str, list[str]] = defaultdict(list)
    for location_id, continent in locations.items():
        by_continent[continent].append(location_id)
    columns = [sorted(ids, key=lambda i: _rank(seed, "holdout", i)) for _, ids in sorted(by_continent.items())]
    order = [i for row in zip_longest(*columns) for i in row if i is not None]
    n_test = max(1, math.ceil(HOLDOUT_SHARES["test"] * len(order)))
    n_val = max(1, math.ceil(HOLDOUT_SHARES["val"] * len(order)))
    return {
        location_id: "test" if k < n_test else "val" if k < n_test + n_val else "train"
        for k, location_id in enumerate(order)
    }


def holdout_splits(records: Sequence[ManifestRecord], continents: Mapping[str, str], *, seed: str = SPLIT_SEED) -> dict[str, str]:
    """``clip_id -> split`` for the geo-holdout protocol (all clips of a location share its split)."""
    used = {record.location_id: continents[record.location_id] for record in records}
    by_location = holdout_location_splits(used, seed=seed)
    return {record.clip_id: by_location[record.location_id] for record in records}
