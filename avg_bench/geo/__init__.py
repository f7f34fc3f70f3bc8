"""Geometry on the sphere and the offline gazetteer."""

from avg_bench.geo.continents import CONTINENT_NAMES, continent_of
from avg_bench.geo.gazetteer import Gazetteer, Hierarchy, default_gazetteer, reverse_geocode
from avg_bench.geo.sphere import (
    EARTH_RADIUS_KM,
    check_coordinates,
    destination_point,
    from_unit_vectors,
    haversine_km,
    to_unit_vectors,
)

__all__ = [
    "CONTINENT_NAMES",
    "EARTH_RADIUS_KM",
    "Gazetteer",
    "Hierarchy",
    "check_coordinates",
    "continent_of",
    "default_gazetteer",
    "destination_point",
    "from_unit_vectors",
    "haversine_km",
    "reverse_geocode",
    "to_unit_vectors",
]
