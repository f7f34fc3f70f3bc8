"""Chain-of-Region targets built from the ground truth alone (Geo-R), and their format check.

A target is what the reasoning stage is taught to write for one clip: a short reasoning text
that cites the evidence (the clip's strongest named acoustic atoms and what its keyframes show)
and walks continent -> country -> region -> city, then the strict answer block that
:func:`baselines.answer_parser.parse_answer` reads. The hierarchy comes from the scorer's own
gazetteer (:func:`avg_bench.geo.gazetteer.default_gazetteer`), so a target and the semantic
accuracy agree on every name; no model writes any part of it.

"What the frames show" is, without a captioning model, a description of the keyframes' colour
statistics (dominant colour, brightness, how much the frames differ): that is what the project
can state truthfully from pixels. Richer evidence (a captioner's words) can be passed in as text.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from avg_bench.geo.continents import CONTINENT_NAMES, country_names
from baselines.answer_parser import format_answer, parse_answer

#: Steps of the reasoning, in order; the validator checks that they appear in this order.
STEPS = ("continent", "country", "region", "city")
_STEP_LINE = re.compile(r"^Step (?P<n>[1-4]), (?P<level>continent|country|region|city) -> (?P<value>.+)$", re.MULTILINE)
_PALETTE = {
    "green": (70, 120, 60), "blue": (70, 110, 170), "grey": (128, 128, 128), "brown": (130, 95, 60),
    "red": (170, 60, 50), "yellow": (200, 180, 70), "white": (225, 225, 225), "black": (25, 25, 25),
}


@dataclass(frozen=True)
class ChainOfRegion:
    """One clip's ground truth as names: continent, country, region (admin1), city, and the point."""

    continent: str
    country: str
    country_code: str
    region: str
    city: str
    lat: float
    lon: float


def chains_of_region(lat: ArrayLike, lon: ArrayLike) -> list[ChainOfRegion]:
    """The gazetteer's hierarchy for each point, with continent and country spelled out.

    >>> [c.city for c in chains_of_region([48.8566], [2.3522])], chains_of_region([-33.87], [151.21])[0].continent
    (['Paris'], 'Oceania')
    """
    from avg_bench.geo.gazetteer import reverse_geocode

    lat, lon = np.atleast_1d(np.asarray(lat, dtype=np.float64)), np.atleast_1d(np.asarray(lon, dtype=np.float64))
    hierarchy = reverse_geocode(lat, lon)
    names = country_names()
    return [
        ChainOfRegion(CONTINENT_NAMES[continent], names.get(country, country), country, region or "unknown",
                      city or "unknown", float(lat[i]), float(lon[i]))
        for i, (continent, country, region, city) in enumerate(
            zip(hierarchy.continent, hierarchy.country, hierarchy.admin1, hierarchy.city))
    ]


def describe_frames(frames: Sequence[bytes]) -> str:
    """What the keyframes show, from pixels alone: dominant colour, brightness and variety.

    >>> from PIL import Image
    >>> buffer = io.BytesIO(); Image.new("RGB", (32, 32), (60, 125, 55)).save(buffer, "JPEG")
    >>> describe_frames([buffer.getvalue()] * 2)
    'the frames are mostly green, of medium brightness, alike from frame to frame'
    """
    from PIL import Image

    if not frames:
        return "no frames are available"
    means = []
    for frame in frames:
        with Image.open(io.BytesIO(frame)) as image:
            image.draft("RGB", (96, 54))
            means.append(np.asarray(image.convert("RGB"), dtype=np.float64).reshape(-1, 3).mean(axis=0))
    rgb = np.mean(means, axis=0)
    colour = min(_PALETTE, key=lambda name: float(np.sum((rgb - _PALETTE[name]) ** 2)))
    luma = float(rgb @ (0.299, 0.587, 0.114))
    brightness = "dark" if luma < 70 else "bright" if luma > 170 else "of medium brightness"
    spread = float(np.mean(np.std(means, axis=0))) if len(means) > 1 else 0.0
    variety = "changing from frame to frame" if spread > 20 else "alike from frame to frame"
    return f"the frames are mostly {colour}, {brightness}, {variety}"


def reasoning_target(chain: ChainOfRegion, *, atoms: Sequence[tuple[str, float]] = (), frames: str | None = None) -> str:
    """The supervised completion for one clip: evidence, four steps, the strict answer block.

    ``atoms`` are the clip's top named atoms as ``(name, weight)``, strongest first; ``frames``
    says what the keyframes show (:func:`describe_frames`). Either may be absent (the ablations).

    >>> chain = ChainOfRegion("Europe", "France", "FR", "Ile-de-France", "Paris", 48.8566, 2.3522)
    >>> print(reasoning_target(chain, atoms=[("rain", 0.42)], frames="the frames are mostly grey"))
    Evidence: the soundtrack's strongest acoustic atoms are rain (0.42); the frames are mostly grey.
    Step 1, continent -> Europe
    Step 2, country -> France, in Europe
    Step 3, region -> Ile-de-France, in France
    Step 4, city -> Paris, in Ile-de-France
    Answer:
    Continent: Europe
    Country: France
    Region: Ile-de-France
    City: Paris
    Coordinates: 48.8566, 2.3522
    """
    evidence = []
    if atoms:
        evidence.append("the soundtrack's strongest acoustic atoms are " + ", ".join(f"{n} ({w:.2f})" for n, w in atoms))
    if frames:
        evidence.append(frames)
    lines = [f"Evidence: {'; '.join(evidence) if evidence else 'none'}.",
             f"Step 1, continent -> {chain.continent}",
             f"Step 2, country -> {chain.country}, in {chain.continent}",
             f"Step 3, region -> {chain.region}, in {chain.country}",
             f"Step 4, city -> {chain.city}, in {chain.region}"]
    block = format_answer(lat=chain.lat, lon=chain.lon, continent=chain.continent, country=chain.country,
                          region=chain.region, city=chain.city, decimals=4)
    return "\n".join(lines) + "\n" + block


@dataclass(frozen=True)
class FormatCheck:
    """The result of :func:`check_format`: ``ok`` exactly when ``problems`` is empty."""

    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the answer has no problem."""
        return not self.problems


def check_format(text: str) -> FormatCheck:
    """Whether a completion follows the target format.

    Four steps in order, then a strict answer block with all four levels and coordinates, and nothing after it.

    >>> check_format("Paris, probably.").problems
    ('no step lines (Step 1, continent -> ...)', 'no strict answer block with coordinates')
    """
    problems = []
    steps = [(int(m["n"]), m["level"]) for m in _STEP_LINE.finditer(text)]
    if not steps:
        problems.append("no step lines (Step 1, continent -> ...)")
    elif steps != list(enumerate(STEPS, start=1)):
        problems.append(f"steps out of order or incomplete: {', '.join(level for _, level in steps)}")
    parsed = parse_answer(text)
    if parsed.abstained or parsed.reason != "answer block":
        problems.append("no strict answer block with coordinates")
    else:
        missing = [level for level in STEPS if getattr(parsed, level) is None]
        if missing:
            problems.append(f"answer block lacks {', '.join(missing)}")
        tail = text.rstrip().rsplit("\n", 1)[-1]
        if not tail.startswith("Coordinates:"):
            problems.append("text after the answer block")
        elif steps and text.find("Answer:") < text.rfind("Step 4"):
            problems.append("the answer block comes before the steps")
    return FormatCheck(tuple(problems))


def normalise_name(name: str | None) -> str:
    """A place name compared loosely: accents, case, punctuation and spacing ignored.

    >>> normalise_name("Île-de-France") == normalise_name("ile de france")
    True
    """
    if not name:
        return ""
    bare = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", bare).split())
