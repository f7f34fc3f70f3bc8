"""The two input modalities of a clip, named once for the whole project.

A clip has an audio track and a visual stream (its video frames and keyframes). Baselines declare
which they read, submissions declare which they used, and AVG-Synth puts each location's identity
cue in one of them: all three speak this vocabulary, so "video" and "visual" never mean the same
thing under two names.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from avg_bench.errors import AvgBenchError


class Modality(StrEnum):
    """One input modality; its value is the word users type and files store."""

    AUDIO = "audio"
    VISUAL = "visual"


#: Modality sets in the order users read them, with the word that names each set.
_SET_NAMES: dict[frozenset[Modality], str] = {
    frozenset(): "none",
    frozenset({Modality.AUDIO}): "audio",
    frozenset({Modality.VISUAL}): "visual",
    frozenset({Modality.AUDIO, Modality.VISUAL}): "audio+visual",
}
#: The words a set of modalities may be written as (``--modalities``, leaderboard submissions).
MODALITY_SET_NAMES: tuple[str, ...] = tuple(_SET_NAMES.values())


def modality_set_name(modalities: Iterable[Modality | str]) -> str:
    """The word for a set of modalities: ``none``, ``audio``, ``visual`` or ``audio+visual``."""
    return _SET_NAMES[frozenset(Modality(m) for m in modalities)]


def parse_modality_set(text: str, *, what: str = "modalities") -> frozenset[Modality]:
    """The modalities a word names; an unknown word is a user error that lists the valid ones."""
    for modalities, name in _SET_NAMES.items():
        if text == name:
            return modalities
    hint = " (the visual stream is called 'visual')" if "video" in text else ""
    raise AvgBenchError(f"{what} must be one of {', '.join(MODALITY_SET_NAMES)}, found {text!r}{hint}")
