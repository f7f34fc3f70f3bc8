"""``AudioAtoms``: a fitted MAR-SAE over a clip's window embeddings, with named atoms.

API (numpy in; a clip is a ``(T, d)`` array of its window embeddings, T may differ per clip)::

    atoms = AudioAtoms(SAEConfig(n_atoms=4096, k=32, n_experts=4, predictor=True),
                       runtime=Runtime(device="cuda", dtype="bf16"))   # default: cpu, fp32, 1 thread
    atoms.fit(clip_windows, labels=labels, text_embeddings=None, text_labels=None, seed=0)
    atoms.atoms                        # list[AtomInfo]: index, frequency, names (best first)
    codes = atoms.encode(clip_windows) # list[ClipCodes]: per window, sparse (indices, values), expert
    pooled = atoms.pooled(clip_windows)      # (N, n_atoms): mean code over each clip's windows
    atoms.summaries(clip_windows, top=5)     # list[ClipAtomSummary]; str(s) is the reasoning text
    atoms.metrics(clip_windows)              # SAEMetrics: fvu, l0, dead_fraction, expert_load
    atoms.name_atoms(clip_windows, labels=..., text_embeddings=..., text_labels=...)  # rename later
    atoms.save("dir"); AudioAtoms.load("dir", runtime=Runtime(device="cpu"))   # either device

``labels`` is one list of strings per clip (dataset metadata or an audio tagger's outputs);
``text_embeddings`` ``(L, d)`` are the label prompts' embeddings in the same space as the windows
(CLAP's text tower), named by ``text_labels`` (L strings).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from baselines.reference.checkpoint import load_checkpoint, save_checkpoint
from baselines.reference.errors import ReferenceModelError
from baselines.reference.perception.data import ClipWindows
from baselines.reference.perception.naming import AtomInfo, AtomName, enrichment_names, text_names
from baselines.reference.perception.sae import MarSAE, SAEConfig
from baselines.reference.perception.summary import ClipAtomSummary, summarise
from baselines.reference.perception.train import SAEMetrics, evaluate_sae, fit_sae, normalised
from baselines.reference.runtime import Runtime, cast_floating

CHECKPOINT_KIND = "avg-bench/audio-atoms"


@dataclasses.dataclass(frozen=True)
class ClipCodes:
    """One clip's sparse codes: window t uses atoms ``indices[t]`` with ``values[t]`` (zeros pad)."""

    indices: np.ndarray  # (T, K) int64
    values: np.ndarray  # (T, K) float32, >= 0
    experts: np.ndarray  # (T,) expert each window was routed to

    def dense(self, n_atoms: int) -> np.ndarray:
        """The ``(T, n_atoms)`` code matrix."""
        out = np.zeros((self.indices.shape[0], n_atoms), dtype=np.float32)
        np.put_along_axis(out, self.indices, self.values, axis=1)
        return out


class AudioAtoms:
    """Stage 1 of the reference model; see the module docstring."""

    def __init__(self, config: SAEConfig | None = None, *, runtime: Runtime | None = None) -> None:
        self.config = config or SAEConfig()
        self.runtime = runtime or Runtime()
        self.model: MarSAE | None = None
        self.atoms: list[AtomInfo] = []
        self.history: list[dict[str, float]] = []

    @property
    def d(self) -> int:
        """Dictionary size of the fitted sparse autoencoder."""
        return self._fitted().d

    def _fitted(self) -> MarSAE:
        if self.model is None:
            raise ReferenceModelError("these AudioAtoms are not fitted: call fit() or AudioAtoms.load() first")
        return self.model

    def _data(self, clip_windows: Sequence[np.ndarray]) -> ClipWindows:
        model = self._fitted()
        return normalised(model, ClipWindows(clip_windows, d=model.d))

    def fit(
        self,
        clip_windows: Sequence[np.ndarray],
        *,
        labels: Sequence[Sequence[str]] | None = None,
        text_embeddings: np.ndarray | None = None,
        text_labels: Sequence[str] | None = None,
        seed: int = 0,
        progress: bool = True,
    ) -> AudioAtoms:
        """Train the SAE on every clip's windows, then name the atoms from what is given."""
        raw = ClipWindows(clip_windows)
        device = self.runtime.torch_device
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = MarSAE(raw.d, self.config, seed=seed)
        model.set_input_norm(raw.windows)
        self.model = model = model.to(device)
        self.history = fit_sae(model, normalised(model, raw), seed=seed, progress=progress, runtime=self.runtime)
        self.name_atoms(clip_windows, labels=labels, text_embeddings=text_embeddings, text_labels=text_labels)
        return self

    @torch.no_grad()
    def _dense_codes(self, data: ClipWindows, chunk: int = 256):
        model = self._fitted()
        for idx, x, mask in data.chunks(chunk):
            x = x.to(model.device)
            with self.runtime.active():
                out = model(x, mask.to(model.device))
            yield idx, (out.codes.float() * mask.to(model.device)[..., None]).cpu(), out.experts.cpu(), mask

    def encode(self, clip_windows: Sequence[np.ndarray]) -> list[ClipCodes]:
        """Sparse codes of every window of every clip (in input order)."""
        data = self._data(clip_windows)
        c = self.config
        width = min(c.n_atoms, c.k + (c.k_pred if c.predictor else 0))
        result: list[ClipCodes | None] = [None] * len(data)
        for idx, codes, experts, mask in self._dense_codes(data):
            values, indices = codes.topk(width, dim=-1)
            for row, clip in enumerate(idx):
                t = int(mask[row].sum())
                result[clip] = ClipCodes(indices[row, :t].numpy(), values[row, :t].numpy(), experts[row, :t].numpy())
        return result  # type: ignore[return-value]

    def pooled(self, clip_windows: Sequence[np.ndarray]) -> np.ndarray:
        """Each clip's mean code over its windows, ``(N, n_atoms)`` float32: the clip-level atom vector."""
        return self._pooled_and_frequency(self._data(clip_windows))[0]

    def _pooled_and_frequency(self, data: ClipWindows) -> tuple[np.ndarray, np.ndarray]:
        pooled = np.zeros((len(data), self.config.n_atoms), dtype=np.float32)
        fired = torch.zeros(self.config.n_atoms, device="cpu")
        for idx, codes, _, mask in self._dense_codes(data):
            pooled[idx] = (codes.sum(1) / mask.sum(1, keepdim=True)).numpy()
            fired += (codes > 0).sum(dim=(0, 1))
        return pooled, (fired / int(data.lengths.sum())).numpy()

    def name_atoms(
        self,
        clip_windows: Sequence[np.ndarray],
        *,
        labels: Sequence[Sequence[str]] | None = None,
        text_embeddings: np.ndarray | None = None,
        text_labels: Sequence[str] | None = None,
        top_clips: int = 20,
    ) -> list[AtomInfo]:
        """(Re)compute every atom's frequency and names; enrichment names come before text names."""
        model = self._fitted()
        pooled, frequency = self._pooled_and_frequency(self._data(clip_windows))
        names: list[list[AtomName]] = [[] for _ in range(self.config.n_atoms)]
        if labels is not None:
            for a, found in enumerate(enrichment_names(pooled, labels, top_clips=top_clips)):
                names[a].extend(found)
        if text_embeddings is not None:
            if text_labels is None:
                raise ReferenceModelError("text_embeddings need text_labels (one label per embedding row)")
            atoms = model.W_dec.detach().cpu().numpy().astype(np.float64)
            for a, found in enumerate(text_names(atoms, text_embeddings, text_labels)):
                names[a].extend(found)
        self.atoms = [AtomInfo(a, float(frequency[a]), tuple(names[a])) for a in range(self.config.n_atoms)]
        return self.atoms

    def summaries(self, clip_windows: Sequence[np.ndarray], *, top: int = 5) -> list[ClipAtomSummary]:
        """Each clip's ``top`` atoms with weights and names (what the reasoning stage reads)."""
        return summarise(self.pooled(clip_windows), self.atoms, top=top)

    def metrics(self, clip_windows: Sequence[np.ndarray]) -> SAEMetrics:
        """FVU, L0, dead fraction and expert load over these clips."""
        return evaluate_sae(self._fitted(), self._data(clip_windows))

    @property
    def decoder(self) -> np.ndarray:
        """The atoms: unit-norm decoder rows ``(n_atoms, d)`` (directions in the centred input space)."""
        return self._fitted().W_dec.detach().float().cpu().numpy().copy()

    # -- persistence ---------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Save the fitted autoencoder and its configuration under ``directory``; returns it."""
        model = self._fitted()
        config = {
            "sae": dataclasses.asdict(self.config),
            "dtype": self.runtime.dtype,
            "d": model.d,
            "atoms": [
                {"index": a.index, "frequency": a.frequency, "names": [dataclasses.asdict(n) for n in a.names]}
                for a in self.atoms
            ],
        }
        tensors = cast_floating(dict(model.state_dict()), self.runtime.storage_dtype)
        return save_checkpoint(directory, CHECKPOINT_KIND, config, tensors)

    @classmethod
    def load(cls, directory: str | Path, *, runtime: Runtime | None = None) -> AudioAtoms:
        """Restore a checkpoint onto ``runtime``'s device (default: CPU, the dtype it was saved in).

        Tensors are read on the host and upcast to fp32 weights, so a bf16 checkpoint written on a
        GPU loads on a CPU-only machine and vice versa.
        """
        config, tensors = load_checkpoint(directory, CHECKPOINT_KIND)
        atoms = cls(SAEConfig(**config["sae"]), runtime=runtime or Runtime(dtype=config.get("dtype", "fp32")))
        model = MarSAE(int(config["d"]), atoms.config)
        model.load_state_dict(cast_floating(tensors, torch.float32))
        atoms.model = model.to(atoms.runtime.torch_device).eval()
        atoms.atoms = [
            AtomInfo(a["index"], a["frequency"], tuple(AtomName(**n) for n in a["names"])) for a in config["atoms"]
        ]
        return atoms
