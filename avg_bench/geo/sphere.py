"""Great-circle geometry on a spherical Earth, vectorised with numpy.

All functions take and return WGS84 degrees and accept scalars or arrays (broadcast together).
Coordinates outside ``lat in [-90, 90]``, ``lon in [-180, 180]`` raise instead of wrapping:
a wrapped typo would silently become a different place.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Mean Earth radius (IUGG), the radius of every AVG distance.
EARTH_RADIUS_KM = 6371.0


def check_coordinates(lat: ArrayLike, lon: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``lat, lon`` as float arrays, or raise ``ValueError`` naming the first bad value."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    for name, values, bound in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        bad = ~(np.abs(values) <= bound)  # also catches NaN
        if bad.any():
            first = float(values.flat[int(np.flatnonzero(bad.ravel())[0])])
            raise ValueError(f"{name} must be a finite number in [-{bound:g}, {bound:g}], found {first!r}")
    return lat, lon


def haversine_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike, *, radius_km: float = EARTH_RADIUS_KM
) -> NDArray[np.float64]:
    """Great-circle distance in km between two sets of points.

    Uses the atan2 form of the spherical great-circle formula: the same distance as the
    haversine formula, but exact at ``d = 0`` and without the arcsin form's loss of
    precision (~1e-8 rad) near antipodes.

    >>> round(float(haversine_km(48.8566, 2.3522, 51.5074, -0.1278)), 3)  # Paris - London
    343.556
    >>> float(haversine_km(0, 179.9, 0, -179.9)) < 23  # across the antimeridian
    True
    >>> float(haversine_km(90, 0, -90, 0)) == np.pi * EARTH_RADIUS_KM
    True
    """
    lat1, lon1 = check_coordinates(lat1, lon1)
    lat2, lon2 = check_coordinates(lat2, lon2)
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dlambda = np.radians(lon2 - lon1)
    sin1, cos1 = np.sin(phi1), np.cos(phi1)
    sin2, cos2 = np.sin(phi2), np.cos(phi2)
    cos_dl = np.cos(dlambda)
    y = np.hypot(cos2 * np.sin(dlambda), cos1 * sin2 - sin1 * cos2 * cos_dl)
    x = sin1 * sin2 + cos1 * cos2 * cos_dl
    return radius_km * np.arctan2(y, x)


def to_unit_vectors(lat: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
    """Points as unit vectors in Earth-centred coordinates, shape ``(..., 3)``.

    >>> to_unit_vectors(0, 90).round(12).tolist()
    [0.0, 1.0, 0.0]
    """
    lat, lon = check_coordinates(lat, lon)
    phi, lam = np.radians(lat), np.radians(lon)
    cos_phi = np.cos(phi)
    return np.stack([cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)], axis=-1)


def from_unit_vectors(xyz: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Inverse of :func:`to_unit_vectors`; vectors need not be normalised (zero vectors raise).

    >>> lat, lon = from_unit_vectors([0.0, 0.0, 2.0])
    >>> float(lat), float(lon)
    (90.0, 0.0)
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    if xyz.shape[-1] != 3:
        raise ValueError(f"expected vectors with a last axis of size 3, found shape {xyz.shape}")
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    if (np.hypot(np.hypot(x, y), z) == 0).any():
        raise ValueError("cannot convert a zero vector to a direction")
    lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    lon = np.degrees(np.arctan2(y, x))
    return lat, lon


def destination_point(
    lat: ArrayLike, lon: ArrayLike, bearing_deg: ArrayLike, distance_km: ArrayLike, *, radius_km: float = EARTH_RADIUS_KM
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The point reached from ``(lat, lon)`` along the initial ``bearing_deg`` after ``distance_km``.

    Used to build exact-distance test cases; the returned longitude is in ``[-180, 180]``.

    >>> lat, lon = destination_point(0.0, 0.0, 90.0, np.pi * EARTH_RADIUS_KM / 2)
    >>> round(float(lat), 9), round(float(lon), 9)
    (0.0, 90.0)
    """
    lat, lon = check_coordinates(lat, lon)
    delta = np.asarray(distance_km, dtype=np.float64) / radius_km
    theta = np.radians(np.asarray(bearing_deg, dtype=np.float64))
    phi1, lam1 = np.radians(lat), np.radians(lon)
    sin_phi2 = np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(theta)
    phi2 = np.arcsin(np.clip(sin_phi2, -1.0, 1.0))
    lam2 = lam1 + np.arctan2(
        np.sin(theta) * np.sin(delta) * np.cos(phi1), np.cos(delta) - np.sin(phi1) * sin_phi2
    )
    lon2 = (np.degrees(lam2) + 180.0) % 360.0 - 180.0
    return np.degrees(phi2), lon2
