"""Cached feature extraction over a dataset split: one embedding per clip (audio: per window).

Extractors are named by a spec string:

==========================  ========  =========================================================
spec                        modality  what
==========================  ========  =========================================================
``colour``                  visual    colour statistics of the keyframes (no weights)
``logmel``                  audio     log-mel band statistics per 1 s window (no weights)
``hf:NAME[@REVISION]``      either    a Hugging Face encoder by hub name or local folder: image
                                      (CLIP, SigLIP, DINOv2, ...) or audio (CLAP, AST, Whisper)
==========================  ========  =========================================================

Every extractor returns ``(N, T, D)`` float32 windows (``T = 1`` for images); a clip's embedding
is the mean over its windows (:func:`clip_embeddings`). Results are cached on disk under
``<cache>/features/<extractor key>/<dataset revision>/<config>/<split>.npy``: the key names the
encoder, its revision (or a hash of a local folder's config and weights) and its options, so a
changed model or dataset never reuses stale features.
"""

from __future__ import annotations

import abc
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from avg_bench.cache import atomic_write_bytes, cache_dir
from avg_bench.errors import AvgBenchError
from avg_bench.modality import Modality
from baselines.dataset import ClipSplit

MODALITY_COLUMN = {Modality.AUDIO: "audio", Modality.VISUAL: "keyframes"}


class FeatureExtractor(abc.ABC):
    """Turns a batch of one media column into ``(B, T, D)`` float32 window embeddings."""

    modality: ClassVar[Modality]

    @property
    @abc.abstractmethod
    def key(self) -> str:
        """A file-name-safe id of the extractor, its weights' revision and its options."""

    @abc.abstractmethod
    def embed(self, media: list) -> NDArray[np.float32]:
        """Embeddings of a batch: audio bytes per clip, or a list of keyframe bytes per clip."""


def make_extractor(spec: str, modality: Modality, *, device: str = "cpu", batch_size: int = 16) -> FeatureExtractor:
    """The extractor a spec string names (see the module docstring)."""
    if spec == "colour" and modality == Modality.VISUAL:
        from baselines.features.model_free import ColourStatistics

        return ColourStatistics()
    if spec == "logmel" and modality == Modality.AUDIO:
        from baselines.features.model_free import LogMelStatistics

        return LogMelStatistics()
    if spec.startswith("hf:") and len(spec) > 3:
        name, _, revision = spec[3:].partition("@")
        if modality == Modality.VISUAL:
            from baselines.features.hf_encoders import HfImageEncoder

            return HfImageEncoder(name, revision=revision or None, device=device, batch_size=batch_size)
        from baselines.features.hf_encoders import HfAudioEncoder

        return HfAudioEncoder(name, revision=revision or None, device=device, batch_size=batch_size)
    free = "colour" if modality == Modality.VISUAL else "logmel"
    raise AvgBenchError(f"unknown {modality} features {spec!r}: use {free!r} or 'hf:NAME' (a Hugging Face encoder)")


def extract(
    split: ClipSplit,
    extractor: FeatureExtractor,
    *,
    cache: bool = True,
    progress: bool = True,
    batch_rows: int = 32,
) -> NDArray[np.float32]:
    """``(N, T, D)`` window embeddings of every clip of ``split``, from the cache when present."""
    path = feature_cache_path(split, extractor)
    if cache and path.exists():
        cached = _read_cached(path, split)
        if cached is not None:
            return cached
    column = MODALITY_COLUMN[extractor.modality]
    parts: list[NDArray[np.float32]] = []
    with progress_bar(progress, f"{extractor.modality} features ({split.split})", len(split)) as advance:
        done = 0
        for batch in split.iter_media(column, batch_rows=batch_rows):
            missing = [split.clip_ids[done + i] for i, item in enumerate(batch) if not item]
            if missing:
                raise AvgBenchError(f"{split.config}/{split.split}: clip {missing[0]} has no {column} in its shard")
            parts.append(np.asarray(extractor.embed(batch), dtype=np.float32))
            done += len(batch)
            advance(len(batch))
    features = np.concatenate(parts) if parts else np.zeros((0, 1, 1), np.float32)
    if features.ndim != 3 or len(features) != len(split):
        raise RuntimeError(f"{extractor.key} returned {features.shape} for {len(split)} clips")
    if cache:
        _write_cached(path, features, split)
    return features


def clip_embeddings(windows: NDArray[np.float32]) -> NDArray[np.float32]:
    """One embedding per clip: the mean of its windows."""
    return windows.mean(axis=1)


def feature_cache_path(split: ClipSplit, extractor: FeatureExtractor) -> Path:
    """Where an extractor's features of one split are cached (the key and revision name the content)."""
    revision = _safe(split.revision)
    return cache_dir() / "features" / _safe(extractor.key) / revision / split.config / f"{split.split}.npy"


def _safe(text: str) -> str:
    """A path component: readable prefix plus a short hash, so distinct keys never collide."""
    clean = "".join(c if c.isalnum() or c in "-_.=" else "_" for c in text)[:80]
    return f"{clean}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def _read_cached(path: Path, split: ClipSplit) -> NDArray[np.float32] | None:
    """The cached array if it belongs to exactly these clips, else ``None`` (recompute)."""
    ids_path = path.with_suffix(".ids.json")
    try:
        if json.loads(ids_path.read_text()) != split.clip_ids:
            return None
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None


def _write_cached(path: Path, features: NDArray[np.float32], split: ClipSplit) -> None:
    buffer = io.BytesIO()
    np.save(buffer, features, allow_pickle=False)
    atomic_write_bytes(path.with_suffix(".ids.json"), json.dumps(split.clip_ids).encode())
    atomic_write_bytes(path, buffer.getvalue())  # last: the array's presence means complete


@contextmanager
def progress_bar(enabled: bool, description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar (count, rate, ETA) on stderr; ``advance(n)`` moves it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not enabled, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
