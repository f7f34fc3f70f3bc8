"""Read a vision-language model's free-text answer as a Chain of Region and a coordinate pair.

Zero-shot VLMs answer in whatever shape they like: the strict block the prompt asks for, JSON
in a Markdown fence, degrees-minutes-seconds, hemisphere letters, labels in swapped order, a
European decimal comma, Chinese or French around the numbers, or a polite refusal. A parse
that guesses wrong is worse than none (it scores a wrong place instead of an abstention), so
every rule below prefers abstaining to guessing, and each result says which rule decided.

Conventions are the project's (DESIGN.md section 3): WGS84 degrees, latitude in [-90, 90],
longitude in [-180, 180]; a value outside is never wrapped, it makes the answer an abstention
with reason ``"out of range"``.

**Which pair, when there are several.** Reasoning models write several pairs ("Paris is at
..., but Lyon is at ..."). The rule:

1. If the text has an answer section (a line starting ``Answer:``, ``Final answer:``,
   ``## Answer``, ``Réponse :``, ``答案：`` or an ``<answer>`` tag; the last such line counts),
   only the candidates after it are considered. When it has none, a refusal there ("I cannot
   tell") abstains; otherwise every candidate in the text is considered.
2. Among those, the ones introduced by *final*, *answer*, *best guess*, *my guess*, *most
   likely*, *I would say* (within 100 characters before, not reaching back past the previous
   candidate) win over unmarked ones.
3. Failing a mark, a pair written as coordinates on purpose (a label, JSON, hemisphere letters,
   degrees-minutes-seconds) wins over a bare pair, which is often an aside ("Versailles is at
   48.80, 2.12").
4. The last remaining candidate wins: the model's last word, after its reasoning.

The chosen candidate decides: if it is out of range or ambiguous, the answer abstains even
when an earlier pair was valid. A guess, however hedged ("I'm not sure, but ..."), is a
prediction; refusal words abstain only when no pair is given, or when the coordinate field
itself says so (``Coordinates: unknown``, ``"lat": null``).

**What counts as a pair.** Labelled values (``Latitude:``/``Longitude:`` in either order, up
to 200 characters apart; ``Coordinates:``, ``GPS:``, ``lat, lon:``; a ``(lon, lat)`` label
swaps the order), values with hemisphere letters or words (their letters decide the axis),
degrees-minutes-seconds, JSON (keys ``lat``/``latitude``, ``lon``/``lng``/``long``/
``longitude``, ``coordinates`` as ``[lat, lon]``, an object or a string; GeoJSON
``{"type": "Point", "coordinates": [lon, lat]}`` is read as GeoJSON orders it), and bare
pairs such as ``(48.85, 2.35)``. Bare pairs need both numbers to look like coordinates (a
fractional part, a degree sign or a hemisphere) and a plain separator between them (comma,
semicolon, slash, whitespace, "and"), so years, ``1080p``, ``4.5 km``, percentages, dates and
version numbers never become coordinates. A decimal comma is read only where nothing else is
possible: ``48,8566; 2,3522``, a labelled single value (``Latitude : 48,8566``) or one with a
degree sign or hemisphere; ``48,8566, 2,3522`` and ``Coordinates: 48,2`` are ``"ambiguous"``.

**The Chain of Region** comes from labelled lines (``Continent:``, ``Country:``, ``Region:``
or ``State:``/``Province:``, ``City:``; also French and Chinese labels, several per line, and
the same keys in JSON), the last value of each level winning and the answer section preferred;
a bare ``Europe → France → Île-de-France → Paris`` line fills the levels no label gave.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from dataclasses import dataclass
from typing import Any

from baselines.errors import BaselineInputError

__all__ = ["ANSWER_FORMAT", "ParsedAnswer", "format_answer", "parse_answer"]

#: Longest text read; longer answers are read from their end, where the answer block sits.
MAX_CHARS = 50_000

#: The instruction a prompt appends so that models answer in the strict format.
ANSWER_FORMAT = """\
End your reply with your answer in exactly this format, as its last lines:
Answer:
Continent: <continent>
Country: <country>
Region: <state, province or other first-level region>
City: <nearest city or town>
Coordinates: <latitude>, <longitude>
Write the coordinates in decimal degrees, latitude first; north and east are positive, south \
and west negative (for example "Coordinates: -33.8688, 151.2093"). Always give your best \
guess for the coordinates; write "unknown" for a place name you cannot tell."""


@dataclass(frozen=True)
class ParsedAnswer:
    """One parsed answer; ``abstained`` exactly when there are no coordinates.

    Place names are kept as the model wrote them (the gazetteer normalises later); ``None``
    means absent or "unknown". ``reason`` names the rule that decided: for coordinates
    ``"answer block"``, ``"json"``, ``"labelled decimal"``, ``"dms"``, ``"hemisphere
    letters"`` or ``"bare pair"``; for abstentions ``"refusal"``, ``"no coordinates"``,
    ``"out of range"`` (also NaN, infinity, minutes or seconds >= 60) or ``"ambiguous"`` (a
    decimal comma that could be a separator, a sign that contradicts its hemisphere letter).
    """

    lat: float | None
    lon: float | None
    continent: str | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    abstained: bool = False
    reason: str = ""

    def __post_init__(self) -> None:
        if (self.lat is None) != (self.lon is None) or self.abstained != (self.lat is None):
            raise ValueError("a ParsedAnswer abstains exactly when it has no coordinates")


def parse_answer(text: str) -> ParsedAnswer:
    r"""Parse one model answer; never raises on odd text, abstains instead.

    >>> parse_answer("Answer:\nCountry: France\nCity: Paris\nCoordinates: 48.8566, 2.3522")
    ParsedAnswer(lat=48.8566, lon=2.3522, continent=None, country='France', region=None,
                 city='Paris', abstained=False, reason='answer block')
    >>> answer = parse_answer("It is Cape Town: 33°55'S 18°25'E.")
    >>> round(answer.lat, 4), round(answer.lon, 4), answer.reason
    (-33.9167, 18.4167, 'dms')
    >>> parse_answer("I'm sorry, I cannot determine where this was filmed.").reason
    'refusal'
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_answer expects a string, got {type(text).__name__}")
    text = _normalise(text[-MAX_CHARS:])
    section, strict_header = _answer_section(text)
    candidates, json_objects = _candidates(text)
    fields = _hierarchy(text, json_objects, section)

    scope = candidates
    if section is not None:
        in_section = [c for c in candidates if c.start >= section]
        if in_section:
            scope = in_section
        elif _REFUSAL.search(_FIELD_LINE.sub("", text[section:])):
            return _abstain(fields, "refusal")
    if not scope:
        refused = _REFUSAL.search(_FIELD_LINE.sub("", text))  # "City: unknown" alone declines no pair
        return _abstain(fields, "refusal" if refused else "no coordinates")
    marked = [c for c in scope if c.final]
    explicit = [c for c in scope if c.rule != "bare pair"]
    chosen = (marked or explicit or scope)[-1]
    if chosen.status != "ok":
        return _abstain(fields, chosen.status)
    rule = chosen.rule
    if rule == "labelled decimal" and chosen.strict and strict_header and chosen.start >= section:
        rule = "answer block"
    lat, lon = chosen.lat + 0.0, chosen.lon + 0.0  # -0.0 + 0.0 is 0.0: no negative zero downstream
    return ParsedAnswer(lat, lon, **fields, abstained=False, reason=rule)


def format_answer(
    *,
    lat: float | None,
    lon: float | None,
    continent: str | None = None,
    country: str | None = None,
    region: str | None = None,
    city: str | None = None,
    decimals: int = 6,
) -> str:
    """The strict answer block, e.g. a supervised Chain-of-Region target.

    Coordinates are rounded to ``decimals`` places (6 is about 0.1 m); ``None`` writes
    "unknown". Raises ``ValueError`` for coordinates outside WGS84 and for a place name that
    :func:`parse_answer` would not give back unchanged (one spanning lines, say), so that every
    target it writes round-trips.

    >>> print(format_answer(lat=-33.8688, lon=151.2093, continent="Oceania", country="Australia",
    ...                     region="New South Wales", city="Sydney"))
    Answer:
    Continent: Oceania
    Country: Australia
    Region: New South Wales
    City: Sydney
    Coordinates: -33.8688, 151.2093
    >>> parse_answer(format_answer(lat=0.0, lon=-180.0, country="unknown")).country is None
    True
    """
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 12:
        raise BaselineInputError(f"decimals must be an integer in [0, 12], got {decimals!r}")
    if (lat is None) != (lon is None):
        raise BaselineInputError("give both lat and lon, or neither (an abstention)")
    names = {"continent": continent, "country": country, "region": region, "city": city}
    wanted = {key: _unknown_to_none(value, key) for key, value in names.items()}
    lines = ["Answer:"] + [f"{key.capitalize()}: {wanted[key] or 'unknown'}" for key in wanted]
    if lat is None:
        lines.append("Coordinates: unknown")
        expected: tuple[float | None, float | None] = (None, None)
    else:
        lat_text = _format_degrees(lat, "lat", 90.0, decimals)
        lon_text = _format_degrees(lon, "lon", 180.0, decimals)
        lines.append(f"Coordinates: {lat_text}, {lon_text}")
        expected = (float(lat_text), float(lon_text))
    block = "\n".join(lines)
    parsed = parse_answer(block)
    got = {key: getattr(parsed, key) for key in wanted}
    if got != wanted or (parsed.lat, parsed.lon) != expected:
        changed = [key for key in wanted if got[key] != wanted[key]] or ["coordinates"]
        raise BaselineInputError(f"{changed[0]} would not survive parsing: {block!r}")
    return block


# Formatting.


def _format_degrees(value: Any, name: str, bound: float, decimals: int) -> str:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or not -bound <= value <= bound:
        raise BaselineInputError(f"{name} must be a finite number in [-{bound:g}, {bound:g}], got {value!r}")
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0")
        text += "0" if text.endswith(".") else ""  # keep one decimal: "48.0", a clear coordinate
    return "0.0" if float(text) == 0 else text  # never "-0.0"


def _unknown_to_none(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string or None, got {type(value).__name__}")
    return _clean_field(value)


# Normalisation: one ASCII-ish spelling of what models write, so the patterns stay readable.

_TRANSLATE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}  # full-width ASCII forms
_TRANSLATE.update({
    ord("\u3000"): " ", ord("\u00a0"): " ", ord("\u202f"): " ", ord("\u2009"): " ", ord("\u2007"): " ",
    ord("\u2212"): "-", ord("\u2019"): "'", ord("\u2018"): "'", ord("\u201d"): '"', ord("\u201c"): '"',
    ord("\u3001"): ",", ord("\u3002"): ".", ord("*"): None, ord("`"): None, ord("\r"): None,
})
_CHINESE = {
    "北纬": " N ", "北緯": " N ", "南纬": " S ", "南緯": " S ", "东经": " E ", "東經": " E ", "西经": " W ",
    "西經": " W ", "纬度": " latitude ", "緯度": " latitude ", "经度": " longitude ", "經度": " longitude ",
    "坐标": " coords ", "坐標": " coords ", "座標": " coords ",  # a pair label, never the strict English one
}
_CHINESE_WORDS = re.compile("|".join(_CHINESE))
_CHINESE_UNITS = re.compile(r"(?<=\d)[ \t]*([度分秒])")
_DASH_MINUS = re.compile(r"(?<![A-Za-z0-9_.])[\u2010\u2012\u2013](?=\d)")
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3}){2,}(?![\d,]|\.\d)")


def _normalise(text: str) -> str:
    text = text.translate(_TRANSLATE)
    text = _CHINESE_WORDS.sub(lambda m: _CHINESE[m.group()], text)
    text = _CHINESE_UNITS.sub(lambda m: {"度": "°", "分": "'", "秒": '"'}[m.group(1)], text)
    text = _DASH_MINUS.sub("-", text)
    return _THOUSANDS.sub(lambda m: "#" * len(m.group()), text)  # 1,234,567 is a count, not a pair


# One coordinate value ("component"): optional label, hemisphere, sign, degrees[, minutes[, seconds]].

_NUM = r"(?:\d{1,3},\d{1,20}(?![.,]?\d)|\d{1,20}(?:\.\d{1,20})?(?!\.?\d))"  # decimal comma first: "48,85"
_DEG_UNIT = r"(?:[°º˚⁰]|(?i:deg(?:rees?|s)?)(?![A-Za-z])\.?)"
_MIN_UNIT = r"(?:['′´]|(?i:min(?:utes?|s)?)(?![A-Za-z])\.?|m(?![A-Za-z]))"
_SEC_UNIT = r"(?:''|′′|[\"″]|(?i:sec(?:onds?|s)?)(?![A-Za-z])\.?|s(?![A-Za-z]))"
_HEMI_WORDS = r"(?i:north|south|east|west|nord|sud|ouest)"
_LEAD_HEMI = rf"(?:[NSEW]|{_HEMI_WORDS})(?![A-Za-z])"
_TRAIL_HEMI = rf"(?:[NSEWO]|{_HEMI_WORDS})(?![A-Za-z0-9])"  # O: ouest/oeste
_PAIR_LABEL = (
    r"(?i:gps[ \t]+coordinates|coordinates|coordinate|coords|coordonn[ée]es|coordenadas|koordinaten|gps"
    r"|location|position|lat(?:itude)?[ \t]*[,/&][ \t]*(?:lon|lng|long)(?:gitude)?"
    r"|(?:lon|lng|long)(?:gitude)?[ \t]*[,/&][ \t]*lat(?:itude)?|latlng|latlon)(?![A-Za-z])"
)
_LAT_LABEL = r"(?i:latitude|lat)(?![A-Za-z])"
_LON_LABEL = r"(?i:longitude|long|lng|lon)(?![A-Za-z])"
_LABEL_SEP = r"""
    [ \t"'\)\]|]*
    (?:\((?P<order>[^()\n]{0,40})\)[ \t"'|]*)?
    (?P<sep>[:=][ \t]*|(?i:is|are|of|was|at|est|de)[ \t]+)?
    (?:(?i:is|are|of|est|de|at)[ \t]+)?
    (?:(?i:approximately|approx\.?|about|around|roughly|circa|ca\.|environ|大约|约)[ \t]*|[~≈][ \t]*)?
    [(\[]?[ \t]*
"""
# Units that make a number something else: 4.5 km, 2.5 min, 25.5°C, 1080p, 45%.
_NOT_A_COORDINATE = (
    r"[ \t]*(?:%|(?i:km|kilomet|miles?\b|mi\b|met(?:er|re)s?\b|ft\b|feet\b|fps\b|hz\b|px\b|pixels?\b"
    r"|[kmg]b\b|hours?\b|hrs?\b|mph\b|min(?:utes?)?\b|sec(?:onds?)?\b)|[msphx]\b|[°º][ \t]*[CF]\b)"
)
_COMPONENT = re.compile(
    rf"""
    (?<![A-Za-z0-9_.$€£¥#+-])
    (?:(?:(?P<plabel>{_PAIR_LABEL})|(?P<latlabel>{_LAT_LABEL})|(?P<lonlabel>{_LON_LABEL})){_LABEL_SEP})?
    (?:(?P<lead>{_LEAD_HEMI})[ \t]*)?
    (?P<sign>[-+])?
    (?P<deg>{_NUM})
    (?:[ \t]*(?P<degu>{_DEG_UNIT})
        (?:[ \t]*(?P<min>{_NUM})[ \t]*{_MIN_UNIT}
            (?:[ \t]*(?P<sec>{_NUM})[ \t]*{_SEC_UNIT})?
        )?
    )?
    (?(lead)|(?:[ \t]*(?P<trail>{_TRAIL_HEMI}))?)
    (?![A-Za-z0-9_]|\.\d|{_NOT_A_COORDINATE})
    """,
    re.VERBOSE,
)
_NEEDS_SEPARATOR = {"gps", "location", "position"}  # "position 3" is no coordinate; "Lat 48.85" is
_HEMI_AXIS = {"N": ("lat", 1), "S": ("lat", -1), "E": ("lon", 1), "W": ("lon", -1), "O": ("lon", -1)}
_HEMI_WORD_LETTER = {"north": "N", "nord": "N", "south": "S", "sud": "S", "east": "E", "west": "W", "ouest": "W"}


@dataclass
class _Component:
    start: int
    end: int
    label: str | None  # "lat", "lon" or "pair"
    axis: str | None  # "lat" or "lon", from the label or the hemisphere
    value: float
    problem: str | None  # why this value alone cannot be used
    reversed_pair: bool  # a "(lon, lat)" pair label
    strict: bool  # labelled "Coordinates", as the strict format writes it
    dms: bool
    hemi: bool
    loose_comma: bool  # a decimal comma that nothing else confirms
    looks: bool  # has a fraction, a degree sign or a hemisphere


@dataclass
class _Candidate:
    start: int
    end: int
    lat: float | None
    lon: float | None
    status: str  # "ok", "out of range", "ambiguous" or "refusal"
    rule: str
    strict: bool = False
    final: bool = False


def _component(match: re.Match[str]) -> _Component:
    g = match.groupdict()
    label = "pair" if g["plabel"] else "lat" if g["latlabel"] else "lon" if g["lonlabel"] else None
    label_text = g["plabel"] or g["latlabel"] or g["lonlabel"] or ""
    start = match.start()
    if label and not g["sep"] and label_text.lower() in _NEEDS_SEPARATOR:  # "a long 2.5 ..." is no label
        label, label_text = None, ""
        start = min(match.start(name) for name in ("lead", "sign", "deg") if match.start(name) != -1)
    problem = None
    letter = g["lead"] or g["trail"]
    if letter:
        letter = _HEMI_WORD_LETTER.get(letter.lower(), letter)
    hemi_axis, hemi_sign = _HEMI_AXIS[letter] if letter else (None, 1)
    deg_text, minutes, seconds = g["deg"], g["min"], g["sec"]
    marked = bool(g["degu"] or letter or label in ("lat", "lon"))
    loose_comma = "," in deg_text and not marked
    value = float(deg_text.replace(",", "."))
    if minutes is not None:
        if "." in deg_text or "," in deg_text or (seconds is not None and re.search(r"[.,]", minutes)):
            problem = "out of range"  # 48.5°30' is no angle anyone means
        m = float(minutes.replace(",", "."))
        s = float(seconds.replace(",", ".")) if seconds is not None else 0.0
        if m >= 60 or s >= 60:
            problem = "out of range"
        value += m / 60 + s / 3600
    if g["sign"] == "-":
        if hemi_sign == 1 and letter:
            problem = "ambiguous"  # "-48.85 N" contradicts itself
        value = -value
    elif hemi_sign == -1:
        value = -value
    axis = label if label in ("lat", "lon") else None
    if axis and hemi_axis and axis != hemi_axis:
        problem = "ambiguous"  # "Latitude: 2.35 E"
    axis = axis or hemi_axis
    reversed_pair = False
    if label == "pair":  # "(lon, lat): ..." and "lng/lat: ..." swap the order
        order = f"{label_text} {g['order'] or ''}".lower()
        lon_at, lat_at = re.search(r"lon|lng", order), re.search(r"lat", order)
        reversed_pair = bool(lon_at and lat_at and lon_at.start() < lat_at.start())
    return _Component(
        start=start,
        end=match.end(),
        label=label,
        axis=axis,
        value=value,
        problem=problem,
        reversed_pair=reversed_pair,
        strict=label == "pair" and label_text.lower().startswith("coordinates") and not g["order"],
        dms=minutes is not None,
        hemi=letter is not None,
        loose_comma=loose_comma,
        looks=bool("." in deg_text or "," in deg_text or g["degu"] or letter),
    )


# Pairing components into candidates.

_PLAIN_GAP = re.compile(r"[ \t\n]*(?:[,;/|&]|(?i:and|et|y|und))?[ \t\n]*")
_EURO_RUN = re.compile(
    r"(?<![A-Za-z0-9_.,])[-+]?\d{1,3},\d+(?:,[ \t]*|[ \t]+)[-+]?\d{1,3},\d+"
    r"(?![A-Za-z0-9_]|[.,]\d|[ \t]*(?:[°º˚'′NSEWO]|deg))"
)
_LABEL_BEFORE = re.compile(rf"{_PAIR_LABEL}[^\n]{{0,24}}$")
_FINAL_MARK = re.compile(
    r"(?i)\b(?:final|answer|best[ \t]+(?:guess|estimate)|my[ \t]+(?:guess|estimate|prediction)|most[ \t]+likely"
    r"|i(?:'d|[ \t]+would)[ \t]+(?:guess|estimate|say)|réponse|estimation)\b|最终|答案"
)
_LABEL_REACH = 200  # the most characters between a labelled latitude and its longitude


def _candidates(text: str) -> tuple[list[_Candidate], list[tuple[int, int, dict[str, Any]]]]:
    """Every coordinate candidate in text order, and the JSON objects found on the way."""
    json_objects = _json_objects(text)
    found: list[_Candidate] = []
    masked = list(text)
    for start, end, obj in json_objects:
        candidate = _json_candidate(obj, start, end)
        if candidate is not None:
            found.append(candidate)
        masked[start:end] = "#" * (end - start)
    masked_text = "".join(masked)
    for run in _EURO_RUN.finditer(masked_text):  # "48,8566, 2,3522": two decimals or four integers?
        line = masked_text[masked_text.rfind("\n", 0, run.start()) + 1: run.start()]
        rule = "labelled decimal" if _LABEL_BEFORE.search(line) else "bare pair"
        found.append(_Candidate(run.start(), run.end(), None, None, "ambiguous", rule))
        masked_text = masked_text[: run.start()] + "#" * len(run.group()) + masked_text[run.end():]
    found += _field_refusals(masked_text)
    components = [_component(match) for match in _COMPONENT.finditer(masked_text)]
    found += _pairs(masked_text, components)
    found.sort(key=lambda c: c.start)
    previous_end = 0
    for candidate in found:
        window = text[max(previous_end, candidate.start - 100): candidate.start]
        candidate.final = bool(_FINAL_MARK.search(window))
        previous_end = max(previous_end, candidate.end)
    return found, json_objects


def _pairs(text: str, components: list[_Component]) -> list[_Candidate]:
    used: set[int] = set()
    out: list[_Candidate] = []
    # Labelled latitude and longitude first: any order, a little prose between them.
    for i, first in enumerate(components):
        if i in used or first.label not in ("lat", "lon"):
            continue
        for j in range(i + 1, len(components)):
            second = components[j]
            if second.start - first.end > _LABEL_REACH or second.label == first.label or second.label == "pair":
                break
            if second.label in ("lat", "lon") and j not in used:
                used.update((i, j))
                axes = (first.axis or first.label, second.axis or second.label)
                out.append(_pair(first, second, *axes, ambiguous=False))
                break
    # Then neighbours with nothing but a separator between them.
    i = 0
    while i < len(components):
        first = components[i]
        second = components[i + 1] if i + 1 < len(components) else None
        if i in used:
            i += 1
            continue
        paired = second is not None and i + 1 not in used and second.label != "pair"
        if paired:
            gap = text[first.end: second.start]
            axes = _axes(first, second)
            labelled_or_hemi = (first.label or first.hemi) and (second.label or second.hemi)
            paired = (
                axes is not None
                and len(gap) <= 12
                and _PLAIN_GAP.fullmatch(gap) is not None
                and ("\n" not in gap or bool(labelled_or_hemi) and first.label != "pair")
                and (first.label is not None or (first.looks and second.looks))
            )
        if paired:
            loose = (first.loose_comma or second.loose_comma) and gap.strip() != ";"
            out.append(_pair(first, second, *axes, ambiguous=loose))
            i += 2
            continue
        if first.label == "pair" and first.loose_comma:  # "Coordinates: 48,2": one decimal or two integers?
            out.append(_Candidate(first.start, first.end, None, None, "ambiguous", "labelled decimal"))
        i += 1
    return out


def _axes(first: _Component, second: _Component) -> tuple[str, str] | None:
    a1 = first.axis or (("lon" if first.reversed_pair else "lat") if first.label == "pair" else None)
    a2 = second.axis
    if a1 is None and a2 is None:
        return "lat", "lon"
    if a1 is None:
        a1 = "lat" if a2 == "lon" else "lon"
    if a2 is None:
        a2 = "lat" if a1 == "lon" else "lon"
    return (a1, a2) if a1 != a2 else None


def _pair(first: _Component, second: _Component, a1: str, a2: str, *, ambiguous: bool) -> _Candidate:
    if a1 == a2:
        status = "ambiguous"
        lat = lon = None
    else:
        lat, lon = (first.value, second.value) if a1 == "lat" else (second.value, first.value)
        status = first.problem or second.problem or ("ambiguous" if ambiguous else _range_status(lat, lon))
    if first.dms or second.dms:
        rule = "dms"
    elif first.hemi or second.hemi:
        rule = "hemisphere letters"
    elif first.label or second.label:
        rule = "labelled decimal"
    else:
        rule = "bare pair"
    ok = status == "ok"
    return _Candidate(
        first.start, second.end, lat if ok else None, lon if ok else None, status, rule,
        strict=first.strict and a1 == "lat",
    )


def _range_status(lat: float, lon: float) -> str:
    finite = math.isfinite(lat) and math.isfinite(lon)
    return "ok" if finite and -90 <= lat <= 90 and -180 <= lon <= 180 else "out of range"


# Refusals and "unknown" values.

_REFUSAL = re.compile(
    r"""(?ix)
    \b(?:i[ \t]+)?(?:cannot|can't|can[ \t]+not|could[ \t]+not|couldn't|am[ \t]+(?:not[ \t]+able|unable)[ \t]+to
       |'m[ \t]+(?:not[ \t]+able|unable)[ \t]+to|unable[ \t]+to)[ \t]+(?:\w+[ \t]+){0,3}?
       (?:determine|identify|tell|provide|pinpoint|know|say|guess|geolocate|locate|infer|give|be[ \t]+determined)\b
    | \bi(?:'m|[ \t]+am)[ \t]+sorry\b | \bsorry\b[,!]
    | \bi[ \t]+(?:do[ \t]+not|don't)[ \t]+know\b
    | \b(?:unknown|undeterminable|indeterminate)\b | (?<![\w/])n/a(?![\w/])
    | \b(?:not[ \t]+possible[ \t]+to|not[ \t]+enough[ \t]+information|insufficient[ \t]+(?:information|evidence|detail)
       |impossible[ \t]+to[ \t]+(?:tell|determine|say|know))\b
    | \bje[ \t]+ne[ \t]+(?:peux|sais)[ \t]+pas\b | \bimpossible[ \t]+de[ \t]+d[ée]terminer\b | \binconnue?\b
    | \bd[ée]sol[ée]e?\b | 无法确定 | 无法判断 | 不确定 | 抱歉 | 未知
    """
)
_UNKNOWN_VALUE = re.compile(
    r"(?i)(?:unknown|unk|n/a|n\.a\.|none|null|nil|-+|—|\?+|not[ \t]+sure|unsure|uncertain|unclear|undetermined"
    r"|undeterminable|indeterminate|not[ \t]+(?:known|determinable|applicable|available)"
    r"|(?:cannot|can't)[ \t]+(?:be[ \t]+)?determined?|inconnue?|ind[ée]termin[ée]e?|未知|不确定|不详|无法确定)"
)
_COORDINATE_FIELD = re.compile(  # not "Location:": "Location: unknown street" declines no pair
    r"(?i)(?<![A-Za-z])(?P<label>gps[ \t]+coordinates|coordinates|coordinate|coords|coordonn[ée]es|latitude|lat"
    r"|longitude|long|lng|lon)(?![A-Za-z])[ \t\"']*(?:\([^()\n]{0,40}\))?[ \t\"']*[:=][ \t\"']*"
    r"(?P<value>[^\n]{1,80})$",
    re.MULTILINE,
)
_NON_FINITE = re.compile(r"(?i)(?<![A-Za-z])[-+]?(?:nan|inf(?:inity)?)(?![A-Za-z])")
_NUMBERS_ONLY = re.compile(r"(?i)[\s(\[]*(?:[-+]?(?:nan|inf(?:inity)?|\d+(?:[.,]\d+)?)°?[\s,;)\]]*){1,2}")


def _field_refusals(text: str) -> list[_Candidate]:
    """``Coordinates: unknown`` (the model declined in the field itself) and ``Latitude: NaN``."""
    out = []
    for match in _COORDINATE_FIELD.finditer(text):
        value = match.group("value").strip()
        if _NON_FINITE.search(value) and _NUMBERS_ONLY.fullmatch(value):
            out.append(_Candidate(match.start(), match.end(), None, None, "out of range", "labelled decimal"))
        elif not re.search(r"\d", value) and (_is_unknown(value) or _REFUSAL.search(value)):
            out.append(_Candidate(match.start(), match.end(), None, None, "refusal", "refusal"))
    return out


def _abstain(fields: dict[str, str | None], reason: str) -> ParsedAnswer:
    return ParsedAnswer(None, None, **fields, abstained=True, reason=reason)


# JSON.

_JSON_LAT = {"lat", "latitude"}
_JSON_LON = {"lon", "lng", "long", "longitude"}
_JSON_PAIR = {"coordinates", "coords", "coordinate", "gps", "location", "position", "latlng", "latlon",
              "lat_lon", "lat_lng", "point", "geo", "center"}
_MAX_JSON_TRIES = 256
_MAX_LENIENT_TRIES = 16


def _json_objects(text: str) -> list[tuple[int, int, dict[str, Any]]]:
    """Top-level JSON objects anywhere in the text (fenced or not), with their spans."""
    decoder = json.JSONDecoder()
    out, position, tries = [], 0, 0
    while (start := text.find("{", position)) != -1 and tries < _MAX_JSON_TRIES:
        tries += 1
        try:
            obj, end = decoder.raw_decode(text, start)
        except RecursionError:  # nested thousands deep: hostile, not an answer
            break
        except ValueError:  # JSONDecodeError is a ValueError
            obj, end = _lenient_json(text, start) if tries <= _MAX_LENIENT_TRIES else (None, 0)
        if isinstance(obj, dict):
            out.append((start, end, obj))
            position = end
        else:
            position = start + 1
    return out


_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_PYTHON_CONSTANTS = re.compile(r"\b(None|True|False)\b")


def _lenient_json(text: str, start: int) -> tuple[Any, int]:
    """A Python-style dict or JSON with trailing commas, as models write them; ``(None, 0)`` if not."""
    depth = 0
    for end in range(start, min(len(text), start + 4_000)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            break
    else:
        return None, 0
    snippet = _TRAILING_COMMA.sub(r"\1", text[start: end + 1])
    if '"' not in snippet:
        snippet = snippet.replace("'", '"')
    snippet = _PYTHON_CONSTANTS.sub(lambda m: {"None": "null", "True": "true", "False": "false"}[m.group()], snippet)
    try:
        return json.loads(snippet), end + 1
    except (ValueError, RecursionError):
        return None, 0


def _json_key(key: str, names: set[str]) -> bool:
    key = re.sub(r"[\s-]+", "_", key.strip().lower())
    return key in names or any(key.endswith("_" + name) for name in names)  # "pred_lat", "gps_latitude"


def _json_candidate(obj: Any, start: int, end: int, depth: int = 0) -> _Candidate | None:
    if depth > 6:
        return None
    if isinstance(obj, list):
        for item in obj:
            if (found := _json_candidate(item, start, end, depth + 1)) is not None:
                return found
        return None
    if not isinstance(obj, dict):
        return None
    lat_key = next((k for k in obj if isinstance(k, str) and _json_key(k, _JSON_LAT)), None)
    lon_key = next((k for k in obj if isinstance(k, str) and _json_key(k, _JSON_LON)), None)
    if lat_key is not None and lon_key is not None:
        return _json_pair(obj[lat_key], obj[lon_key], start, end)
    pair_key = next((k for k in obj if isinstance(k, str) and _json_key(k, _JSON_PAIR)), None)
    if pair_key is not None:
        value = obj[pair_key]
        if isinstance(value, (list, tuple)) and len(value) == 2 and not any(isinstance(v, (list, dict)) for v in value):
            geojson = str(obj.get("type", "")).lower() == "point"  # GeoJSON writes [lon, lat]
            return _json_pair(*(value[::-1] if geojson else value), start, end)
        if isinstance(value, str) or value is None:
            return _json_string_pair(value, start, end)
        if (found := _json_candidate(value, start, end, depth + 1)) is not None:
            return found
    for value in obj.values():
        if isinstance(value, (dict, list)) and (found := _json_candidate(value, start, end, depth + 1)) is not None:
            return found
    return None


def _json_pair(lat: Any, lon: Any, start: int, end: int) -> _Candidate:
    values = [_json_number(lat, "lat"), _json_number(lon, "lon")]
    for bad in ("refusal", "ambiguous", "out of range"):
        if bad in values:
            return _Candidate(start, end, None, None, bad, "json")
    lat_value, lon_value = values
    status = _range_status(lat_value, lon_value)
    ok = status == "ok"
    return _Candidate(start, end, lat_value if ok else None, lon_value if ok else None, status, "json")


def _json_number(value: Any, axis: str) -> float | str:
    """A float, or the status that explains why there is none."""
    if value is None:
        return "refusal"
    if isinstance(value, bool):
        return "ambiguous"
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            return "out of range"
    if isinstance(value, str):
        text = _normalise(value).strip()
        if not text or _UNKNOWN_VALUE.fullmatch(text):
            return "refusal"
        matches = list(_COMPONENT.finditer(text))
        if len(matches) != 1 or matches[0].group().strip() != text.strip(" ,;"):
            return "ambiguous"
        component = _component(matches[0])
        if component.problem:
            return component.problem
        if component.axis not in (None, axis):
            return "ambiguous"
        return component.value
    return "ambiguous"


def _json_string_pair(value: str | None, start: int, end: int) -> _Candidate:
    if value is None or _UNKNOWN_VALUE.fullmatch(value.strip()) or not value.strip():
        return _Candidate(start, end, None, None, "refusal", "json")
    inner, _ = _candidates(_normalise("Coordinates: " + value))
    if not inner:
        return _Candidate(start, end, None, None, "ambiguous", "json")
    chosen = inner[-1]
    return _Candidate(start, end, chosen.lat, chosen.lon, chosen.status, "json")


# The answer section and the Chain of Region.

_ANSWER_HEADER = re.compile(
    r"(?im)(?:^[ \t>#\-]*(?:final[ \t]+answer|answer|réponse(?:[ \t]+finale)?|最终答案|答案)[ \t]*(?::|$)|<answer>)"
)
_FIELD_NAMES = {
    "continent": ("continent", "大洲", "洲"),
    "country": ("country", "nation", "pays", "国家", "國家"),
    "region": ("region", "région", "state", "province", "admin1", "admin 1", "地区", "地區", "省份", "省", "州"),
    "city": ("city", "town", "ville", "城市", "城镇"),
}
_KEY_TO_FIELD = {name: field for field, names in _FIELD_NAMES.items() for name in names}
_KEYS = "|".join(sorted(map(re.escape, _KEY_TO_FIELD), key=len, reverse=True))
_KEY = rf"(?i:{_KEYS})(?![A-Za-z])(?:[ \t]*/[ \t]*[A-Za-z]+)*[ \t]*(?:\([^()\n]{{0,40}}\))?[ \t]*[:=]"
_FIELD_LINE = re.compile(
    rf"(?m)(?:^|(?<=[,;|])|(?<=\.[ \t]))[ \t>#\-•·+\d.)]*(?P<key>(?i:{_KEYS}))(?![A-Za-z])(?:[ \t]*/[ \t]*[A-Za-z]+)*"
    rf"[ \t]*(?:\([^()\n]{{0,40}}\))?[ \t]*[:=][ \t]*(?P<value>[^\n]*?)[ \t]*"
    rf"(?=[,;|][ \t]*(?:{_KEY}|(?:{_PAIR_LABEL}|{_LAT_LABEL}|{_LON_LABEL})[ \t]*[:=])|$)"
)
_CHAIN = re.compile(r"[ \t]*(?:→|->|⟶|➜|=>)[ \t]*")
_JSON_FIELD_KEYS = {
    "continent": {"continent"},
    "country": {"country", "country_name", "nation"},
    "region": {"region", "state", "province", "admin1", "admin_1", "admin"},
    "city": {"city", "town", "locality", "city_name"},
}


def _answer_section(text: str) -> tuple[int | None, bool]:
    """Where the last answer header ends (``None``: no header), and whether it is the strict one."""
    last = None
    for last in _ANSWER_HEADER.finditer(text):
        pass
    if last is None:
        return None, False
    return last.end(), "answer" in last.group().lower()


def _clean_field(value: str) -> str | None:
    """A place name as written, without quotes and stray separators; ``None`` for "unknown"."""
    value = " ".join(value.split()).strip(" \"'").rstrip(",;|").strip(" \"'")
    if not value or (value.startswith("<") and value.endswith(">")):  # "<city>": the template, echoed
        return None
    return None if _is_unknown(value) else value


def _is_unknown(value: str) -> bool:
    """"unknown", "N/A", "not sure (no signs visible)" and the like."""
    bare = re.sub(r"[ \t]*\([^()]*\)$", "", value.strip(" \t\"'")).rstrip(".")
    return _UNKNOWN_VALUE.fullmatch(bare) is not None


def _hierarchy(
    text: str, json_objects: list[tuple[int, int, dict[str, Any]]], section: int | None
) -> dict[str, str | None]:
    """Continent, country, region and city: the last value of each, preferring the answer section."""
    events: list[tuple[int, str, str | None]] = []
    for match in _FIELD_LINE.finditer(text):
        events.append((match.start(), _KEY_TO_FIELD[match.group("key").lower()], _clean_field(match.group("value"))))
    for start, _, obj in json_objects:
        for field, value in _json_fields(obj).items():
            events.append((start, field, value))
    if section is not None and any(position >= section for position, _, _ in events):
        events = [event for event in events if event[0] >= section]
    fields: dict[str, str | None] = dict.fromkeys(_FIELD_NAMES)
    for _, field, value in sorted(events, key=lambda event: event[0]):
        fields[field] = value
    seen = {field for _, field, _ in events}
    if len(seen) < 4:  # a bare "Europe → France → Île-de-France → Paris" fills the levels no label gave
        for line in text[section or 0:].splitlines():
            parts = _CHAIN.split(line.split(":", 1)[-1].strip(" \t-•>#"))
            if len(parts) == 4 and all(0 < len(p) <= 40 and ":" not in p for p in parts):
                chain = dict(zip(_FIELD_NAMES, parts))
                fields.update({field: _clean_field(chain[field]) for field in _FIELD_NAMES if field not in seen})
    return fields


def _json_fields(obj: Any, depth: int = 0) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    if depth > 6:
        return found
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, value in items:
        if isinstance(value, (dict, list)):
            for field, inner in _json_fields(value, depth + 1).items():
                found.setdefault(field, inner)
            continue
        if not isinstance(key, str):
            continue
        name = re.sub(r"[\s-]+", "_", key.strip().lower())
        for field, names in _JSON_FIELD_KEYS.items():
            if name in names and (value is None or isinstance(value, str)):
                found.setdefault(field, _clean_field(value) if isinstance(value, str) else None)
    return found
