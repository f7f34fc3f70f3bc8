"""Deterministic split assignment for both evaluation protocols, over one hidden pool.

The operator holds the ``geo-holdout`` test locations secret (never a public seed: see
:mod:`avg_bench.data.holdout`). For AVG they are **secret locations**: drawn with the operator's key
from GeoNames places outside the public location table, so no released file, table or algorithm
names them; every manifest location that is not in the public table is one. A manifest with only
public locations (AVG-Synth) draws them with the key instead: locations are ranked by
``HMAC-SHA256(key, location_id)`` within each continent, interleaved across continents, and the
first 20% become held-out test locations. Held-out **val** locations (10% of the public ones) are
drawn the same way; val is public, so they need no secrecy. Then:

* **hidden pool** = every clip at a held-out test location + the ``seen`` test clips. No clip of the
  pool is labelled in any released split of any configuration.
* ``seen`` (seen-location protocol) covers the other locations: every one of them has clips in train,
  val and test, and every source video lies in exactly one split. Per location, sources are ordered
  by a seeded hash and each goes to the split furthest below its target share (14/2/4 of 20 clips by
  default); the last sources are forced into any still-empty split. Held-out test locations are not
  in ``seen`` at all: their clips are labelled nowhere.
* ``geo-holdout`` (unseen-location protocol) reuses the labelled clips: the ``seen`` train and val
  clips of held-out val locations form its val split, those of the remaining locations its train
  split; its test split is every clip at the held-out test locations. ``seen`` test clips are not in
  ``geo-holdout`` (they are hidden, and a test clip there would sit at a train location).

Given the key, everything depends only on ids: re-running gives the same splits, on any machine.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from itertools import zip_longest

from avg_bench.data.schema import ManifestRecord
from avg_bench.errors import AvgBenchError
from avg_bench.spec import AVG_V1

SPLITS = ("train", "val", "test")
#: Target share of each location's clips per split (seen protocol): 14/2/4 of 20.
SEEN_SHARES = {"train": 0.7, "val": 0.1, "test": 0.2}
#: Share of the build's locations held out by the geo-holdout protocol (drawn with the secret key).
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


def holdout_location_splits(locations: Mapping[str, str], *, key: bytes, secret: Collection[str] = ()) -> dict[str, str]:
    """``location_id -> split`` for the geo-holdout protocol; ``locations`` maps id -> continent.

    ``key`` is the operator's secret: without it the held-out locations cannot be recomputed.
    ``secret`` names locations outside the public table (drawn with
    :func:`avg_bench.data.holdout.draw_secret_locations`): when there are any, they are exactly the
    held-out test locations, and val is drawn among the others.
    """
    if not key:
        raise AvgBenchError("the geo-holdout draw needs the operator's secret key (see avg-bench build --help)")
    public = [i for i in locations if i not in secret]
    if len(locations) < len(SPLITS) or len(public) < 2:
        raise AvgBenchError(f"the geo-holdout protocol needs at least {len(SPLITS)} locations, two of them public; "
                            f"found {len(locations)} ({len(public)} public)")
    order = _interleaved({i: locations[i] for i in public}, key)
    n_test = 0 if secret else max(1, math.ceil(HOLDOUT_SHARES["test"] * len(order)))
    n_val = max(1, math.ceil(HOLDOUT_SHARES["val"] * len(order)))
    drawn = {i: "test" if k < n_test else "val" if k < n_test + n_val else "train" for k, i in enumerate(order)}
    return {**drawn, **{i: "test" for i in locations if i in secret}}


def _interleaved(locations: Mapping[str, str], key: bytes) -> list[str]:
    """Locations in secret-key order within each continent, taken round-robin across continents."""
    by_continent: dict[str, list[str]] = defaultdict(list)
    for location_id, continent in locations.items():
        by_continent[continent].append(location_id)
    columns = [sorted(ids, key=lambda i: _secret_rank(key, i)) for _, ids in sorted(by_continent.items())]
    return [i for row in zip_longest(*columns) for i in row if i is not None]


def _secret_rank(key: bytes, location_id: str) -> str:
    return hmac.new(key, f"holdout\x1f{location_id}".encode(), hashlib.sha256).hexdigest()


def assign_splits(records: Sequence[ManifestRecord], continents: Mapping[str, str], *, key: bytes,
                  public_locations: Collection[str] | None = None,
                  seed: str = SPLIT_SEED) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Both protocols over one hidden pool: (``config -> clip_id -> split``, ``location_id -> geo-holdout split``).

    A clip absent from a configuration's mapping is not released in that configuration. Locations
    not in ``public_locations`` (the shipped table) are the operator's secret held-out test locations.
    """
    used = {r.location_id: continents[r.location_id] for r in records}
    secret = set(used) - set(public_locations) if public_locations is not None else set()
    by_location = holdout_location_splits(used, key=key, secret=secret)
    seen = seen_splits([r for r in records if by_location[r.location_id] != "test"], seed=seed)
    holdout: dict[str, str] = {}
    for record in records:
        place = by_location[record.location_id]
        if place == "test":
            holdout[record.clip_id] = "test"
        elif seen[record.clip_id] != "test":
            holdout[record.clip_id] = place
    return {"seen": seen, "geo-holdout": holdout}, by_location


def hidden_pool(assignments: Mapping[str, Mapping[str, str]]) -> set[str]:
    """Clip ids whose label is hidden in some configuration: labelled in none."""
    return {clip_id for config, splits in assignments.items() for clip_id, split in splits.items()
            if split in AVG_V1.hidden_splits}
