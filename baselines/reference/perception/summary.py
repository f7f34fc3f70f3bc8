"""A clip's atom summary: its strongest named atoms and their weights, as the reasoning stage reads them."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from baselines.reference.perception.naming import AtomInfo


@dataclasses.dataclass(frozen=True)
class AtomWeight:
    """One atom in a clip: ``weight`` is its share of the clip's total atom activation."""

    index: int
    weight: float
    name: str
    named: bool


@dataclasses.dataclass(frozen=True)
class ClipAtomSummary:
    """The top atoms of one clip, strongest first.

    >>> s = ClipAtomSummary((AtomWeight(3, 0.5, "rain", True), AtomWeight(9, 0.25, "atom 9", False)))
    >>> print(s.to_text())
    acoustic atoms: rain 0.50; atom 9 (unnamed) 0.25
    """

    atoms: tuple[AtomWeight, ...]

    def to_text(self) -> str:
        """One line for a prompt; unnamed atoms are marked so the reader knows to weigh them less."""
        if not self.atoms:
            return "acoustic atoms: none active"
        parts = [f"{a.name}{'' if a.named else ' (unnamed)'} {a.weight:.2f}" for a in self.atoms]
        return "acoustic atoms: " + "; ".join(parts)

    def __str__(self) -> str:
        return self.to_text()


def summarise(pooled: np.ndarray, atoms: Sequence[AtomInfo], *, top: int = 5) -> list[ClipAtomSummary]:
    """Summaries from pooled clip codes ``(N, M)`` (mean code over each clip's windows)."""
    totals = pooled.sum(1, keepdims=True)
    shares = np.divide(pooled, totals, out=np.zeros_like(pooled, dtype=np.float64), where=totals > 0)
    order = np.argsort(-pooled, axis=1, kind="stable")[:, :top]
    out = []
    for i in range(pooled.shape[0]):
        chosen = [j for j in order[i] if pooled[i, j] > 0]
        out.append(ClipAtomSummary(tuple(
            AtomWeight(int(j), float(shares[i, j]), atoms[j].name, bool(atoms[j].names)) for j in chosen
        )))
    return out
