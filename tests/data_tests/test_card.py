"""The shipped AVG card is generated from the code and stays in sync with it."""

from pathlib import Path

from avg_bench.data.card import avg_card

CARDS = Path(__file__).parents[2] / "dataset_cards"


def test_shipped_avg_card_is_up_to_date_and_shows_the_map():
    shipped = (CARDS / "AVG.md").read_text(encoding="utf-8")
    assert shipped == avg_card(), "regenerate with: python -m avg_bench.data.card > dataset_cards/AVG.md"
    assert "![Locations](avg_locations.png)" in shipped and (CARDS / "avg_locations.png").is_file()
    for heading in ("Motivation", "Composition", "Collection", "Preprocessing", "Uses", "Distribution",
                    "Maintenance", "Known limitations", "Attribution"):
        assert f"## {heading}" in shipped
    assert "config_name: seen" in shipped and "config_name: geo-holdout" in shipped
    assert "GeoNames" in shipped and "CC BY 4.0" in shipped
    assert "197 countries on 6 continents" in shipped
