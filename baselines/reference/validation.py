"""Input checks shared by the reference model's public APIs: each failure names the argument."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from avg_bench.geo.sphere import check_coordinates
from baselines.reference.errors import ReferenceModelError


def as_matrix(name: str, values: ArrayLike, *, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    """A finite 2-D float32 array, or a :class:`ReferenceModelError` saying what was expected."""
    array = np.asarray(values, dtype=np.float32)
    if array.ndim != 2:
        raise ReferenceModelError(f"{name} must be a 2-D array (rows, features), found shape {array.shape}")
    if rows is not None and array.shape[0] != rows:
        raise ReferenceModelError(f"{name} has {array.shape[0]} rows, expected {rows}")
    if cols is not None and array.shape[1] != cols:
        raise ReferenceModelError(f"{name} has {array.shape[1]} columns, the model was fitted on {cols}")
    if not np.isfinite(array).all():
        raise ReferenceModelError(f"{name} contains NaN or infinite values")
    return array


def as_coordinates(lat: ArrayLike, lon: ArrayLike, *, rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """1-D latitude and longitude arrays in the scorer's ranges, of the expected length."""
    try:
        lat, lon = check_coordinates(lat, lon)
    except ValueError as exc:
        raise ReferenceModelError(str(exc)) from exc
    if lat.ndim != 1 or lat.shape != lon.shape:
        raise ReferenceModelError(f"lat and lon must be 1-D arrays of one length, found {lat.shape} and {lon.shape}")
    if rows is not None and lat.shape[0] != rows:
        raise ReferenceModelError(f"lat/lon have {lat.shape[0]} values, expected one per row ({rows})")
    return lat, lon
