"""Stage 2's targets, format check and GRPO rewards on hand-built completions (no model)."""

from __future__ import annotations

import numpy as np
import pytest

from avg_bench.geo.sphere import haversine_km
from baselines.answer_parser import parse_answer
from baselines.reference.reasoning.rewards import (
    answer_distances,
    distance_reward,
    evidence_reward,
    format_reward,
    hierarchy_reward,
    select_hard_clips,
    total_reward,
    trl_reward_functions,
)
from baselines.reference.reasoning.targets import (
    ChainOfRegion,
    chains_of_region,
    check_format,
    reasoning_target,
)

PARIS = ChainOfRegion("Europe", "France", "FR", "Ile-de-France", "Paris", 48.8566, 2.3522)
TRUTH = {"continent": ["Europe"], "country": ["France"], "region": ["Ile-de-France"], "city": ["Paris"]}


def _block(continent, country, region, city, lat, lon, steps=True):
    head = (f"Step 1, continent -> {continent}\nStep 2, country -> {country}\nStep 3, region -> {region}\n"
            f"Step 4, city -> {city}\n") if steps else ""
    return (f"{head}Answer:\nContinent: {continent}\nCountry: {country}\nRegion: {region}\nCity: {city}\n"
            f"Coordinates: {lat}, {lon}")


COMPLETIONS = {
    "wrong format": "It looks like France to me, maybe Paris.",
    "right country, wrong city": _block("Europe", "France", "Provence-Alpes-Cote d'Azur", "Marseille", 43.2965, 5.3698),
    "exact city": reasoning_target(PARIS, atoms=[("rain", 0.5)], frames="the frames are mostly grey"),
    "antipode": _block("Oceania", "New Zealand", "unknown", "unknown", -48.8566, -177.6478),
    "garbage": "\x00\x01 ### 12.5.6 ]]}{ Answer: ::: Coordinates: banana",
}


def _rewards(text):
    parsed = [parse_answer(text)]
    km = answer_distances(parsed, [PARIS.lat], [PARIS.lon])
    return (format_reward([text])[0], distance_reward(km)[0], hierarchy_reward(parsed, TRUTH)[0], km[0])


def test_rewards_on_hand_built_completions():
    fmt, dist, hier, km = _rewards(COMPLETIONS["wrong format"])
    assert (fmt, dist, hier) == (0.0, 0.0, 0.0) and np.isnan(km)

    fmt, dist, hier, km = _rewards(COMPLETIONS["right country, wrong city"])
    expected_km = haversine_km(43.2965, 5.3698, PARIS.lat, PARIS.lon)
    assert km == pytest.approx(expected_km, abs=1e-6) and 600 < km < 700
    assert fmt == 1.0 and hier == 0.5  # continent and country right; region wrong gates the city
    assert dist == pytest.approx(1.0 - 0.5 * km / 750.0, abs=1e-12)

    assert _rewards(COMPLETIONS["exact city"])[:3] == (1.0, 1.0, 1.0)

    fmt, dist, hier, km = _rewards(COMPLETIONS["antipode"])
    assert km == pytest.approx(np.pi * 6371.0, abs=1e-6)
    assert (dist, hier) == (0.0, 0.0)
    assert fmt == 0.0  # "unknown" region and city: the block lacks levels

    assert _rewards(COMPLETIONS["garbage"])[:3] == (0.0, 0.0, 0.0)


def test_distance_reward_equals_its_formula_at_and_between_the_breakpoints():
    assert distance_reward([0.0, 750.0, 2500.0, 20_000.0]).tolist() == [1.0, 0.5, 0.2, 0.0]
    km = np.array([100.0, 1000.0, 5000.0, 20_010.0, np.nan])
    expected = [1 - 0.5 * 100 / 750, 0.5 - 0.3 * 250 / 1750, 0.2 - 0.2 * 2500 / 17_500, 0.0, 0.0]
    np.testing.assert_allclose(distance_reward(km), expected, rtol=0, atol=1e-12)
    assert np.all(np.diff(distance_reward(np.linspace(0, 20_015, 400))) <= 0)


def test_hierarchy_gates_finer_levels_and_accepts_country_codes():
    texts = [_block("Europe", "FR", "Ile-de-France", "Paris", 48.85, 2.35),     # ISO code for the country
             _block("Asia", "France", "Ile-de-France", "Paris", 48.85, 2.35),   # wrong continent: nothing counts
             _block("europe", "france", "Île-de-France", "PARIS", 48.85, 2.35)]  # case and accents ignored
    truth = {key: value * 3 for key, value in TRUTH.items()}
    assert hierarchy_reward([parse_answer(t) for t in texts], truth).tolist() == [1.0, 0.0, 1.0]


def test_targets_from_the_gazetteer_pass_the_check_and_round_trip():
    chains = chains_of_region([48.8566, -33.8688, -22.9068, 64.1466], [2.3522, 151.2093, -43.1729, -21.9426])
    assert [c.country_code for c in chains] == ["FR", "AU", "BR", "IS"]
    assert [c.continent for c in chains] == ["Europe", "Oceania", "South America", "Europe"]
    for chain in chains:
        text = reasoning_target(chain, atoms=[("city:Paris", 0.31), ("rain", 0.2)], frames="the frames are dark")
        assert check_format(text).ok, check_format(text).problems
        parsed = parse_answer(text)
        assert (parsed.continent, parsed.country, parsed.region, parsed.city) == (
            chain.continent, chain.country, chain.region, chain.city)
        assert haversine_km(parsed.lat, parsed.lon, chain.lat, chain.lon) < 0.02  # 4 decimals: ~11 m
        assert evidence_reward([text], [["city:Paris", "rain"]]).tolist() == [1.0]


def test_format_check_names_each_problem():
    good = reasoning_target(PARIS)
    swapped = good.replace("Step 1, continent", "Step 1, country").replace("Step 2, country", "Step 2, continent")
    assert check_format(swapped).problems == ("steps out of order or incomplete: country, continent, region, city",)
    assert format_reward([swapped]).tolist() == [0.5]
    assert check_format(good + "\nThanks!").problems == ("text after the answer block",)
    assert "answer block lacks city" in check_format(good.replace("City: Paris", "City: unknown")).problems
    assert check_format(good.split("Answer:")[0]).problems == ("no strict answer block with coordinates",)


def test_trl_wrappers_read_conversational_completions_and_dataset_columns():
    functions = {f.__name__: f for f in trl_reward_functions(evidence=True)}
    completions = [[{"role": "assistant", "content": COMPLETIONS["exact city"]}],
                   [{"role": "assistant", "content": COMPLETIONS["garbage"]}]]
    columns = {"lat": [PARIS.lat] * 2, "lon": [PARIS.lon] * 2, "continent": ["Europe"] * 2, "country": ["France"] * 2,
               "region": ["Ile-de-France"] * 2, "city": ["Paris"] * 2, "atom_names": [["rain"], []]}
    assert functions["format"](prompts=None, completions=completions, **columns) == [1.0, 0.0]
    assert functions["distance"](prompts=None, completions=completions, **columns) == [1.0, 0.0]
    assert functions["hierarchy"](prompts=None, completions=completions, **columns) == [1.0, 0.0]
    assert functions["cites_atoms"](prompts=None, completions=completions, **columns) == [1.0, None]


def test_hard_clip_selection_drops_groups_that_share_one_reward():
    texts = [COMPLETIONS["exact city"], COMPLETIONS["exact city"], COMPLETIONS["exact city"], COMPLETIONS["garbage"]]
    truth = {key: value * 4 for key, value in TRUTH.items()}
    rewards = total_reward(texts, [PARIS.lat] * 4, [PARIS.lon] * 4, truth).reshape(2, 2)
    assert rewards.tolist() == [[3.0, 3.0], [3.0, 0.0]]
    assert select_hard_clips(rewards, 5).tolist() == [1]
    assert select_hard_clips([[0.0, 0.0]], 1).tolist() == []
