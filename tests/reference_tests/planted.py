"""Synthetic clip embeddings from a planted sparse dictionary: the known truth the SAE tests recover.

Each clip belongs to one of ``n_domains`` acoustic scenes that own disjoint sets of atoms. A clip
has 2 persistent background atoms (held over all its windows, with 10% jitter) and, in each window,
about 2 transient events from its scene; plus isotropic noise. Its labels are the names of every
atom active in it (what dataset metadata or an audio tagger would say).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class Planted:
    clips: list[np.ndarray]  # numpy object array of (T, d) float32 arrays, so it slices
    dictionary: np.ndarray  # (n_atoms, d) unit rows
    labels: np.ndarray  # per clip: a list of label strings (object array)
    names: list[str]  # per planted atom
    domain: np.ndarray  # per clip


def planted_clips(
    n_clips: int, *, d: int = 48, n_atoms: int = 48, n_domains: int = 3, noise: float = 0.02,
    t_range: tuple[int, int] = (4, 8), offset: float = 1.0, seed: int = 0,
) -> Planted:
    rng = np.random.default_rng(seed)
    dictionary = rng.normal(size=(n_atoms, d))
    dictionary /= np.linalg.norm(dictionary, axis=1, keepdims=True)
    mean_offset = offset * rng.normal(size=d) / np.sqrt(d)  # embeddings are not centred in the wild
    groups = np.array_split(rng.permutation(n_atoms), n_domains)
    names = [f"sound-{i:02d}" for i in range(n_atoms)]
    clips, labels, domains = [], [], []
    for _ in range(n_clips):
        g = int(rng.integers(n_domains))
        own = groups[g]
        t = int(rng.integers(t_range[0], t_range[1] + 1))
        background = rng.choice(own, size=2, replace=False)
        codes = np.zeros((t, n_atoms))
        codes[:, background] = rng.uniform(1.0, 2.0, size=2) * rng.uniform(0.9, 1.1, size=(t, 2))
        events = rng.random((t, len(own))) < 2.0 / len(own)
        codes[:, own] += events * rng.uniform(0.5, 1.5, size=(t, len(own)))
        x = codes @ dictionary + mean_offset + noise * rng.normal(size=(t, d))
        clips.append(x.astype(np.float32))
        labels.append(sorted(names[j] for j in np.flatnonzero(codes.max(0) > 0)))
        domains.append(g)
    boxed = np.empty(len(clips), dtype=object)
    boxed[:] = clips
    boxed_labels = np.empty(len(labels), dtype=object)
    boxed_labels[:] = labels
    return Planted(boxed, dictionary, boxed_labels, names, np.array(domains))


def recovery(learned: np.ndarray, dictionary: np.ndarray) -> np.ndarray:
    """For each planted atom, the best cosine with any learned atom."""
    learned = learned / np.linalg.norm(learned, axis=1, keepdims=True)
    return (dictionary @ learned.T).max(1)
