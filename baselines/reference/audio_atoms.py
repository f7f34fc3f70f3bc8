"""``AudioAtomsLocator``: the audio-only reference (stage 1 + stage 3): atoms in, coordinates out.

API (what ``avg-bench baseline run audio-atoms`` wraps)::

    model = AudioAtomsLocator(sae=SAEConfig(...), flow=FlowConfig(...), runtime=Runtime(device="cuda", dtype="bf16"))
    model.fit(clip_windows, lat, lon, labels=None, text_embeddings=None, text_labels=None, seed=0)
    lat, lon, samples = model.predict(clip_windows, n_samples=32, steps=64, guidance=0.0,
                                      select="vmf", seed=0)     # samples: (N, S, 2) [lat, lon]
    model.summaries(clip_windows, top=5)                       # list[ClipAtomSummary]
    model.save("dir"); AudioAtomsLocator.load("dir", runtime=Runtime(device="cpu"))

``clip_windows`` is a list with one ``(T_i, d)`` float array per clip (window embeddings from a
frozen audio encoder). Fitting trains the SAE, pools each clip's codes (mean over windows) into
an atom vector, and trains a :class:`FlowLocator` conditioned on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from baselines.reference.errors import ReferenceModelError
from baselines.reference.perception.atoms import AudioAtoms
from baselines.reference.perception.sae import SAEConfig
from baselines.reference.perception.summary import ClipAtomSummary
from baselines.reference.precision.locator import FlowConfig, FlowLocator
from baselines.reference.runtime import Runtime
from baselines.reference.validation import as_coordinates


class AudioAtomsLocator:
    """Audio atoms pooled per clip, then a conditional flow on S²; see the module docstring."""

    def __init__(self, sae: SAEConfig | None = None, flow: FlowConfig | None = None, *, runtime: Runtime | None = None) -> None:
        self.atoms = AudioAtoms(sae, runtime=runtime)
        self.flow = FlowLocator(flow, runtime=runtime)

    def fit(
        self,
        clip_windows: Sequence[np.ndarray],
        lat: ArrayLike,
        lon: ArrayLike,
        *,
        labels: Sequence[Sequence[str]] | None = None,
        text_embeddings: np.ndarray | None = None,
        text_labels: Sequence[str] | None = None,
        seed: int = 0,
        progress: bool = True,
    ) -> AudioAtomsLocator:
        """Fit the atoms on the training clips' windows, then the flow head on their coordinates."""
        lat, lon = as_coordinates(lat, lon, rows=len(clip_windows))
        self.atoms.fit(
            clip_windows, labels=labels, text_embeddings=text_embeddings, text_labels=text_labels,
            seed=seed, progress=progress,
        )
        self.flow.fit(self.atoms.pooled(clip_windows), lat, lon, seed=seed, progress=progress)
        return self

    def predict(
        self,
        clip_windows: Sequence[np.ndarray],
        *,
        n_samples: int = 32,
        steps: int = 64,
        guidance: float = 0.0,
        select: Literal["vmf", "likelihood"] = "vmf",
        seed: int = 0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``lat (N,)``, ``lon (N,)`` and the samples ``(N, S, 2)`` behind them."""
        if len(clip_windows) == 0:
            raise ReferenceModelError("clip_windows is empty: nothing to predict")
        return self.flow.predict(
            self.atoms.pooled(clip_windows), n_samples=n_samples, steps=steps, guidance=guidance, select=select, seed=seed
        )

    def summaries(self, clip_windows: Sequence[np.ndarray], *, top: int = 5) -> list[ClipAtomSummary]:
        """Each clip's strongest atoms with their names, for reading what the model heard."""
        return self.atoms.summaries(clip_windows, top=top)

    def save(self, directory: str | Path) -> Path:
        """Save the atoms and the flow head under ``directory``; returns it."""
        directory = Path(directory)
        self.atoms.save(directory / "atoms")
        self.flow.save(directory / "flow")
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, runtime: Runtime | None = None) -> AudioAtomsLocator:
        """Restore both stages onto ``runtime``'s device (default: CPU, the dtype they were saved in)."""
        directory = Path(directory)
        model = cls.__new__(cls)
        model.atoms = AudioAtoms.load(directory / "atoms", runtime=runtime)
        model.flow = FlowLocator.load(directory / "flow", runtime=runtime)
        return model
