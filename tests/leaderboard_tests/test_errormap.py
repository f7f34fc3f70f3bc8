"""The map of errors: binned values on a hand-built case, and a real, deterministic PNG."""

from __future__ import annotations

import numpy as np

from leaderboard.errormap import MIN_CLIPS, cell_means, render_error_map


def test_cells_average_errors_and_hide_sparse_cells():
    lat = np.array([48.1, 48.9, 41.0, -33.9, -33.8, -33.7, 0.5])
    lon = np.array([2.1, 2.9, 9.0, 151.1, 151.2, 151.3, 0.5])
    errors = np.array([10.0, 30.0, 20.0, 100.0, 200.0, 300.0, 5.0])
    means, counts = cell_means(lat, lon, errors)
    assert MIN_CLIPS == 3
    assert counts[13, 18] == 3 and means[13, 18] == 20.0  # Paris x2 + 41N 9E share the 40-50N, 0-10E cell
    assert counts[5, 33] == 3 and means[5, 33] == 200.0  # Sydney, 30-40S, 150-160E
    assert counts[9, 18] == 1 and np.isnan(means[9, 18])  # one clip: not drawn
    assert np.isfinite(means).sum() == 2


def test_render_is_a_deterministic_png():
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(-50, 70, 300), rng.uniform(-170, 170, 300)
    errors = rng.uniform(1, 5000, 300)
    first = render_error_map(lat, lon, errors, title="t")
    assert first.startswith(b"\x89PNG\r\n\x1a\n") and len(first) > 10_000
    assert render_error_map(lat, lon, errors, title="t") == first
