"""Regenerate the example labels and predictions in this folder (seeded, deterministic).

    python examples/make_examples.py

30 well-known places on every inhabited continent, 4 clips each (coordinates within 3 km of
the place, as video geotags would be). ``predictions.jsonl`` imitates a decent model (errors
from street level to the wrong continent), ``baseline_predictions.jsonl`` a weaker one. The
labels carry no hierarchy, so the scorer derives it with the gazetteer.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from avg_bench.geo import destination_point

HERE = Path(__file__).parent
PLACES = {  # name: (lat, lon)
    "paris": (48.8566, 2.3522), "london": (51.5074, -0.1278), "berlin": (52.5200, 13.4050),
    "madrid": (40.4168, -3.7038), "rome": (41.9028, 12.4964), "stockholm": (59.3293, 18.0686),
    "istanbul": (41.0082, 28.9784), "cairo": (30.0444, 31.2357), "lagos": (6.5244, 3.3792),
    "nairobi": (-1.2921, 36.8219), "cape-town": (-33.9249, 18.4241), "dakar": (14.7167, -17.4677),
    "tokyo": (35.6762, 139.6503), "seoul": (37.5665, 126.9780), "mumbai": (19.0760, 72.8777),
    "bangkok": (13.7563, 100.5018), "jakarta": (-6.2088, 106.8456), "dubai": (25.2048, 55.2708),
    "new-york": (40.7128, -74.0060), "los-angeles": (34.0522, -118.2437), "mexico-city": (19.4326, -99.1332),
    "toronto": (43.6532, -79.3832), "havana": (23.1136, -82.3666), "sao-paulo": (-23.5505, -46.6333),
    "buenos-aires": (-34.6037, -58.3816), "lima": (-12.0464, -77.0428), "bogota": (4.7110, -74.0721),
    "sydney": (-33.8688, 151.2093), "auckland": (-36.8485, 174.7633), "suva": (-18.1248, 178.4501),
}
CLIPS_PER_PLACE = 4


def _moved(rng: np.random.Generator, lat: float, lon: float, km: float) -> tuple[float, float]:
    new_lat, new_lon = destination_point(lat, lon, rng.uniform(0, 360), km)
    return round(float(new_lat), 5), round(float(new_lon), 5)


def _error_km(rng: np.random.Generator, scale: float) -> float:
    """Heavy-tailed errors: mostly near, sometimes another country or continent."""
    return float(min(rng.lognormal(np.log(scale), 1.6), 19_000.0))


def main() -> None:
    """Write labels.jsonl, predictions.jsonl and baseline_predictions.jsonl beside this script."""
    rng = np.random.default_rng(2026)
    labels, predictions, baseline = [], [], []
    for place_number, (name, (lat, lon)) in enumerate(PLACES.items()):
        for clip in range(CLIPS_PER_PLACE):
            clip_id = f"example-{place_number * CLIPS_PER_PLACE + clip:04d}"
            true_lat, true_lon = _moved(rng, lat, lon, rng.uniform(0, 3))
            labels.append({"clip_id": clip_id, "location_id": name, "lat": true_lat, "lon": true_lon})
            pred_lat, pred_lon = _moved(rng, true_lat, true_lon, _error_km(rng, 12.0))
            predictions.append({"clip_id": clip_id, "lat": pred_lat, "lon": pred_lon})
            base_lat, base_lon = _moved(rng, true_lat, true_lon, _error_km(rng, 400.0))
            baseline.append({"clip_id": clip_id, "lat": base_lat, "lon": base_lon})
    for filename, rows in (
        ("labels.jsonl", labels),
        ("predictions.jsonl", predictions),
        ("baseline_predictions.jsonl", baseline),
    ):
        (HERE / filename).write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


if __name__ == "__main__":
    main()
