"""The one interface every baseline implements, and what it returns.

A predictor is built from a name and options (:mod:`baselines.registry`), ``fit`` on a labelled
split, then ``predict`` any split; :class:`Predictions` writes the evaluator's ``predictions.jsonl``
(``avg_bench.predictions.PREDICTION_FORMAT``), optionally with ``samples`` and ``reasoning``.
A seed given at construction makes ``fit`` + ``predict`` reproducible.
"""

from __future__ import annotations

import abc
import io
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import orjson
from numpy.typing import NDArray

from avg_bench.cache import atomic_write_bytes
from avg_bench.modality import Modality
from baselines.dataset import ClipSplit


@dataclass
class Predictions:
    """One prediction per clip; ``NaN`` coordinates are abstentions (written as ``null``)."""

    clip_ids: list[str]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    #: ``(N, S, 2)`` candidate (lat, lon) samples per clip, or ``None``.
    samples: NDArray[np.float64] | None = None
    #: Free text per clip (a VLM's answer), or ``None``.
    reasoning: list[str | None] | None = None
    #: Predicted ISO country code per clip, or ``None``.
    country: list[str | None] | None = None

    def __post_init__(self) -> None:
        n = len(self.clip_ids)
        self.lat = np.asarray(self.lat, dtype=np.float64)
        self.lon = np.asarray(self.lon, dtype=np.float64)
        if self.lat.shape != (n,) or self.lon.shape != (n,):
            raise ValueError(f"lat and lon must have shape ({n},), found {self.lat.shape} and {self.lon.shape}")
        if self.samples is not None and (self.samples.ndim != 3 or self.samples.shape[0] != n or self.samples.shape[2] != 2):
            raise ValueError(f"samples must have shape ({n}, S, 2), found {self.samples.shape}")
        for name in ("reasoning", "country"):
            values = getattr(self, name)
            if values is not None and len(values) != n:
                raise ValueError(f"{name} must have {n} entries, found {len(values)}")

    def __len__(self) -> int:
        return len(self.clip_ids)

    @property
    def abstained(self) -> NDArray[np.bool_]:
        """True where the predictor abstained (lat/lon NaN, written as null)."""
        return np.isnan(self.lat) | np.isnan(self.lon)

    def records(self) -> list[dict]:
        """The JSON objects of ``predictions.jsonl``, in clip order."""
        out = []
        abstained = self.abstained
        for i, clip_id in enumerate(self.clip_ids):
            record: dict = {"clip_id": clip_id}
            if abstained[i]:
                record["lat"] = record["lon"] = None
            else:
                record["lat"], record["lon"] = round(float(self.lat[i]), 6), round(float(self.lon[i]), 6)
            if self.samples is not None:
                record["samples"] = np.round(self.samples[i], 6).tolist()
            if self.country is not None and self.country[i]:
                record["country"] = self.country[i]
            if self.reasoning is not None and self.reasoning[i] is not None:
                record["reasoning"] = self.reasoning[i]
            out.append(record)
        return out

    def write_jsonl(self, path: str | Path) -> Path:
        """Write atomically: an interrupted run never leaves a half file that looks complete."""
        buffer = io.BytesIO()
        for record in self.records():
            buffer.write(orjson.dumps(record))
            buffer.write(b"\n")
        path = Path(path)
        atomic_write_bytes(path, buffer.getvalue())
        return path


class Predictor(abc.ABC):
    """Fit on a labelled split, predict any split."""

    #: Registry name, e.g. ``knn-audio``.
    name: ClassVar[str]
    #: Which inputs it looks at (avg_bench.modality); empty for priors.
    modalities: ClassVar[tuple[Modality, ...]] = ()

    def __init__(self, *, seed: int = 0, progress: bool = True) -> None:
        self.seed, self.progress = seed, progress

    @abc.abstractmethod
    def fit(self, train: ClipSplit) -> Predictor:
        """Learn from a labelled split; returns ``self``."""

    @abc.abstractmethod
    def predict(self, split: ClipSplit) -> Predictions:
        """One prediction per clip of ``split`` (labels, if any, are not looked at)."""

    def describe(self) -> dict:
        """Name, modalities and options, recorded beside the predictions."""
        return {"name": self.name, "modalities": list(self.modalities), "seed": self.seed}
