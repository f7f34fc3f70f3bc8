"""The world map of errors: the mean error of each 10° cell of the true location, over the land.

Cells, not clips (see :mod:`avg_bench.metrics.cells`); one panel per model so colours compare
on one log scale.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from avg_bench.figures.style import literal, new_figure
from avg_bench.geo.land import draw_land
from avg_bench.results import Results


def error_map_figure(runs: Sequence[tuple[str, Results]]):
    """One world map per run: the mean error per 10° cell of the true location, on one log colour scale."""
    from matplotlib.colors import LogNorm

    panels = len(runs)
    fig = new_figure(8.0, 0.6 + 3.3 * panels)
    norm = LogNorm(vmin=1.0, vmax=20000.0)
    mesh = None
    first: tuple[float, float] | None = None
    for i, (name, results) in enumerate(runs):
        top = 1 - (i + 0.12) / panels
        ax = fig.add_axes((0.06, top - 0.8 / panels, 0.8, 0.8 / panels))
        first = first or (top - 0.8 / panels, 0.8 / panels)  # the colour bar stands beside the first panel
        draw_land(ax, cell_deg=0.5, grey=0.8)
        for cell in results.error_cells:
            size = cell["size_deg"]
            mesh = ax.pcolormesh([cell["lon"], cell["lon"] + size], [cell["lat"], cell["lat"] + size],
                                 np.array([[max(cell["mean_km"], 1.0)]]), cmap="viridis_r", norm=norm, alpha=0.85)
        ax.set_xlim(-180, 180)
        ax.set_ylim(-60, 85)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=7, colors="#666666")
        literal(ax.set_title(f"{name}: mean error per 10° cell of the true location", fontsize=9))
    if mesh is not None and first is not None:
        colorbar = fig.colorbar(mesh, cax=fig.add_axes((0.89, first[0] + 0.1 * first[1], 0.02, 0.8 * first[1])))
        colorbar.set_label("mean error (km, log scale)", fontsize=8)
        colorbar.ax.tick_params(labelsize=7)
    return fig
