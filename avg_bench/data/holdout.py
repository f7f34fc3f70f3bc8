"""The operator's secret side of a build: the held-out key, the held-out table and its commitment.

The ``geo-holdout`` test locations are drawn with a secret key, never a public seed. The key comes
from ``--holdout-key FILE``, else ``$AVG_BENCH_HOLDOUT_KEY``, else the labels folder's
``holdout.key``; when none exists ``build`` makes a random one there (so a re-run resumes with the
same draw). Everything secret lives in the hidden-labels folder, beside the dataset and never in it:

* ``holdout.key`` (when generated here),
* ``heldout_locations.csv``: the canonical held-out table (a random nonce line, then
  ``location_id,continent,lat,lon`` of every held-out test location, sorted);
* ``manifest-hidden.jsonl``: the manifest rows of the hidden clips (the operator's labels).

The published **commitment** is the sha256 of ``heldout_locations.csv``'s bytes: it is written into
``build_info.json`` and the card, so the table can be revealed later and checked by anyone. The
nonce keeps the commitment from being confirmed by guessing candidate sets.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from avg_bench.cache import atomic_write_bytes
from avg_bench.data.schema import LocationRecord
from avg_bench.errors import AvgBenchError

KEY_ENV = "AVG_BENCH_HOLDOUT_KEY"
KEY_FILE = "holdout.key"
HELDOUT_FILE = "heldout_locations.csv"
HIDDEN_MANIFEST = "manifest-hidden.jsonl"
HEADER = "location_id,continent,lat,lon"
#: AVG-v1's held-out test locations: secret places beside the 1,000 public ones (20% of them).
SECRET_LOCATIONS_V1 = 200


def load_key(labels_dir: Path, explicit: str | Path | None = None) -> tuple[bytes, str]:
    """The operator's key and where it came from; a new random key is stored in ``labels_dir``."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file() or path.stat().st_size == 0:
            raise AvgBenchError(f"--holdout-key {path}: not a readable, non-empty file")
        return path.read_bytes().strip(), str(path)
    if value := os.environ.get(KEY_ENV):
        return value.encode(), f"${KEY_ENV}"
    stored = labels_dir / KEY_FILE
    if stored.is_file():
        return stored.read_bytes().strip(), str(stored)
    key = secrets.token_hex(32).encode()
    atomic_write_bytes(stored, key + b"\n")
    stored.chmod(0o600)
    return key, f"{stored} (new)"


def heldout_table(key: bytes, locations: Mapping[str, tuple[str, float, float]]) -> bytes:
    """The canonical held-out table: ``location_id -> (continent, lat, lon)`` as committed bytes."""
    nonce = hmac.new(key, b"avg-holdout-commitment-nonce", hashlib.sha256).hexdigest()
    lines = [f"# nonce {nonce}", HEADER]
    lines += [f"{i},{c},{lat:.6f},{lon:.6f}" for i, (c, lat, lon) in sorted(locations.items())]
    return ("\n".join(lines) + "\n").encode()


def commitment(table: bytes) -> str:
    """What the card publishes: anyone can check a revealed table against it."""
    return hashlib.sha256(table).hexdigest()


def read_heldout(path: Path) -> tuple[bytes, set[str]]:
    """The table's bytes and its location ids; a malformed line is an error naming it."""
    data = path.read_bytes()
    ids = set()
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if line.startswith("#") or line == HEADER or not line:
            continue
        parts = line.split(",")
        if len(parts) != 4:
            raise AvgBenchError(f"{path}:{number}: expected {HEADER!r}, found {line[:80]!r}")
        ids.add(parts[0])
    return data, ids


def draw_secret_locations(key: bytes, n: int, public: Sequence[LocationRecord]) -> list[LocationRecord]:
    """``n`` held-out test locations outside the public table, drawn with the operator's key.

    Same algorithm as the public table (:func:`avg_bench.data.locations.select_locations`: continent
    quotas, weights, separation), over the GeoNames places at least ``MIN_SEPARATION_KM`` from every
    public location, with a seed derived from the key. Ids continue after the public table's. So
    the held-out locations are not rows of anything released: elimination over the public table
    finds nothing, and the candidates are every other populated place on Earth.
    """
    import dataclasses
    import math

    import numpy as np

    from avg_bench.data.locations import MIN_SEPARATION_KM, candidate_places, select_locations
    from avg_bench.geo import to_unit_vectors

    if not key:
        raise AvgBenchError("drawing secret locations needs the operator's key")
    candidates = candidate_places()
    xyz = to_unit_vectors(candidates.lat, candidates.lon)
    taken = to_unit_vectors(np.array([p.lat for p in public]), np.array([p.lon for p in public]))
    nearest = (xyz @ taken.T).max(axis=1) if len(public) else np.full(len(candidates), -1.0)
    far = nearest < math.cos(MIN_SEPARATION_KM / 6371.0)
    kept = dataclasses.replace(
        candidates, **{name: _kept(getattr(candidates, name), far)
                       for name in ("geonameid", "name", "lat", "lon", "population", "country", "admin1", "continent")})
    seed = int.from_bytes(hmac.new(key, b"avg-secret-locations", hashlib.sha256).digest()[:8], "big")
    drawn = select_locations(n=n, seed=seed, candidates=kept)
    start = max((int(p.location_id[1:]) for p in public), default=0)
    return [dataclasses.replace(p, location_id=f"L{start + k:04d}") for k, p in enumerate(drawn, start=1)]


def _kept(values: Any, keep: Any) -> Any:
    """The kept entries of one candidate column (an array, or a list for the string columns)."""
    import numpy as np

    return values[keep] if isinstance(values, np.ndarray) else [v for v, ok in zip(values, keep) if ok]
