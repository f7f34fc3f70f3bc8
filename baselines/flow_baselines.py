"""Baselines built on the reference model's stages (``baselines/reference/``).

* ``flow-audio``, ``flow-visual``, ``flow-av``: the stage-3 head (Riemannian flow matching on S²)
  conditioned on the same clip embeddings the retrieval baselines use. The point prediction is the
  vMF-kernel mode (or the highest-likelihood point) of ``n_samples`` flow samples, and the samples
  are written to the predictions file.
* ``audio-atoms``: the audio-only reference (stages 1 + 3): a mixture-autoregressive sparse
  autoencoder over the soundtrack's window embeddings, its atoms named from the training clips'
  labels (continent, country, city), each clip's pooled atom code conditioning the flow head. The
  clip's atom summary (top named atoms and weights) is written as ``reasoning``.

torch is imported only when one of these is fitted (extra ``reference``).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from avg_bench.modality import Modality
from baselines.dataset import ClipSplit
from baselines.errors import BaselineInputError, NotFittedError
from baselines.knn import AUDIO_FEATURES_HELP, FEATURE_OPTIONS, VISUAL_FEATURES_HELP, EmbeddingPredictor
from baselines.predictor import Predictions

_SAMPLING_OPTIONS = {
    "n_samples": "flow samples per clip (written as `samples`)",
    "sample_steps": "Euler steps per sample",
    "guidance": "classifier-free guidance weight (0: none)",
    "select": "vmf: the samples' kernel-density mode; likelihood: the sample of highest model likelihood",
}
_RUNTIME_OPTIONS = {
    "dtype": "fp32, or bf16 (mixed precision; checkpoints stored in bfloat16)",
    "threads": "torch CPU threads while fitting and predicting (default 1: see baselines/reference/README.md)",
}
_FLOW_OPTIONS = {
    "train_steps": "flow-matching training steps",
    "hidden": "width of the velocity network",
    "depth": "residual blocks of the velocity network",
    **_SAMPLING_OPTIONS,
    **_RUNTIME_OPTIONS,
    **FEATURE_OPTIONS,
}
#: audio-atoms' sizes per preset; an option given with -o overrides its preset value.
AUDIO_ATOMS_PRESETS = {
    "cpu": {"n_atoms": 512, "k": 16, "n_experts": 4, "predictor": True, "sae_steps": 2000, "flow_steps": 2000},
    "gpu": {"n_atoms": 16_384, "k": 64, "n_experts": 8, "predictor": True, "sae_steps": 50_000, "flow_steps": 50_000},
}


def _runtime(device: str, dtype: str, threads: int):
    """The reference model's :class:`Runtime` (device is the shared feature option: where everything runs)."""
    from baselines.reference.runtime import Runtime

    return Runtime(device=device, dtype=dtype, threads=threads)


class _FlowHead(EmbeddingPredictor):
    """A conditional flow on S² over the joint clip embedding."""

    def __init__(self, *, train_steps: int = 2000, hidden: int = 128, depth: int = 3, n_samples: int = 32,
                 sample_steps: int = 64, guidance: float = 0.0, select: Literal["vmf", "likelihood"] = "vmf",
                 dtype: Literal["fp32", "bf16"] = "fp32", threads: int = 1, **options) -> None:
        super().__init__(**options)
        if min(train_steps, hidden, depth, n_samples, sample_steps) < 1:
            raise BaselineInputError("train_steps, hidden, depth, n_samples and sample_steps must be >= 1")
        self.runtime = _runtime(self.device, dtype, threads)
        self.train_steps, self.hidden, self.depth = train_steps, hidden, depth
        self.n_samples, self.sample_steps, self.guidance, self.select = n_samples, sample_steps, guidance, select
        self.locator = None

    def fit(self, train: ClipSplit) -> _FlowHead:
        from baselines.reference.precision.locator import FlowConfig, FlowLocator

        lat, lon = train.require_labels(self.name)
        config = FlowConfig(hidden=self.hidden, depth=self.depth, train_steps=self.train_steps)
        self.locator = FlowLocator(config, runtime=self.runtime).fit(self.embeddings(train, fitting=True), lat, lon, seed=self.seed,
                                               progress=self.progress)
        return self

    def predict(self, split: ClipSplit) -> Predictions:
        if self.locator is None:
            raise NotFittedError(f"{self.name} is not fitted: call fit(train) first")
        lat, lon, samples = self.locator.predict(
            self.embeddings(split, fitting=False), n_samples=self.n_samples, steps=self.sample_steps,
            guidance=self.guidance, select=self.select, seed=self.seed,
        )
        return Predictions(split.clip_ids, lat, lon, samples=samples)

    def describe(self) -> dict:
        return {**super().describe(), "train_steps": self.train_steps, "hidden": self.hidden, "depth": self.depth,
                "n_samples": self.n_samples, "sample_steps": self.sample_steps, "guidance": self.guidance,
                "select": self.select, "dtype": self.runtime.dtype, "threads": self.runtime.threads}


class FlowAudio(_FlowHead):
    """The flow head on soundtrack embeddings."""

    name: ClassVar[str] = "flow-audio"
    modalities: ClassVar[tuple[Modality, ...]] = (Modality.AUDIO,)
    OPTIONS: ClassVar[dict[str, str]] = {"audio_features": AUDIO_FEATURES_HELP, **_FLOW_OPTIONS}

    def __init__(self, *, audio_features: str = "logmel", **options) -> None:
        super().__init__(**options)
        self.audio_features = audio_features

    def feature_specs(self) -> dict[Modality, str]:
        """The cached clip features this baseline reads, by modality."""
        return {Modality.AUDIO: self.audio_features}


class FlowVisual(_FlowHead):
    """The flow head on keyframe embeddings."""

    name: ClassVar[str] = "flow-visual"
    modalities: ClassVar[tuple[Modality, ...]] = (Modality.VISUAL,)
    OPTIONS: ClassVar[dict[str, str]] = {"visual_features": VISUAL_FEATURES_HELP, **_FLOW_OPTIONS}

    def __init__(self, *, visual_features: str = "colour", **options) -> None:
        super().__init__(**options)
        self.visual_features = visual_features

    def feature_specs(self) -> dict[Modality, str]:
        """The cached clip features this baseline reads, by modality."""
        return {Modality.VISUAL: self.visual_features}


class FlowAudioVisual(_FlowHead):
    """The flow head on sound and picture together (equal weights)."""

    name: ClassVar[str] = "flow-av"
    modalities: ClassVar[tuple[Modality, ...]] = (Modality.AUDIO, Modality.VISUAL)
    OPTIONS: ClassVar[dict[str, str]] = {"audio_features": AUDIO_FEATURES_HELP, "visual_features": VISUAL_FEATURES_HELP,
                                         **_FLOW_OPTIONS}

    def __init__(self, *, audio_features: str = "logmel", visual_features: str = "colour", **options) -> None:
        super().__init__(**options)
        self.audio_features, self.visual_features = audio_features, visual_features

    def feature_specs(self) -> dict[Modality, str]:
        """The cached clip features this baseline reads, by modality."""
        return {Modality.AUDIO: self.audio_features, Modality.VISUAL: self.visual_features}


class AudioAtomsBaseline(EmbeddingPredictor):
    """Acoustic atoms (MAR-SAE) pooled per clip, then the flow head: the audio-only reference."""

    name: ClassVar[str] = "audio-atoms"
    modalities: ClassVar[tuple[Modality, ...]] = (Modality.AUDIO,)
    OPTIONS: ClassVar[dict[str, str]] = {
        "audio_features": "window features: logmel (10 x 1 s), or hf:NAME (CLAP, AST, Whisper: 2 s windows)",
        "n_atoms": "dictionary size (decoder rows = acoustic atoms)",
        "k": "non-zero novel codes per window (TopK)",
        "n_experts": "expert encoders of the mixture (1 with predictor=false: the plain TopK SAE ablation)",
        "predictor": "causal predictor over past codes (the autoregressive part)",
        "sae_steps": "sparse-autoencoder training steps",
        "flow_steps": "flow-matching training steps",
        "top_atoms": "atoms per clip in the summary written as `reasoning` (0: none)",
        "preset": "cpu (today's sizes) or gpu (SAE_PRESETS/FLOW_PRESETS['gpu']: real scale, for -o device=cuda)",
        **_SAMPLING_OPTIONS,
        **_RUNTIME_OPTIONS,
        **FEATURE_OPTIONS,
    }

    def __init__(self, *, audio_features: str = "logmel", preset: Literal["cpu", "gpu"] = "cpu", n_atoms: int | None = None,
                 k: int | None = None, n_experts: int | None = None, predictor: bool | None = None,
                 sae_steps: int | None = None, flow_steps: int | None = None, top_atoms: int = 5,
                 n_samples: int = 32, sample_steps: int = 64, guidance: float = 0.0,
                 select: Literal["vmf", "likelihood"] = "vmf", dtype: Literal["fp32", "bf16"] = "fp32", threads: int = 1,
                 **options) -> None:
        super().__init__(**options)
        if preset not in AUDIO_ATOMS_PRESETS:
            raise BaselineInputError(f"preset must be one of {', '.join(AUDIO_ATOMS_PRESETS)}, found {preset!r}")
        given = {"n_atoms": n_atoms, "k": k, "n_experts": n_experts, "predictor": predictor, "sae_steps": sae_steps,
                 "flow_steps": flow_steps}
        sizes = {**AUDIO_ATOMS_PRESETS[preset], **{key: value for key, value in given.items() if value is not None}}
        n_atoms, k, n_experts, predictor = sizes["n_atoms"], sizes["k"], sizes["n_experts"], sizes["predictor"]
        sae_steps, flow_steps = sizes["sae_steps"], sizes["flow_steps"]
        self.preset, self.runtime = preset, _runtime(self.device, dtype, threads)
        if min(n_atoms, k, n_experts, sae_steps, flow_steps, n_samples, sample_steps) < 1 or k > n_atoms:
            raise BaselineInputError("n_atoms, k, n_experts, sae_steps, flow_steps, n_samples and sample_steps must be >= 1, "
                             "and k <= n_atoms")
        self.audio_features = audio_features
        self.n_atoms, self.k, self.n_experts, self.predictor = n_atoms, k, n_experts, predictor
        self.sae_steps, self.flow_steps, self.top_atoms = sae_steps, flow_steps, top_atoms
        self.n_samples, self.sample_steps, self.guidance, self.select = n_samples, sample_steps, guidance, select
        self.model = None

    def feature_specs(self) -> dict[Modality, str]:
        """The cached clip features this baseline reads, by modality."""
        return {Modality.AUDIO: self.audio_features}

    def _clip_windows(self, split: ClipSplit) -> list[np.ndarray]:
        return list(self.windows(split, Modality.AUDIO))

    def fit(self, train: ClipSplit) -> AudioAtomsBaseline:
        """Learn what the baseline needs from the training split; returns self."""
        import dataclasses

        from baselines.reference.audio_atoms import AudioAtomsLocator
        from baselines.reference.perception.sae import SAE_PRESETS
        from baselines.reference.precision.locator import FLOW_PRESETS

        lat, lon = train.require_labels(self.name)
        sae = dataclasses.replace(SAE_PRESETS[self.preset], n_atoms=self.n_atoms, k=self.k, n_experts=self.n_experts,
                                  predictor=self.predictor, train_steps=self.sae_steps)
        flow = dataclasses.replace(FLOW_PRESETS[self.preset], train_steps=self.flow_steps)
        self.model = AudioAtomsLocator(sae=sae, flow=flow, runtime=self.runtime)
        self.model.fit(self._clip_windows(train), lat, lon, labels=_naming_labels(train), seed=self.seed,
                       progress=self.progress)
        return self

    def predict(self, split: ClipSplit) -> Predictions:
        """One prediction per clip of ``split``, in its clip order."""
        if self.model is None:
            raise NotFittedError("audio-atoms is not fitted: call fit(train) first")
        windows = self._clip_windows(split)
        lat, lon, samples = self.model.predict(windows, n_samples=self.n_samples, steps=self.sample_steps,
                                               guidance=self.guidance, select=self.select, seed=self.seed)
        reasoning = None
        if self.top_atoms:
            reasoning = [summary.to_text() for summary in self.model.summaries(windows, top=self.top_atoms)]
        return Predictions(split.clip_ids, lat, lon, samples=samples, reasoning=reasoning)

    def describe(self) -> dict:
        """The settings recorded beside the predictions, so a run can be repeated."""
        return {**super().describe(), "n_atoms": self.n_atoms, "k": self.k, "n_experts": self.n_experts,
                "predictor": self.predictor, "sae_steps": self.sae_steps, "flow_steps": self.flow_steps,
                "n_samples": self.n_samples, "sample_steps": self.sample_steps, "select": self.select,
                "preset": self.preset, "dtype": self.runtime.dtype, "threads": self.runtime.threads}


def _naming_labels(split: ClipSplit) -> list[list[str]] | None:
    """Per training clip, the labels atoms are named after: continent, country and city."""
    columns = [split.labels.get(key) for key in ("continent", "country", "city")]
    if not any(columns):
        return None
    return [[f"{key}:{value}" for key, value in zip(("continent", "country", "city"), row) if value]
            for row in zip(*(column or [None] * len(split) for column in columns))]
