"""The world map of an entry's errors, drawn offline with matplotlib.

Errors are averaged over 10-degree cells of the true location, never drawn per clip: a per-clip
point would show where each hidden test clip was recorded. A cell shows its mean error (colour).
On a hidden split a cell is drawn only when it covers at least k distinct *locations* (clips of one
location are one place, however many), with the complementary rule of :mod:`leaderboard.disclosure`.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np

from leaderboard.disclosure import location_counts, shown_groups

CELL_DEG = 10.0


@lru_cache(maxsize=1)
def _land() -> np.ndarray:
    """0.5-degree cells holding a GeoNames populated place: the land, as in the locations map."""
    from avg_bench.geo import default_gazetteer

    gazetteer = default_gazetteer()
    places = gazetteer.place(np.arange(len(gazetteer)))
    occupied, _, _ = np.histogram2d(places["lat"], places["lon"], bins=(360, 720), range=((-90, 90), (-180, 180)))
    return np.where(occupied > 0, 0.78, 1.0)


def cell_means(lat: np.ndarray, lon: np.ndarray, errors_km: np.ndarray, location_id: np.ndarray, *,
               min_locations: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Mean error and distinct-location count per cell (rows: latitude bands from -90, columns from -180).

    Cells not shown (fewer than ``min_locations`` locations, or left out by the complementary rule)
    are NaN in the means; with ``min_locations=1`` (public splits) every occupied cell is shown.
    """
    rows, cols = int(180 / CELL_DEG), int(360 / CELL_DEG)
    i = np.clip(((np.asarray(lat) + 90) // CELL_DEG).astype(int), 0, rows - 1)
    j = np.clip(((np.asarray(lon) + 180) // CELL_DEG).astype(int), 0, cols - 1)
    clips = np.zeros((rows, cols))
    sums = np.zeros((rows, cols))
    np.add.at(clips, (i, j), 1)
    np.add.at(sums, (i, j), errors_km)
    per_cell = location_counts(zip(zip(i.tolist(), j.tolist()), np.asarray(location_id).tolist()))
    locations = np.zeros((rows, cols), dtype=int)
    for (a, b), n in per_cell.items():
        locations[a, b] = n
    shown = np.zeros((rows, cols), dtype=bool)
    for a, b in shown_groups(per_cell, min_locations):
        shown[a, b] = True
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(shown, sums / clips, np.nan)
    return means, locations


def render_error_map(means: np.ndarray, *, title: str) -> bytes:
    """PNG bytes of the error map: ``means`` over the land, on a log colour scale (1 to 20,000 km).

    ``means`` comes from :func:`cell_means`; NaN cells are not drawn. The title is user text: drawn literally, never parsed as math.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.8), dpi=80)  # no pyplot: no global state, safe in worker threads
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.04, 0.08, 0.82, 0.82))
    ax.imshow(_land(), cmap="gray", vmin=0, vmax=1, origin="lower", extent=(-180, 180, -90, 90), interpolation="nearest")
    shown = np.ma.masked_invalid(np.clip(means, 1.0, 20000.0))
    mesh = ax.pcolormesh(
        np.arange(-180, 180 + CELL_DEG, CELL_DEG), np.arange(-90, 90 + CELL_DEG, CELL_DEG), shown,
        cmap="viridis_r", norm=LogNorm(vmin=1.0, vmax=20000.0), alpha=0.8, linewidth=0,
    )
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 85)
    ax.set_aspect("equal")
    ax.tick_params(labelsize=7, colors="#666666")
    ax.set_title(title[:120], fontsize=10, parse_math=False)
    colorbar = fig.colorbar(mesh, cax=fig.add_axes((0.88, 0.15, 0.02, 0.68)))
    colorbar.set_label("mean error per 10° cell (km)", fontsize=8)
    colorbar.ax.tick_params(labelsize=7)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
