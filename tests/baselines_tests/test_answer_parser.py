"""The zero-shot VLM answer parser on answers shaped like real model outputs.

Every case states the whole expected result: coordinates to 1e-6 degrees, each Chain-of-Region
level exactly as the model wrote it, whether it abstained and the rule that decided.
"""

from __future__ import annotations

import doctest
import math
import random
import re

import pytest

from baselines import answer_parser
from baselines.answer_parser import ANSWER_FORMAT, ParsedAnswer, format_answer, parse_answer

LEVELS = ("continent", "country", "region", "city")


def ok(lat: float, lon: float, reason: str, *names: str | None) -> ParsedAnswer:
    """An expected prediction; ``names`` are continent, country, region, city (missing: None)."""
    return ParsedAnswer(lat, lon, **dict(zip(LEVELS, names)), abstained=False, reason=reason)


def abstain(reason: str, *names: str | None) -> ParsedAnswer:
    return ParsedAnswer(None, None, **dict(zip(LEVELS, names)), abstained=True, reason=reason)


def dms(degrees: int, minutes: int, seconds: float = 0.0) -> float:
    return degrees + minutes / 60 + seconds / 3600


def assert_same(got: ParsedAnswer, expected: ParsedAnswer) -> None:
    assert (got.abstained, got.reason) == (expected.abstained, expected.reason)
    assert [getattr(got, level) for level in LEVELS] == [getattr(expected, level) for level in LEVELS]
    if expected.lat is None:
        assert got.lat is None and got.lon is None
    else:
        assert got.lat == pytest.approx(expected.lat, abs=1e-6)
        assert got.lon == pytest.approx(expected.lon, abs=1e-6)


CASES = [
    # The strict format the prompt asks for.
    pytest.param(
        "The frames show Haussmann facades and a Vélib' station; the speech is French.\n"
        "Answer:\nContinent: Europe\nCountry: France\nRegion: Île-de-France\nCity: Paris\n"
        "Coordinates: 48.8566, 2.3522",
        ok(48.8566, 2.3522, "answer block", "Europe", "France", "Île-de-France", "Paris"),
        id="strict-block",
    ),
    pytest.param(
        "Answer:\nContinent: Oceania\nCountry: Australia\nRegion: New South Wales\nCity: Sydney\n"
        "Coordinates: -33.8688, 151.2093",
        ok(-33.8688, 151.2093, "answer block", "Oceania", "Australia", "New South Wales", "Sydney"),
        id="strict-block-negative-latitude",
    ),
    pytest.param(
        "**Answer:**\n**Continent:** South America\n**Country:** Brazil\n**Region:** Rio de Janeiro\n"
        "**City:** Rio de Janeiro\n**Coordinates:** -22.9068, -43.1729",
        ok(-22.9068, -43.1729, "answer block", "South America", "Brazil", "Rio de Janeiro", "Rio de Janeiro"),
        id="strict-block-markdown-bold",
    ),
    pytest.param(
        "Reasoning: the tiles first made me think Country: Spain, but the signs are Portuguese.\n"
        "Answer:\nContinent: Europe\nCountry: Portugal\nRegion: Lisboa\nCity: Lisbon\nCoordinates: 38.7223, -9.1393",
        ok(38.7223, -9.1393, "answer block", "Europe", "Portugal", "Lisboa", "Lisbon"),
        id="answer-section-overrides-reasoning-levels",
    ),
    pytest.param(
        "ANSWER:\nCOUNTRY: Japan\nCOORDINATES: 35.6762, 139.6503.</s><|im_end|>",
        ok(35.6762, 139.6503, "answer block", None, "Japan"),
        id="strict-block-upper-case-trailing-junk",
    ),
    pytest.param(
        "Answer:\nCoordinates: 48.8566, 2.3522 (the nearby Versailles is at 48.8049, 2.1204)",
        ok(48.8566, 2.3522, "answer block"),
        id="labelled-pair-beats-a-bare-aside",
    ),
    pytest.param(
        "<think>Sydney would be -33.8688, 151.2093, but the cars drive on the right.</think>\n"
        "<answer>Coordinates: 40.4168, -3.7038</answer>",
        ok(40.4168, -3.7038, "answer block"),
        id="answer-tag-beats-thinking",
    ),
    pytest.param(
        "Answer:\nContinent: <continent>\nCountry: <country>\nRegion: <region>\nCity: <city>\n"
        "Coordinates: <latitude>, <longitude>",
        abstain("no coordinates"),
        id="template-echoed-back",
    ),
    # JSON.
    pytest.param(
        'Here is my answer:\n```json\n{"continent": "Asia", "country": "Japan", "region": "Tokyo", '
        '"city": "Shibuya", "latitude": 35.6595, "longitude": 139.7005}\n```',
        ok(35.6595, 139.7005, "json", "Asia", "Japan", "Tokyo", "Shibuya"),
        id="json-fenced",
    ),
    pytest.param(
        '{"city": "Cairo", "coordinates": [30.0444, 31.2357]}',
        ok(30.0444, 31.2357, "json", None, None, None, "Cairo"),
        id="json-coordinates-list",
    ),
    pytest.param(
        '```json\n{"answer": {"country": "Brazil", "city": "Rio de Janeiro", '
        '"coordinates": {"lat": -22.9068, "lng": -43.1729}}}\n```',
        ok(-22.9068, -43.1729, "json", None, "Brazil", None, "Rio de Janeiro"),
        id="json-nested-object-lng",
    ),
    pytest.param(
        '{"lat": "33.9249 S", "lon": "18.4241 E"}',
        ok(-33.9249, 18.4241, "json"),
        id="json-strings-with-hemisphere-letters",
    ),
    pytest.param(
        '{"type": "Point", "coordinates": [-74.0060, 40.7128]}',
        ok(40.7128, -74.0060, "json"),
        id="geojson-point-is-lon-lat",
    ),
    pytest.param(
        "{'lat': 55.7558, 'lon': 37.6173, 'city': 'Moscow',}",
        ok(55.7558, 37.6173, "json", None, None, None, "Moscow"),
        id="python-dict-trailing-comma",
    ),
    pytest.param(
        '{"country": "unknown", "lat": null, "lon": null}',
        abstain("refusal"),
        id="json-nulls-refuse",
    ),
    pytest.param('{"lat": NaN, "lon": 2.35}', abstain("out of range"), id="json-nan"),
    # Degrees, minutes, seconds.
    pytest.param(
        "This looks like the Champ de Mars: 48°51'29\"N 2°17'40\"E",
        ok(dms(48, 51, 29), dms(2, 17, 40), "dms"),
        id="dms-ascii",
    ),
    pytest.param(
        "48° 51′ 24″ N, 2° 21′ 8″ E",
        ok(dms(48, 51, 24), dms(2, 21, 8), "dms"),
        id="dms-unicode-primes-spaced",
    ),
    pytest.param(
        "Coordinates: 33°55'S 18°25'E",
        ok(-dms(33, 55), dms(18, 25), "dms"),
        id="dms-without-seconds",
    ),
    pytest.param(
        "Roughly 40 deg 26 min N, 79 deg 58 min W (Pittsburgh).",
        ok(dms(40, 26), -dms(79, 58), "dms"),
        id="dms-words",
    ),
    pytest.param(
        "Latitude: 35°41'22.2\" N\nLongitude: 139°41'30.1\" E",
        ok(dms(35, 41, 22.2), dms(139, 41, 30.1), "dms"),
        id="dms-decimal-seconds-labelled-lines",
    ),
    pytest.param("48°75'N 2°21'E", abstain("out of range"), id="dms-minutes-over-59"),
    # Hemisphere letters and words.
    pytest.param(
        "I believe this is Cape Town, South Africa, at about 33.92 S, 18.42 E.",
        ok(-33.92, 18.42, "hemisphere letters"),
        id="letters-after",
    ),
    pytest.param("GPS: S 22.9068, W 43.1729", ok(-22.9068, -43.1729, "hemisphere letters"), id="letters-before"),
    pytest.param("40.7128° N, 74.0060° W", ok(40.7128, -74.0060, "hemisphere letters"), id="letters-degree-sign"),
    pytest.param("74.0060° W, 40.7128° N", ok(40.7128, -74.0060, "hemisphere letters"), id="letters-swapped-order"),
    pytest.param(
        "Latitude 1.3521 degrees north, longitude 103.8198 degrees east",
        ok(1.3521, 103.8198, "hemisphere letters"),
        id="hemisphere-words",
    ),
    pytest.param(
        "South Pole station: 90° S, 0° E", ok(-90.0, 0.0, "hemisphere letters"), id="letters-exact-south-pole"
    ),
    pytest.param("-33.86 N, 151.2 E", abstain("ambiguous"), id="sign-contradicts-letter"),
    pytest.param("91.5° N, 10° E", abstain("out of range"), id="letters-out-of-range"),
    # Labelled decimals.
    pytest.param("Longitude: 2.3522, Latitude: 48.8566", ok(48.8566, 2.3522, "labelled decimal"), id="labels-swapped"),
    pytest.param("**Latitude:** 48.85\n**Longitude:** 2.35", ok(48.85, 2.35, "labelled decimal"), id="labels-bold"),
    pytest.param(
        "The latitude is approximately -34.6037 and the longitude is about -58.3816.",
        ok(-34.6037, -58.3816, "labelled decimal"),
        id="labels-in-prose",
    ),
    pytest.param(
        "- Continent: Africa\n- Country: Kenya\n- Region: Nairobi County\n- City: Nairobi\n"
        "- Latitude: -1.2921\n- Longitude: 36.8219",
        ok(-1.2921, 36.8219, "labelled decimal", "Africa", "Kenya", "Nairobi County", "Nairobi"),
        id="markdown-bullets",
    ),
    pytest.param(
        "| Field | Value |\n|---|---|\n| Latitude | 19.0760 |\n| Longitude | 72.8777 |",
        ok(19.0760, 72.8777, "labelled decimal"),
        id="markdown-table",
    ),
    pytest.param(
        "Coordinates (lon, lat): 139.6917, 35.6895", ok(35.6895, 139.6917, "labelled decimal"), id="lon-lat-label"
    ),
    pytest.param("GPS: 41.0082; 28.9784", ok(41.0082, 28.9784, "labelled decimal"), id="semicolon-separator"),
    pytest.param("Final coordinates 19.4326 -99.1332", ok(19.4326, -99.1332, "labelled decimal"), id="space-separator"),
    pytest.param("Predicted location: [64.1466, -21.9426]", ok(64.1466, -21.9426, "labelled decimal"), id="brackets"),
    pytest.param(
        "Country: Chile, City: Santiago, Coordinates: -33.4489, -70.6693",
        ok(-33.4489, -70.6693, "labelled decimal", None, "Chile", None, "Santiago"),
        id="fields-on-one-line",
    ),
    pytest.param(
        "Chain of Region: Europe → Italy → Lazio → Rome\nCoordinates: 41.9028, 12.4964",
        ok(41.9028, 12.4964, "labelled decimal", "Europe", "Italy", "Lazio", "Rome"),
        id="chain-of-region-arrows",
    ),
    pytest.param("Coordinates: 90.0, 180.0", ok(90.0, 180.0, "labelled decimal"), id="exact-upper-bounds"),
    pytest.param("Coordinates: -90, -180", ok(-90.0, -180.0, "labelled decimal"), id="exact-lower-bounds"),
    pytest.param("Coordinates: 95.1234, 12.5", abstain("out of range"), id="latitude-out-of-range"),
    pytest.param("Latitude: 10.5, Longitude: 190.25", abstain("out of range"), id="longitude-out-of-range"),
    pytest.param("Coordinates: 90.000001, 0.0", abstain("out of range"), id="just-past-the-pole-not-clamped"),
    pytest.param("Coordinates: nan, nan", abstain("out of range"), id="nan-text"),
    pytest.param("Latitude: 48.85 (the longitude is hard to read)", abstain("no coordinates"), id="single-number"),
    # European decimal commas.
    pytest.param(
        "Coordonnées : 48,8566 ; 2,3522", ok(48.8566, 2.3522, "labelled decimal"), id="decimal-comma-semicolon"
    ),
    pytest.param(
        "Latitude : 43,2965° N\nLongitude : 5,3698° E",
        ok(43.2965, 5.3698, "hemisphere letters"),
        id="decimal-comma-letters",
    ),
    pytest.param("Coordinates: 48,8566, 2,3522", abstain("ambiguous"), id="decimal-comma-with-comma-separator"),
    pytest.param("Coordinates: 52,5", abstain("ambiguous"), id="one-decimal-or-two-integers"),
    # Other languages around the numbers.
    pytest.param(
        "D'après l'architecture et l'accent, je pense qu'il s'agit de Marseille.\nRéponse :\nContinent : Europe\n"
        "Pays : France\nRégion : Provence-Alpes-Côte d'Azur\nVille : Marseille\nCoordonnées : 43.2965, 5.3698",
        ok(43.2965, 5.3698, "labelled decimal", "Europe", "France", "Provence-Alpes-Côte d'Azur", "Marseille"),
        id="french",
    ),
    pytest.param(
        "根据街道上的汉字招牌和口音，我认为这是中国北京。\n答案：\n大洲：亚洲\n国家：中国\n地区：北京市\n城市：北京\n"
        "坐标：39.9042，116.4074",
        ok(39.9042, 116.4074, "labelled decimal", "亚洲", "中国", "北京市", "北京"),
        id="chinese-labels-full-width-punctuation",
    ),
    pytest.param(
        "拍摄地点大约在北纬31.2304°，东经121.4737°（上海）。",
        ok(31.2304, 121.4737, "hemisphere letters"),
        id="chinese-hemisphere-words",
    ),
    # Several candidate pairs.
    pytest.param(
        "It could be Paris (48.8566, 2.3522) or Lyon (45.7640, 4.8357); the quays suggest Lyon.",
        ok(45.7640, 4.8357, "bare pair"),
        id="two-pairs-last-wins",
    ),
    pytest.param(
        "My final answer: 41.9028, 12.4964 (Rome). For comparison, Milan is at 45.4642, 9.1900.",
        ok(41.9028, 12.4964, "bare pair"),
        id="two-pairs-final-marked-wins",
    ),
    pytest.param(
        "Best guess: 60.1699, 24.9384 (Helsinki). Other options considered: 59.9139, 10.7522 (Oslo).",
        ok(60.1699, 24.9384, "bare pair"),
        id="two-pairs-best-guess-wins",
    ),
    pytest.param(
        "Answer:\nCoordinates: 95.0, 2.35\n(Earlier I considered 48.8566, 2.3522.)",
        abstain("out of range"),
        id="chosen-pair-out-of-range-abstains",
    ),
    # Bare pairs and numbers that are not coordinates.
    pytest.param(
        "This 2023 footage was shot at 51.5074, -0.1278 in London.", ok(51.5074, -0.1278, "bare pair"), id="year-nearby"
    ),
    pytest.param(
        "https://www.google.com/maps/@-33.8568,151.2153,15z", ok(-33.8568, 151.2153, "bare pair"), id="maps-url"
    ),
    pytest.param(
        "It was 31.5°C, 28.0°C at night; coordinates 25.2048, 55.2708",
        ok(25.2048, 55.2708, "labelled decimal"),
        id="temperatures-are-not-coordinates",
    ),
    pytest.param(
        "Filmed in 2023 in 1080p at 60 fps, 4.5 km from the coast, 12.5% cloud.",
        abstain("no coordinates"),
        id="years-resolutions-distances-percentages",
    ),
    pytest.param("Shot on 12.05.2023 with firmware 3.11.2.", abstain("no coordinates"), id="dates-and-versions"),
    pytest.param(
        "The clip shows a beach with palm trees and people speaking Portuguese.",
        abstain("no coordinates"),
        id="prose-only",
    ),
    # Refusals and uncertainty.
    pytest.param(
        "I'm sorry, but I cannot determine the location of this video from the given frames.",
        abstain("refusal"),
        id="refusal",
    ),
    pytest.param(
        "I cannot determine the exact city.\nAnswer:\nContinent: Europe\nCountry: unknown\nRegion: unknown\n"
        "City: unknown\nCoordinates: unknown",
        abstain("refusal", "Europe"),
        id="refusal-keeps-the-hierarchy",
    ),
    pytest.param("Country: N/A\nCoordinates: N/A", abstain("refusal"), id="n-a"),
    pytest.param(
        "Paris is at 48.8566, 2.3522, but this is not Paris.\nAnswer: I'm unable to determine the location.",
        abstain("refusal"),
        id="refusal-in-answer-section",
    ),
    pytest.param(
        "I'm not entirely sure, but my best guess is Bangkok, Thailand: 13.7563, 100.5018.",
        ok(13.7563, 100.5018, "bare pair"),
        id="hedged-guess-is-a-prediction",
    ),
    pytest.param("", abstain("no coordinates"), id="empty"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_real_world_answers(text, expected):
    assert_same(parse_answer(text), expected)


def test_there_are_at_least_forty_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize("text", ["Coordinates: -0.0, -0.000", "0.0° S, 0.0° W", "-0.0, -0.0"])
def test_negative_zero_becomes_positive_zero(text):
    answer = parse_answer(text)
    assert (answer.lat, answer.lon) == (0.0, 0.0)
    assert math.copysign(1.0, answer.lat) == 1.0 and math.copysign(1.0, answer.lon) == 1.0


def test_a_long_text_is_read_from_its_end():
    text = "Let me think. " * 10_000 + "\nAnswer:\nCoordinates: 12.5, -45.25"
    assert_same(parse_answer(text), ok(12.5, -45.25, "answer block"))


def test_rejects_a_non_string():
    with pytest.raises(TypeError, match="expects a string"):
        parse_answer(None)


def test_parsed_answer_abstains_exactly_without_coordinates():
    with pytest.raises(ValueError):
        ParsedAnswer(1.0, 2.0, abstained=True, reason="refusal")
    with pytest.raises(ValueError):
        ParsedAnswer(1.0, None, abstained=False, reason="json")


# The strict format: the prompt's instruction and the supervised targets.


def test_a_reply_that_follows_answer_format_parses_as_the_answer_block():
    lines = ANSWER_FORMAT.splitlines()
    template = "\n".join(lines[lines.index("Answer:"): lines.index("Coordinates: <latitude>, <longitude>") + 1])
    filled = {"<continent>": "Africa", "<country>": "Kenya", "<latitude>": "-1.2921", "<longitude>": "36.8219"}
    reply = "The matatu livery and Swahili speech point to Nairobi.\n" + re.sub(
        r"<[^>]+>", lambda m: filled.get(m.group(), "Nairobi"), template
    )
    assert_same(parse_answer(reply), ok(-1.2921, 36.8219, "answer block", "Africa", "Kenya", "Nairobi", "Nairobi"))
    assert "-33.8688, 151.2093" in ANSWER_FORMAT  # its example is the strict spelling, south negative


def test_format_answer_writes_the_strict_block():
    names = {"continent": "Europe", "country": "France", "region": "Île-de-France", "city": "Paris"}
    block = format_answer(lat=48.8566, lon=2.3522, **names)
    assert block == (
        "Answer:\nContinent: Europe\nCountry: France\nRegion: Île-de-France\nCity: Paris\nCoordinates: 48.8566, 2.3522"
    )
    assert format_answer(lat=-0.0, lon=90, decimals=3).endswith("Coordinates: 0.0, 90.0")
    assert format_answer(lat=None, lon=None) == (
        "Answer:\nContinent: unknown\nCountry: unknown\nRegion: unknown\nCity: unknown\nCoordinates: unknown"
    )


NAMES = [
    None, "Europe", "South America", "Côte d'Ivoire", "Washington, D.C.", "São Paulo", "Provence-Alpes-Côte d'Azur",
    "Bosnia and Herzegovina", "Île-de-France", "北京市", "Nord", "West Bengal", "St. John's", "Zürich",
]


def test_format_answer_round_trips():
    rng = random.Random(2024)
    points = [(90.0, 180.0), (-90.0, -180.0), (0.0, 0.0), (-0.0, -0.0), (None, None)]
    points += [(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(300)]
    for lat, lon in points:
        names = {level: rng.choice(NAMES) for level in LEVELS}
        parsed = parse_answer(format_answer(lat=lat, lon=lon, **names))
        assert [getattr(parsed, level) for level in LEVELS] == [names[level] for level in LEVELS]
        if lat is None:
            assert (parsed.abstained, parsed.reason) == (True, "refusal")
        else:
            assert parsed.reason == "answer block" and not parsed.abstained
            assert abs(parsed.lat - lat) <= 5e-7 + 1e-12 and abs(parsed.lon - lon) <= 5e-7 + 1e-12


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"lat": 90.5, "lon": 0.0}, ValueError),
        ({"lat": 0.0, "lon": -180.01}, ValueError),
        ({"lat": float("nan"), "lon": 0.0}, ValueError),
        ({"lat": 0.0, "lon": float("inf")}, ValueError),
        ({"lat": 1.0, "lon": None}, ValueError),
        ({"lat": True, "lon": 0.0}, TypeError),
        ({"lat": "48.85", "lon": 2.35}, TypeError),
        ({"lat": 1.0, "lon": 2.0, "city": 7}, TypeError),
        ({"lat": 1.0, "lon": 2.0, "decimals": -1}, ValueError),
        ({"lat": 1.0, "lon": 2.0, "city": "Paris, Coordinates: 3.0, 4.0"}, ValueError),  # would not read back
    ],
)
def test_format_answer_refuses_what_would_not_round_trip(kwargs, error):
    with pytest.raises(error):
        format_answer(**kwargs)


# Property: random valid coordinates written in each style parse back within the style's precision.


def _decimal(lat: float, lon: float, rng: random.Random) -> tuple[str, float]:
    sep = rng.choice([", ", ",", "; ", " "])
    text = rng.choice(["{}{}{}", "({}{}{})", "Coordinates: {}{}{}", "[{}{}{}]"]).format(f"{lat:.6f}", sep, f"{lon:.6f}")
    return text, 5e-7


def _dms_text(value: float, positive: str, negative: str, primes: tuple[str, str, str]) -> str:
    tenths = round(abs(value) * 36_000)  # whole tenths of an arcsecond, so that 59.96" never prints as 60.0"
    degrees, rest = divmod(tenths, 36_000)
    minutes, seconds = divmod(rest, 600)
    deg, minute, second = primes
    return f"{degrees}{deg}{minutes}{minute}{seconds / 10:.1f}{second}{positive if value >= 0 else negative}"


def _dms(lat: float, lon: float, rng: random.Random) -> tuple[str, float]:
    primes = rng.choice([("°", "'", '"'), ("° ", "′ ", "″ "), ("°", "’", "”"), (" deg ", " min ", " sec ")])
    text = f"{_dms_text(lat, 'N', 'S', primes)}{rng.choice([' ', ', '])}{_dms_text(lon, 'E', 'W', primes)}"
    return text, 0.05 / 3600 + 1e-9


def _letters(lat: float, lon: float, rng: random.Random) -> tuple[str, float]:
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    a, b = f"{abs(lat):.4f}", f"{abs(lon):.4f}"
    text = rng.choice([f"{a}° {ns}, {b}° {ew}", f"{ns} {a}, {ew} {b}", f"{a}{ns} {b}{ew}", f"{b} {ew}, {a} {ns}"])
    return text, 5e-5 + 1e-9


@pytest.mark.parametrize("style", [_decimal, _dms, _letters], ids=["decimal", "dms", "letters"])
def test_random_coordinates_round_trip_in_each_style(style):
    rng = random.Random(7)
    points = [(90.0, 180.0), (-90.0, -180.0), (0.0, 0.0), (89.99999, -179.99999)]
    points += [(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(400)]
    for lat, lon in points:
        text, tolerance = style(lat, lon, rng)
        answer = parse_answer(text)
        assert not answer.abstained, text
        assert abs(answer.lat - lat) <= tolerance and abs(answer.lon - lon) <= tolerance, (text, answer)


def test_the_module_doctests_pass():
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    assert doctest.testmod(answer_parser, optionflags=flags).failed == 0
