"""Hash-based randomness: every number of AVG-Synth comes from SHA-256 of (seed, names).

No RNG state and no dependence on numpy's streams, so a value is stable across numpy versions,
platforms and the order in which things are drawn.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
from collections.abc import Sequence


def _unit(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts`` (SHA-256 of their text)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _between(low: float, high: float, *parts: object) -> float:
    return low + (high - low) * _unit(*parts)


def _log_between(low: float, high: float, *parts: object) -> float:
    return math.exp(_between(math.log(low), math.log(high), *parts))


def _choice(options: Sequence, *parts: object):
    return options[int(_unit(*parts) * len(options))]


def _seed32(*parts: object) -> int:
    """A seed for ffmpeg's noise sources (0 .. 2**31-1)."""
    return int(_unit(*parts) * (2**31 - 1))


def _hsv(hue_deg: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb((hue_deg % 360.0) / 360.0, min(max(saturation, 0.0), 1.0), min(max(value, 0.0), 1.0))
    return round(r * 255), round(g * 255), round(b * 255)


def _hex(rgb: Sequence[int]) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in rgb)
