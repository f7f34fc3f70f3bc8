"""GRPO rewards: pure, deterministic, vectorised over a batch of completions.

Each ``*_reward`` takes lists/arrays and returns a float array in [0, 1], one value per
completion; :func:`trl_reward_functions` wraps them in the signature TRL's ``GRPOTrainer`` calls
(``prompts``, ``completions`` and every dataset column as keyword arguments).

* **format**: 1 when :func:`~baselines.reference.reasoning.targets.check_format` finds no problem,
  0.5 when only the steps are missing or out of order but the strict answer block parses, else 0.
* **distance**: DESIGN.md section 8's piecewise-linear function of the haversine distance
  (R = 6371.0 km): 1 at 0 km, 0.5 at 750, 0.2 at 2500, 0 at 20,000 km and beyond; 0 for an
  abstention.
* **hierarchy**: the share of the four Chain-of-Region levels named correctly, where a level counts
  only when every coarser level does (the scorer's rule): 0.25 per level.
* **evidence** (optional): the share of the clip's top named atoms that the reasoning cites.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from avg_bench.geo.sphere import haversine_km
from baselines.answer_parser import ParsedAnswer, parse_answer
from baselines.reference.reasoning.targets import STEPS, check_format, normalise_name

#: Breakpoints of the distance reward (km -> reward), DESIGN.md section 8.
DISTANCE_KM = (0.0, 750.0, 2500.0, 20_000.0)
DISTANCE_REWARD = (1.0, 0.5, 0.2, 0.0)


def distance_reward(km: ArrayLike) -> NDArray[np.float64]:
    """Piecewise linear in the distance; NaN (an abstention) scores 0.

    >>> distance_reward([0, 375, 750, 2500, 11250, 20000, 20015]).round(4).tolist()
    [1.0, 0.75, 0.5, 0.2, 0.1, 0.0, 0.0]
    """
    km = np.asarray(km, dtype=np.float64)
    reward = np.interp(km, DISTANCE_KM, DISTANCE_REWARD)
    return np.where(np.isnan(km), 0.0, reward)


def answer_distances(parsed: Sequence[ParsedAnswer], lat: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
    """Haversine km from each parsed answer to the truth; NaN where the answer abstained."""
    plat = np.array([np.nan if p.lat is None else p.lat for p in parsed])
    plon = np.array([np.nan if p.lon is None else p.lon for p in parsed])
    ok = ~np.isnan(plat)
    km = np.full(len(parsed), np.nan)
    if ok.any():
        km[ok] = haversine_km(plat[ok], plon[ok], np.asarray(lat, dtype=np.float64)[ok],
                              np.asarray(lon, dtype=np.float64)[ok])
    return km


def format_reward(texts: Sequence[str]) -> NDArray[np.float64]:
    """1 for the full target format, 0.5 for a strict answer block without proper steps, else 0."""
    out = np.zeros(len(texts))
    for i, text in enumerate(texts):
        problems = check_format(text).problems
        if not problems:
            out[i] = 1.0
        elif all(p.startswith(("no step lines", "steps out of order")) for p in problems):
            out[i] = 0.5
    return out


def hierarchy_reward(parsed: Sequence[ParsedAnswer], truth: dict[str, Sequence[str | None]]) -> NDArray[np.float64]:
    """0.25 per level named correctly, coarser levels gating finer ones.

    ``truth`` maps ``continent``, ``country``, ``region``, ``city`` to per-clip names; a
    country also matches by its ISO code (the gazetteer's labels are codes, models write names).
    """
    from baselines.vlm import country_code

    n = len(parsed)
    running = np.ones(n, dtype=bool)
    total = np.zeros(n)
    for level in STEPS:
        said = [normalise_name(getattr(p, level)) for p in parsed]
        true = [normalise_name(t) for t in truth[level]]
        if level == "country":
            same = [bool(s) and (s == t or country_code(s) == country_code(t) is not None)
                    for s, t in zip(said, true)]
        else:
            same = [bool(s) and s == t for s, t in zip(said, true)]
        running &= np.array(same, dtype=bool)
        total += running * 0.25
    return total


def evidence_reward(texts: Sequence[str], top_atoms: Sequence[Sequence[str]]) -> NDArray[np.float64]:
    """The share of each clip's top atom names cited before the answer block; NaN without atoms."""
    out = np.full(len(texts), np.nan)
    for i, (text, names) in enumerate(zip(texts, top_atoms)):
        if names:
            reasoning = text.split("Answer:", 1)[0].casefold()
            out[i] = float(np.mean([name.casefold() in reasoning for name in names]))
    return out


def completion_texts(completions: Sequence) -> list[str]:
    """Plain text of TRL completions, which are strings or ``[{"role": ..., "content": ...}]``."""
    texts = []
    for completion in completions:
        if isinstance(completion, str):
            texts.append(completion)
        else:
            content = completion[-1]["content"] if completion else ""
            if isinstance(content, list):
                content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
            texts.append(content)
    return texts


def trl_reward_functions(*, evidence: bool = False) -> list[Callable[..., list[float | None]]]:
    """The rewards as TRL reward functions.

    The dataset must have ``lat``, ``lon``, ``continent``,
    ``country``, ``region``, ``city`` (and ``atom_names`` for evidence) columns.
    """

    def format(completions, **_) -> list[float]:
        return format_reward(completion_texts(completions)).tolist()

    def distance(completions, lat, lon, **_) -> list[float]:
        parsed = [parse_answer(t) for t in completion_texts(completions)]
        return distance_reward(answer_distances(parsed, lat, lon)).tolist()

    def hierarchy(completions, continent, country, region, city, **_) -> list[float]:
        parsed = [parse_answer(t) for t in completion_texts(completions)]
        truth = {"continent": continent, "country": country, "region": region, "city": city}
        return hierarchy_reward(parsed, truth).tolist()

    def cites_atoms(completions, atom_names, **_) -> list[float | None]:
        values = evidence_reward(completion_texts(completions), atom_names)
        return [None if np.isnan(v) else float(v) for v in values]  # None: "not applicable" to TRL

    functions = [format, distance, hierarchy]
    return functions + [cites_atoms] if evidence else functions


def total_reward(texts: Sequence[str], lat: ArrayLike, lon: ArrayLike, truth: dict[str, Sequence[str | None]],
                 weights: Sequence[float] = (1.0, 1.0, 1.0)) -> NDArray[np.float64]:
    """Weighted sum of format, distance and hierarchy: what hard-clip selection ranks by."""
    parsed = [parse_answer(t) for t in texts]
    parts = (format_reward(texts), distance_reward(answer_distances(parsed, lat, lon)), hierarchy_reward(parsed, truth))
    return sum(w * p for w, p in zip(weights, parts))


def select_hard_clips(rewards: ArrayLike, n: int) -> NDArray[np.intp]:
    """Indices of up to ``n`` clips for GRPO, from rewards ``(clips, samples)`` of sampled answers.

    A group whose samples all share one reward has zero advantage and teaches nothing, so clips
    with zero spread are dropped; the rest are ranked hardest first (lowest mean reward, then
    widest spread), ties by index.

    >>> select_hard_clips([[1, 1], [0.2, 0.6], [0, 0], [0.5, 0.9]], 2).tolist()
    [1, 3]
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    spread = rewards.std(axis=1)
    mean = rewards.mean(axis=1)
    candidates = np.flatnonzero(spread > 1e-9)
    order = np.lexsort((candidates, -spread[candidates], mean[candidates]))
    return candidates[order][:n]
