"""The map of errors: binned values on a hand-built case, and a real, deterministic PNG."""

from __future__ import annotations

import numpy as np

from leaderboard.errormap import cell_means, render_error_map


def _case():
    lat = np.array([48.1, 48.1, 48.9, 41.0, -33.9, -33.8, -33.7, 0.5])
    lon = np.array([2.1, 2.1, 2.9, 9.0, 151.1, 151.2, 151.3, 0.5])
    errors = np.array([10.0, 10.0, 30.0, 20.0, 100.0, 200.0, 300.0, 5.0])
    locations = np.array(["paris", "paris", "meaux", "genoa", "syd", "syd", "syd", "gulf"], dtype=object)
    return lat, lon, errors, locations


def test_public_cells_average_errors_and_count_locations_not_clips():
    lat, lon, errors, locations = _case()
    means, n_locations = cell_means(lat, lon, errors, locations)
    assert n_locations[13, 18] == 3 and means[13, 18] == 17.5  # Paris x2 + Meaux + Genoa: 4 clips, 3 locations
    assert n_locations[5, 33] == 1 and means[5, 33] == 200.0  # Sydney: 3 clips of one location
    assert n_locations[9, 18] == 1 and means[9, 18] == 5.0
    assert np.isfinite(means).sum() == 3


def test_hidden_cells_need_k_locations_and_the_rest_covers_k_too():
    lat, lon, errors, locations = _case()
    # k = 3: the Europe cell (3 locations) would be shown, but the cells left out (Sydney, Gulf) then cover
    # only 2 locations, which "total minus Europe" would expose: so Europe is left out as well.
    means, _ = cell_means(lat, lon, errors, locations, min_locations=3)
    assert np.isfinite(means).sum() == 0
    # k = 2 and a left-out remainder of 2 locations: Europe is shown, Sydney and the Gulf are not.
    means, _ = cell_means(lat, lon, errors, locations, min_locations=2)
    assert means[13, 18] == 17.5 and np.isfinite(means).sum() == 1
    # Three clips of one location never make a cell: clips are not locations.
    means, _ = cell_means(lat[4:7], lon[4:7], errors[4:7], locations[4:7], min_locations=2)
    assert np.isfinite(means).sum() == 0


def test_render_is_a_deterministic_png_and_titles_are_not_math():
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(-50, 70, 300), rng.uniform(-170, 170, 300)
    means, _ = cell_means(lat, lon, rng.uniform(1, 5000, 300), np.arange(300).astype(str))
    first = render_error_map(means, title="t")
    assert first.startswith(b"\x89PNG\r\n\x1a\n") and len(first) > 10_000
    assert render_error_map(means, title="t") == first
    # A user's model name with matplotlib math-text syntax is drawn literally (it used to raise).
    assert render_error_map(means, title=r"$\frac{$ ($x^2$) team").startswith(b"\x89PNG")
