"""The vectorised group statistics (per-cell errors, group medians) equal the plain loops they replaced, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from avg_bench.metrics.cells import error_cells
from avg_bench.metrics.summary import column_medians


def loop_cells(lat, lon, distance_km, cluster, *, cell_deg=10.0, min_locations=1):
    """The oracle: one mask per occupied cell (the former implementation, kept here as the reference)."""
    rows = np.clip(((lat + 90.0) // cell_deg).astype(np.int64), 0, int(180 / cell_deg) - 1)
    cols = np.clip(((lon + 180.0) // cell_deg).astype(np.int64), 0, int(360 / cell_deg) - 1)
    key = rows * 1000 + cols
    cells = []
    for k in np.unique(key):
        mask = key == k
        n_locations = len(np.unique(cluster[mask]))
        if n_locations >= min_locations:
            errors = distance_km[mask]
            cells.append({"lat": float(k // 1000 * cell_deg - 90.0), "lon": float(k % 1000 * cell_deg - 180.0),
                          "size_deg": cell_deg, "n_clips": int(mask.sum()), "n_locations": n_locations,
                          "mean_km": float(errors.mean()), "median_km": float(np.median(errors))})
    return cells


@pytest.mark.parametrize("seed", range(12))
def test_error_cells_equal_the_per_cell_loop(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4000))
    lat, lon = rng.uniform(-90, 90, n), rng.uniform(-180, 180, n)
    if seed % 3 == 0:  # points on cell edges and the poles
        lat, lon = np.round(lat / 10) * 10, np.round(lon / 10) * 10
    distance = rng.exponential(800, n)
    distance[rng.random(n) < 0.2] = 0.0  # ties
    cluster = rng.integers(0, max(1, n // 4), n)
    for min_locations in (1, 2, 5):
        assert error_cells(lat, lon, distance, cluster, min_locations=min_locations) == \
            loop_cells(lat, lon, distance, cluster, min_locations=min_locations)


def test_no_clips_no_cells():
    empty = np.array([], dtype=np.float64)
    assert error_cells(empty, empty, empty, np.array([], dtype=np.intp)) == []


@pytest.mark.parametrize("seed", range(20))
def test_column_medians_equal_numpy_median(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 80)), int(rng.integers(1, 5))
    values = [rng.exponential(500, (n, m)), rng.integers(0, 2, (n, m)).astype(float), np.round(rng.normal(0, 1e3, (n, m)), 1)][seed % 3]
    assert np.array_equal(column_medians(values), np.median(values, axis=0))


def test_column_medians_keep_numpys_nan():
    assert np.isnan(column_medians(np.array([[1.0, 2.0], [np.nan, 3.0], [3.0, 4.0]]))[0])
