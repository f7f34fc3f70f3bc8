"""Trivial baselines: what a model scores when it looks at nothing.

* ``random-sphere``: a point drawn uniformly on the sphere per clip (z = sin(lat) uniform in
  [-1, 1], longitude uniform), the floor every model must clear;
* ``train-prior``: the training set's coordinates without looking at the clip: ``mode`` predicts the
  location with the most training clips for every clip, ``sample`` draws each clip's prediction
  from the training clips' coordinates (a sample from the training density).
"""

from __future__ import annotations

from collections import Counter
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from baselines.dataset import ClipSplit
from baselines.errors import BaselineInputError, NotFittedError
from baselines.predictor import Predictions, Predictor


def uniform_sphere(n: int, rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``n`` (lat, lon) points uniform on the sphere: z uniform in [-1, 1] (Archimedes), lon uniform.

    >>> lat, lon = uniform_sphere(100_000, np.random.default_rng(0))
    >>> bool(abs(np.sin(np.radians(lat)).mean()) < 0.01), bool(-180 <= lon.min() and lon.max() < 180)
    (True, True)
    """
    z = rng.uniform(-1.0, 1.0, n)
    lon = rng.uniform(-180.0, 180.0, n)
    return np.degrees(np.arcsin(z)), lon


class RandomSphere(Predictor):
    """A uniform random point on the sphere per clip (``samples``: extra uniform draws)."""

    name: ClassVar[str] = "random-sphere"
    OPTIONS: ClassVar[dict[str, str]] = {"samples": "uniform candidates written per clip as `samples` (0: none)"}

    def __init__(self, *, seed: int = 0, samples: int = 0, progress: bool = True) -> None:
        super().__init__(seed=seed, progress=progress)
        if samples < 0:
            raise BaselineInputError(f"samples must be >= 0, found {samples}")
        self.samples = samples

    def fit(self, train: ClipSplit) -> RandomSphere:
        """Learn what the baseline needs from the training split; returns self."""
        return self

    def predict(self, split: ClipSplit) -> Predictions:
        """One prediction per clip of ``split``, in its clip order."""
        rng = np.random.default_rng(self.seed)
        lat, lon = uniform_sphere(len(split), rng)
        samples = None
        if self.samples:
            s_lat, s_lon = uniform_sphere(len(split) * self.samples, rng)
            samples = np.stack([s_lat, s_lon], axis=-1).reshape(len(split), self.samples, 2)
        return Predictions(split.clip_ids, lat, lon, samples=samples)

    def describe(self) -> dict:
        """The settings recorded beside the predictions, so a run can be repeated."""
        return {**super().describe(), "samples": self.samples}


class TrainPrior(Predictor):
    """The training set's location prior: its mode, or a draw from its clips' coordinates."""

    name: ClassVar[str] = "train-prior"
    OPTIONS: ClassVar[dict[str, str]] = {
        "strategy": "mode: the location with most training clips; sample: a training clip's coordinates per clip",
    }

    def __init__(self, *, seed: int = 0, strategy: Literal["mode", "sample"] = "mode", progress: bool = True) -> None:
        super().__init__(seed=seed, progress=progress)
        if strategy not in ("mode", "sample"):
            raise BaselineInputError(f"strategy must be 'mode' or 'sample', found {strategy!r}")
        self.strategy = strategy
        self._lat: NDArray[np.float64] | None = None
        self._lon: NDArray[np.float64] | None = None
        self._mode: tuple[float, float] | None = None

    def fit(self, train: ClipSplit) -> TrainPrior:
        """Learn what the baseline needs from the training split; returns self."""
        lat, lon = train.require_labels("train-prior")
        if len(lat) == 0:
            raise BaselineInputError("train-prior needs at least one training clip")
        self._lat, self._lon = lat.copy(), lon.copy()
        self._mode = _mode_location(lat, lon, train.labels.get("location_id"))
        return self

    def predict(self, split: ClipSplit) -> Predictions:
        """One prediction per clip of ``split``, in its clip order."""
        if self._lat is None or self._lon is None or self._mode is None:
            raise NotFittedError("train-prior is not fitted: call fit(train) first")
        n = len(split)
        if self.strategy == "mode":
            lat, lon = np.full(n, self._mode[0]), np.full(n, self._mode[1])
        else:
            pick = np.random.default_rng(self.seed).integers(0, len(self._lat), n)
            lat, lon = self._lat[pick], self._lon[pick]
        return Predictions(split.clip_ids, lat, lon)

    def describe(self) -> dict:
        """The settings recorded beside the predictions, so a run can be repeated."""
        return {**super().describe(), "strategy": self.strategy}


def _mode_location(lat: NDArray[np.float64], lon: NDArray[np.float64], location_ids: list | None) -> tuple[float, float]:
    """Coordinates of the most frequent location (by id, else by exact coordinates).

    Ties go to the smallest key, so the answer does not depend on row order.

    >>> _mode_location(np.array([1.0, 2.0, 2.0]), np.array([5.0, 6.0, 6.0]), None)
    (2.0, 6.0)
    """
    keys = location_ids if location_ids and all(location_ids) else list(zip(lat.tolist(), lon.tolist()))
    counts = Counter(keys)
    best = min(counts, key=lambda key: (-counts[key], key))
    row = keys.index(best)
    return float(lat[row]), float(lon[row])
