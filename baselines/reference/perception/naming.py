"""Naming acoustic atoms: label enrichment over top-activating clips, and text-embedding similarity.

* **Enrichment**: an atom's ``top_clips`` most-activating clips are compared with all clips; a
  label is a name when it is over-represented there: score = log2 fold enrichment
  ``(hits / n_top) / (K / N)``, significance = the hypergeometric tail ``P(X >= hits)`` (exact,
  from log-gamma), kept when ``hits >= min_hits`` and ``p <= max_p``.
* **Text** (encoders with a text tower, e.g. CLAP): the cosine between the atom (a decoder row, a
  direction in the centred audio space) and each label prompt's text embedding **centred** over
  all prompts. Centring removes the offset shared by every text embedding (the "modality gap"),
  which otherwise makes every cosine look alike. The text embeddings are an input array, so no
  model is needed here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from baselines.reference.errors import ReferenceModelError


@dataclasses.dataclass(frozen=True)
class AtomName:
    """One candidate name of an atom and the evidence for it."""

    label: str
    score: float  # log2 fold enrichment, or cosine for text names
    source: Literal["enrichment", "text"]
    p_value: float | None = None  # enrichment only


@dataclasses.dataclass(frozen=True)
class AtomInfo:
    """An acoustic atom: its index (decoder row), how often it fires, and its names, best first."""

    index: int
    frequency: float  # share of windows where it is active
    names: tuple[AtomName, ...] = ()

    @property
    def name(self) -> str:
        """The best name, or ``atom <index>`` for an unnamed atom."""
        return self.names[0].label if self.names else f"atom {self.index}"

    @property
    def score(self) -> float:
        """The best name's score (0 when the atom has no name)."""
        return self.names[0].score if self.names else 0.0


def hypergeom_sf(hits: int, population: int, successes: int, draws: int) -> float:
    """``P(X >= hits)`` for X ~ Hypergeometric(population N, successes K, draws n), exactly."""

    def log_comb(a: int, b: int) -> float:
        return math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)

    top = min(successes, draws)
    if hits > top:
        return 0.0
    denom = log_comb(population, draws)
    terms = [log_comb(successes, i) + log_comb(population - successes, draws - i) - denom for i in range(hits, top + 1)
             if draws - i <= population - successes]
    if not terms:
        return 0.0
    m = max(terms)
    return min(1.0, math.exp(m) * sum(math.exp(t - m) for t in terms))


def enrichment_names(
    clip_activation: np.ndarray,
    labels: Sequence[Sequence[str]],
    *,
    top_clips: int = 20,
    min_hits: int = 3,
    max_p: float = 1e-3,
    max_names: int = 3,
) -> list[list[AtomName]]:
    """Names per atom from ``clip_activation`` ``(N clips, M atoms)`` and each clip's labels."""
    n, m = clip_activation.shape
    if len(labels) != n:
        raise ReferenceModelError(f"labels has {len(labels)} entries, expected one list per clip ({n})")
    vocabulary = sorted({label for clip in labels for label in clip})
    if not vocabulary:
        return [[] for _ in range(m)]
    column = {label: j for j, label in enumerate(vocabulary)}
    has = np.zeros((n, len(vocabulary)), dtype=bool)
    for i, clip in enumerate(labels):
        has[i, [column[label] for label in clip]] = True
    base = has.sum(0)
    k = min(top_clips, n)
    top = np.argsort(-clip_activation, axis=0, kind="stable")[:k].T  # (M, k)
    names: list[list[AtomName]] = []
    for a in range(m):
        clips = top[a][clip_activation[top[a], a] > 0]
        if len(clips) == 0:
            names.append([])
            continue
        hits = has[clips].sum(0)
        found = []
        for j in np.flatnonzero(hits >= min_hits):
            p = hypergeom_sf(int(hits[j]), n, int(base[j]), len(clips))
            if p <= max_p:
                fold = (hits[j] / len(clips)) / (base[j] / n)
                found.append(AtomName(vocabulary[j], float(np.log2(fold)), "enrichment", p))
        found.sort(key=lambda x: (x.p_value, -x.score, x.label))
        names.append(found[:max_names])
    return names


def text_names(
    atoms: np.ndarray,
    text_embeddings: np.ndarray,
    text_labels: Sequence[str],
    *,
    min_cosine: float = 0.2,
    max_names: int = 3,
) -> list[list[AtomName]]:
    """Names per atom (rows of ``atoms`` ``(M, d)``) by cosine to centred prompt embeddings ``(L, d)``."""
    text = np.asarray(text_embeddings, dtype=np.float64)
    if text.ndim != 2 or text.shape[1] != atoms.shape[1]:
        raise ReferenceModelError(
            f"text_embeddings must have shape (labels, {atoms.shape[1]}) like the audio windows, found {text.shape}"
        )
    if len(text_labels) != text.shape[0]:
        raise ReferenceModelError(f"text_labels has {len(text_labels)} entries for {text.shape[0]} text embeddings")
    if text.shape[0] < 2:
        raise ReferenceModelError("text naming needs at least 2 label prompts (the embeddings are centred)")
    centred = text - text.mean(0)
    centred /= np.linalg.norm(centred, axis=1, keepdims=True).clip(1e-12)
    unit = atoms / np.linalg.norm(atoms, axis=1, keepdims=True).clip(1e-12)
    cos = unit @ centred.T
    order = np.argsort(-cos, axis=1, kind="stable")[:, :max_names]
    return [
        [AtomName(text_labels[j], float(cos[a, j]), "text") for j in order[a] if cos[a, j] >= min_cosine]
        for a in range(atoms.shape[0])
    ]
