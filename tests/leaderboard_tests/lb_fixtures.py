"""Labels, prediction files and request helpers of the leaderboard tests.

Importable as ``leaderboard_tests.lb_fixtures`` (``tests`` is on pytest's pythonpath).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from helpers import CITIES

from avg_bench.geo import destination_point

#: Test-split labels with many decimals, so a leak of any of them is findable in a response.
TEST_CITIES = {
    "paris": (48.853521, 2.346553),
    "nairobi": (-1.292137, 36.821946),
    "tokyo": (35.676219, 139.650312),
    "new-york": (40.712784, -74.005941),
    "sao-paulo": (-23.550521, -46.633309),
    "sydney": (-33.868820, 151.209296),
    "reykjavik": (64.146582, -21.942635),
    "lima": (-12.046374, -77.042793),
}
CLIPS_PER_CITY = 5


def hidden_label_records() -> list[dict]:
    """The hidden test labels: opaque clip ids (as released), clips spread a little around each city."""
    rng = np.random.default_rng(7)
    records = []
    for name, (lat, lon) in TEST_CITIES.items():
        for k in range(CLIPS_PER_CITY):
            dlat, dlon = rng.uniform(-0.05, 0.05, 2)
            records.append({"clip_id": f"avg1-t{len(records):04d}", "location_id": f"loc-{name}", "lat": round(float(lat + dlat), 6), "lon": round(float(lon + dlon), 6)})
    return records


def val_label_records() -> list[dict]:
    return [
        {"clip_id": f"v-{name}-{k}", "location_id": name, "lat": lat, "lon": lon}
        for name, (lat, lon) in CITIES.items()
        for k in range(4)
    ]


def predictions_for(records: list[dict], distances_km, seed: int = 0) -> list[dict]:
    """One prediction per label at exactly the given distances (random bearings)."""
    rng = np.random.default_rng(seed)
    lat = np.array([r["lat"] for r in records])
    lon = np.array([r["lon"] for r in records])
    distances = np.broadcast_to(np.asarray(distances_km, dtype=float), (len(records),))
    plat, plon = destination_point(lat, lon, rng.uniform(0, 360, len(records)), distances)
    return [{"clip_id": r["clip_id"], "lat": round(float(a), 4), "lon": round(float(b), 4)} for r, a, b in zip(records, plat, plon)]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(client, token: str | None, path: Path, **fields):
    data = {"model_name": "model", "split": "val", **fields}
    headers = auth(token) if token else {}
    with path.open("rb") as handle:
        return client.post("/api/submissions", files={"file": (path.name, handle, "application/x-ndjson")}, data=data, headers=headers)
