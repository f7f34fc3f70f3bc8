"""Retrieval baselines as predictors: ``knn-audio``, ``knn-visual`` and ``knn-av``.

Each clip is embedded (:mod:`baselines.features`), embeddings are standardised with the training
set's per-dimension mean and standard deviation (model-free statistics mix scales: a colour mean in
[0, 1] beside histogram fractions near 0), and located by its nearest training clips
(:class:`baselines.retrieval.KnnLocator`: exact cosine search; the best neighbour or a weighted
geodesic vote). ``knn-av`` joins the two modalities: each standardised part is unit-normalised and
weighted by the square root of its share, so a cosine is the weighted mean of the two cosines.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from avg_bench.modality import Modality
from baselines.dataset import ClipSplit
from baselines.errors import BaselineInputError, NotFittedError
from baselines.features import clip_embeddings, extract, make_extractor
from baselines.predictor import Predictions, Predictor
from baselines.retrieval import KnnLocator, l2_normalise

FEATURE_OPTIONS = {
    "standardise": "z-score each dimension with training statistics before joining modalities",
    "device": "where Hugging Face encoders run (cpu, cuda)",
    "batch_size": "clips per encoder batch",
    "cache": "reuse features cached on disk",
}
_KNN_OPTIONS = {
    "k": "neighbours that vote (method=weighted)",
    "method": "best: the nearest training clip's location; weighted: softmax-weighted geodesic vote of k",
    "temperature": "softmax temperature of the weighted vote",
    **FEATURE_OPTIONS,
}
AUDIO_FEATURES_HELP = "logmel, or hf:NAME (CLAP, AST, Whisper)"
VISUAL_FEATURES_HELP = "colour, or hf:NAME (SigLIP, CLIP, DINOv2)"


class _Standardiser:
    def fit(self, x: NDArray[np.float32]) -> _Standardiser:
        self.mean = x.mean(axis=0)
        self.scale = x.std(axis=0)
        self.scale[self.scale < 1e-8] = 1.0  # constant dimensions carry nothing: leave them at 0
        return self

    def __call__(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        return ((x - self.mean) / self.scale).astype(np.float32)


class EmbeddingPredictor(Predictor):
    """Shared by every predictor over clip embeddings: embed per modality, standardise, join.

    Subclasses say which features per modality (:meth:`feature_specs`) and their weights.
    """

    OPTIONS: ClassVar[dict[str, str]]

    def __init__(self, *, seed: int = 0, standardise: bool = True, device: str = "cpu", batch_size: int = 16,
                 cache: bool = True, progress: bool = True) -> None:
        super().__init__(seed=seed, progress=progress)
        self.standardise = standardise
        self.device, self.batch_size, self.cache = device, batch_size, cache
        self._standardisers: dict[str, _Standardiser] = {}

    def feature_specs(self) -> dict[Modality, str]:
        """Modality -> feature spec."""
        raise NotImplementedError

    def weights(self) -> dict[Modality, float]:
        """Each modality's weight in the joint embedding."""
        return {modality: 1.0 for modality in self.feature_specs()}

    def windows(self, split: ClipSplit, modality: Modality) -> NDArray[np.float32]:
        """``(N, T, D)`` window features of one modality (cached on disk)."""
        extractor = make_extractor(self.feature_specs()[modality], modality, device=self.device, batch_size=self.batch_size)
        return extract(split, extractor, cache=self.cache, progress=self.progress)

    def embeddings(self, split: ClipSplit, *, fitting: bool) -> NDArray[np.float32]:
        """One row per clip: the modalities' clip embeddings, weighted and concatenated.

        Each modality's embedding is standardised (with training statistics), unit-normalised and
        scaled by the square root of its weight.
        """
        parts = []
        for modality in self.feature_specs():
            x = clip_embeddings(self.windows(split, modality))
            if self.standardise:
                if fitting:
                    self._standardisers[modality] = _Standardiser().fit(x)
                x = self._standardisers[modality](x)
            parts.append(l2_normalise(x) * np.float32(np.sqrt(self.weights()[modality])))
        return np.concatenate(parts, axis=1)

    def describe(self) -> dict:
        """The settings recorded beside the predictions, so a run can be repeated."""
        return {**super().describe(), "features": self.feature_specs(), "standardise": self.standardise}


class _KnnPredictor(EmbeddingPredictor):
    """Nearest training clips in the joint embedding space."""

    def __init__(self, *, k: int = 10, method: Literal["best", "weighted"] = "weighted", temperature: float = 0.05,
                 **options) -> None:
        super().__init__(**options)
        self.k, self.method = k, method
        self.locator = KnnLocator(temperature=temperature)

    def fit(self, train: ClipSplit) -> _KnnPredictor:
        lat, lon = train.require_labels(self.name)
        self.locator.fit(self.embeddings(train, fitting=True), lat, lon)
        return self

    def predict(self, split: ClipSplit) -> Predictions:
        if self.locator.n_gallery == 0:
            raise NotFittedError(f"{self.name} is not fitted: call fit(train) first")
        k = min(self.k, self.locator.n_gallery)
        lat, lon, _ = self.locator.predict(self.embeddings(split, fitting=False), k=k, method=self.method)
        return Predictions(split.clip_ids, lat, lon)

    def describe(self) -> dict:
        return {**super().describe(), "k": self.k, "method": self.method, "temperature": self.locator.temperature}


class KnnAudio(_KnnPredictor):
    """Nearest training clips by their soundtrack."""

    name: ClassVar[str] = "knn-audio"
    modalities: ClassVar[tuple[Modality, ...]] = (Modality.AUDIO,)
    OPTIONS: ClassVar[dict[str, str]] = {"audio_features": AUDIO_FEATURES_HELP, **_KNN_OPTIONS}

    def __init__(self, *, audio_features: str = "logmel", **options) -> None:
        super().__init__(**options)
        self.audio_features = audio_features

    def feature_specs(self) -> dict[Modality, str]:
        """The cached clip features this baseline reads, by modality."""
        return {Modality.AUDIO: self.audio_features}


class KnnVisual(_KnnPredictor):
    """Nearest training clips by their keyframes."""

    name: ClassVar[str] = "knn-visual"
    modalities: ClassVar[tuple[Modality, ...]] = (Modality.VISUAL,)
    OPTIONS: ClassVar[dict[str, str]] = {"visual_features": VISUAL_FEATURES_HELP, **_KNN_OPTIONS}

    def __init__(self, *, visual_features: str = "colour", **options) -> None:
        super().__init__(**options)
        self.visual_features = visual_features

    def feature_specs(self) -> dict[Modality, str]:
        """The cached clip features this baseline reads, by modality."""
        return {Modality.VISUAL: self.visual_features}


class KnnAudioVisual(_KnnPredictor):
    """Nearest training clips by sound and picture together."""

    name: ClassVar[str] = "knn-av"
    modalities: ClassVar[tuple[Modality, ...]] = (Modality.AUDIO, Modality.VISUAL)
    OPTIONS: ClassVar[dict[str, str]] = {
        "audio_features": AUDIO_FEATURES_HELP,
        "visual_features": VISUAL_FEATURES_HELP,
        "audio_weight": "share of the audio cosine in the joint similarity, in [0, 1]",
        **_KNN_OPTIONS,
    }

    def __init__(self, *, audio_features: str = "logmel", visual_features: str = "colour",
                 audio_weight: float = 0.5, **options) -> None:
        super().__init__(**options)
        if not 0.0 <= audio_weight <= 1.0:
            raise BaselineInputError(f"audio_weight must be in [0, 1], found {audio_weight}")
        self.audio_features, self.visual_features, self.audio_weight = audio_features, visual_features, audio_weight

    def feature_specs(self) -> dict[Modality, str]:
        """The cached clip features this baseline reads, by modality."""
        return {Modality.AUDIO: self.audio_features, Modality.VISUAL: self.visual_features}

    def weights(self) -> dict[Modality, float]:
        """Each modality's weight in the joint embedding."""
        return {Modality.AUDIO: self.audio_weight, Modality.VISUAL: 1.0 - self.audio_weight}

    def describe(self) -> dict:
        """The settings recorded beside the predictions, so a run can be repeated."""
        return {**super().describe(), "audio_weight": self.audio_weight}
