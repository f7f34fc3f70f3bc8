"""Test helpers (importable: ``tests`` is on pytest's pythonpath): labels and exact-distance predictions."""

from __future__ import annotations

import numpy as np

from avg_bench import Labels, labels_from_records
from avg_bench.geo import destination_point

#: Real places on five continents, used as locations by several tests.
CITIES = {
    "paris": (48.8566, 2.3522),
    "nairobi": (-1.2921, 36.8219),
    "tokyo": (35.6762, 139.6503),
    "new-york": (40.7128, -74.0060),
    "sao-paulo": (-23.5505, -46.6333),
    "sydney": (-33.8688, 151.2093),
}


def make_labels(clips_per_city: int = 4, cities: dict = CITIES) -> Labels:
    records = [
        {"clip_id": f"{name}-{k}", "location_id": name, "lat": lat, "lon": lon}
        for name, (lat, lon) in cities.items()
        for k in range(clips_per_city)
    ]
    return labels_from_records(records)


def predictions_at(labels: Labels, distances_km, *, seed: int = 0) -> list[dict]:
    """One prediction per labelled clip at exactly ``distances_km`` (random bearings)."""
    rng = np.random.default_rng(seed)
    distances = np.broadcast_to(np.asarray(distances_km, dtype=float), (len(labels),))
    lat, lon = destination_point(labels.lat, labels.lon, rng.uniform(0, 360, len(labels)), distances)
    return [{"clip_id": c, "lat": float(a), "lon": float(b)} for c, a, b in zip(labels.clip_id, lat, lon)]
