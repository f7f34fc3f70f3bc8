"""Errors per grid cell of the true location: the data behind the world map of errors.

Cells, not clips: a map of per-clip points would show where each clip was recorded, which a
hidden split must not. Each cell carries its clip and location counts, so a reader sees how
much a colour rests on; the caller drops cells with too few locations on hidden splits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

CELL_DEG = 10.0


def error_cells(
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    distance_km: NDArray[np.float64],
    cluster: NDArray[np.intp],
    *,
    cell_deg: float = CELL_DEG,
    min_locations: int = 1,
) -> list[dict[str, Any]]:
    """One record per occupied cell: south-west corner, size, counts, mean and median error (km).

    >>> cells = error_cells(np.array([48.8, 48.9, -33.9]), np.array([2.3, 2.4, 151.2]),
    ...                     np.array([10.0, 30.0, 500.0]), np.array([0, 0, 1]))
    >>> [(c["lat"], c["lon"], c["n_clips"], c["mean_km"]) for c in cells]
    [(-40.0, 150.0, 1, 500.0), (40.0, 0.0, 2, 20.0)]
    """
    rows = np.clip(((lat + 90.0) // cell_deg).astype(np.int64), 0, int(180 / cell_deg) - 1)
    cols = np.clip(((lon + 180.0) // cell_deg).astype(np.int64), 0, int(360 / cell_deg) - 1)
    key = rows * 1000 + cols
    cells = []
    for k in np.unique(key):
        mask = key == k
        n_locations = len(np.unique(cluster[mask]))
        if n_locations < min_locations:
            continue
        errors = distance_km[mask]
        cells.append({
            "lat": float(k // 1000 * cell_deg - 90.0),
            "lon": float(k % 1000 * cell_deg - 180.0),
            "size_deg": cell_deg,
            "n_clips": int(mask.sum()),
            "n_locations": n_locations,
            "mean_km": float(errors.mean()),
            "median_km": float(np.median(errors)),
        })
    return cells
