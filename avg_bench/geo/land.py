"""The land outline every map draws, from shipped data (no shapefile download).

The gazetteer's ~144k populated places (GeoNames, population > 1,000, CC BY 4.0) mark the
inhabited land: a cell of a regular grid is land when it holds at least one of them. Coarse at
the coasts, empty over deserts and ice, but offline and the same on every machine.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray


@lru_cache(maxsize=4)
def land_cells(cell_deg: float = 0.25) -> NDArray[np.bool_]:
    """Boolean grid, rows from latitude -90 up, columns from longitude -180 east: True on land."""
    from avg_bench.geo.gazetteer import default_gazetteer

    gazetteer = default_gazetteer()
    places = gazetteer.place(np.arange(len(gazetteer)))
    rows, cols = round(180 / cell_deg), round(360 / cell_deg)
    occupied, _, _ = np.histogram2d(places["lat"], places["lon"], bins=(rows, cols), range=((-90, 90), (-180, 180)))
    return occupied > 0


def draw_land(ax, *, cell_deg: float = 0.25, grey: float = 0.72) -> None:
    """Paint the land in light grey under whatever ``ax`` draws next (equirectangular)."""
    ax.imshow(np.where(land_cells(cell_deg), grey, 1.0), cmap="gray", vmin=0.0, vmax=1.0, origin="lower",
              extent=(-180, 180, -90, 90), interpolation="nearest", zorder=0)
