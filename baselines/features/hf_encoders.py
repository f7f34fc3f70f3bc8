"""Frozen Hugging Face encoders as feature extractors, named by hub id or local folder.

* :class:`HfImageEncoder`: any image model ``AutoModel`` loads. Models with a joint embedding space
  (CLIP, SigLIP) give ``get_image_features``; others (DINOv2, ViT) their pooled output or CLS token.
  A clip's embedding is the mean over its keyframes (``T = 1``).
* :class:`HfAudioEncoder`: CLAP (``get_audio_features``), AST (pooled output) or a Whisper encoder
  (mean of its hidden states), over windows of the soundtrack (``window_s`` long, every ``hop_s``),
  so each clip gives ``T`` window embeddings: what the acoustic-atoms stage reads. Whisper encodes
  the whole clip once and pools its hidden states per window (it pads any input to 30 s).

The weights are whatever ``from_pretrained(name, revision=...)`` finds: a hub name with a pinned
revision for real runs, a local folder (``save_pretrained`` output) in tests and offline. The cache
key holds the name and revision, or, for a folder, a hash of its config and weight files.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from avg_bench.errors import AvgBenchError
from avg_bench.modality import Modality
from baselines.features import FeatureExtractor
from baselines.features.model_free import CLIP_SECONDS, SAMPLE_RATE, decode_audio


def check_model_name(name: str) -> None:
    """A name written as a path must be an existing folder (else from_pretrained would ask the hub)."""
    looks_local = name.startswith(("/", "./", "../", "~")) or Path(name).suffix in (".safetensors", ".bin")
    if looks_local and not Path(name).expanduser().is_dir():
        raise AvgBenchError(f"cannot load encoder {name!r}: no such model folder")


def weights_identity(name: str, revision: str | None) -> str:
    """``name@revision`` for hub models; for a local folder, a hash of its config and weights."""
    folder = Path(name)
    if not folder.is_dir():
        return f"{name}@{revision or 'main'}"
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.json")) + sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.suffix == ".json" else str(path.stat().st_size).encode())
        if path.suffix != ".json":
            with path.open("rb") as handle:  # first MiB: cheap, and differs between random inits
                digest.update(handle.read(2**20))
    return f"{folder.name}#{digest.hexdigest()[:16]}"


class _HfEncoder(FeatureExtractor):
    def __init__(self, name: str, *, revision: str | None = None, device: str = "cpu", batch_size: int = 16) -> None:
        self.name, self.revision, self.device, self.batch_size = name, revision, device, batch_size
        self._model: Any = None
        self._processor: Any = None

    def _load(self, processor_class: str) -> None:
        if self._model is not None:
            return
        check_model_name(self.name)
        try:
            import transformers
        except ImportError as exc:
            raise AvgBenchError("Hugging Face encoders need transformers and torch: pip install 'avg-bench[encoders]'") from exc
        try:
            self._processor = getattr(transformers, processor_class).from_pretrained(self.name, revision=self.revision)
            self._model = transformers.AutoModel.from_pretrained(self.name, revision=self.revision).eval().to(self.device)
        except OSError as exc:  # missing folder, unknown hub name, no network
            raise AvgBenchError(f"cannot load encoder {self.name!r}: {exc}") from exc


class HfImageEncoder(_HfEncoder):
    """Keyframe embeddings from an image encoder, averaged per clip."""

    modality: ClassVar[Modality] = Modality.VISUAL

    @property
    def key(self) -> str:
        """The cache key: model name and revision, so two checkpoints never share features."""
        return f"hf-image-{weights_identity(self.name, self.revision)}"

    def embed(self, media: list) -> NDArray[np.float32]:
        """Embeddings of a batch of clips (one list of keyframe bytes per clip)."""
        import torch
        from PIL import Image

        self._load("AutoImageProcessor")
        images, owner = [], []
        for clip, frames in enumerate(media):
            for frame in frames:
                images.append(Image.open(io.BytesIO(frame)).convert("RGB"))
                owner.append(clip)
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                batch = self._processor(images=images[start : start + self.batch_size], return_tensors="pt")
                outputs.append(image_features(self._model, batch["pixel_values"].to(self.device)).float().cpu().numpy())
        per_frame = np.concatenate(outputs)
        owner_index = np.asarray(owner)
        return np.stack([per_frame[owner_index == clip].mean(axis=0) for clip in range(len(media))])[:, None, :]


class HfAudioEncoder(_HfEncoder):
    """Window embeddings of the soundtrack from an audio encoder (CLAP, AST, Whisper)."""

    modality: ClassVar[Modality] = Modality.AUDIO

    def __init__(self, name: str, *, revision: str | None = None, device: str = "cpu", batch_size: int = 16,
                 window_s: float = 2.0, hop_s: float = 2.0) -> None:
        super().__init__(name, revision=revision, device=device, batch_size=batch_size)
        if not 0 < window_s <= CLIP_SECONDS or hop_s <= 0:
            raise AvgBenchError(f"audio windows must satisfy 0 < window_s <= {CLIP_SECONDS:g} and hop_s > 0")
        self.window_s, self.hop_s = window_s, hop_s

    @property
    def key(self) -> str:
        """The cache key: model name and revision, so two checkpoints never share features."""
        return f"hf-audio-{weights_identity(self.name, self.revision)}-w{self.window_s:g}h{self.hop_s:g}"

    def windows(self, wave: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        """The clip's waveform cut into the encoder's windows."""
        size, hop = int(round(self.window_s * SAMPLE_RATE)), int(round(self.hop_s * SAMPLE_RATE))
        return [wave[start : start + size] for start in range(0, len(wave) - size + 1, hop)]

    def embed(self, media: list) -> NDArray[np.float32]:
        """Embeddings of a batch of clips (audio bytes per clip)."""
        import torch

        self._load("AutoFeatureExtractor")
        if self._model.config.model_type == "whisper":
            return self._whisper_windows([decode_audio(audio) for audio in media])
        windows = [self.windows(decode_audio(audio)) for audio in media]
        flat = [w for clip in windows for w in clip]
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(flat), self.batch_size):
                outputs.append(self._embed_windows(flat[start : start + self.batch_size]))
        per_window = np.concatenate(outputs)
        return per_window.reshape(len(media), len(windows[0]), -1)

    def _whisper_windows(self, waves: list[NDArray[np.float32]]) -> NDArray[np.float32]:
        """Whisper pads every input to 30 s: encode each whole clip once, pool its hidden states per window.

        The hidden states (50 per second) are pooled over each window, instead of encoding each window padded to 30 s.
        """
        import torch

        frames_per_second = 50
        starts = [int(round(s * frames_per_second)) for s in np.arange(0, CLIP_SECONDS - self.window_s + 1e-9, self.hop_s)]
        size = int(round(self.window_s * frames_per_second))
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(waves), self.batch_size):
                inputs = self._processor(waves[start : start + self.batch_size], sampling_rate=SAMPLE_RATE, return_tensors="pt")
                hidden = self._model.get_encoder()(inputs["input_features"].to(self.device)).last_hidden_state
                outputs.append(torch.stack([hidden[:, s : s + size].mean(dim=1) for s in starts], dim=1).float().cpu().numpy())
        return np.concatenate(outputs)

    def _embed_windows(self, waves: list[NDArray[np.float32]]) -> NDArray[np.float32]:
        model_type = self._model.config.model_type
        rate = getattr(self._processor, "sampling_rate", SAMPLE_RATE)
        waves = [resample(wave, SAMPLE_RATE, rate) for wave in waves]
        options: dict[str, Any] = {"sampling_rate": rate, "return_tensors": "pt"}
        if model_type == "clap":
            options["truncation"] = "rand_trunc"  # the default "fusion" makes 4 channels a non-fusion model rejects
        inputs = {k: v.to(self.device) for k, v in self._processor(waves, **options).items()}
        if hasattr(self._model, "get_audio_features"):
            out = _pooled(self._model.get_audio_features(**inputs))
        else:
            result = self._model(**inputs)
            out = result.pooler_output if getattr(result, "pooler_output", None) is not None else result.last_hidden_state.mean(dim=1)
        return out.float().cpu().numpy()


def resample(wave: NDArray[np.float32], source: int, target: int) -> NDArray[np.float32]:
    """Polyphase resampling (CLAP wants 48 kHz; AVG stores 16 kHz)."""
    if source == target:
        return wave
    from math import gcd

    from scipy.signal import resample_poly

    common = gcd(source, target)
    return resample_poly(wave, target // common, source // common).astype(np.float32)


def image_features(model: Any, pixel_values: Any) -> Any:
    """One vector per image: the joint-space embedding if the model has one, else pooled or CLS."""
    if hasattr(model, "get_image_features"):
        return _pooled(model.get_image_features(pixel_values=pixel_values))
    result = model(pixel_values=pixel_values)
    pooled = getattr(result, "pooler_output", None)
    return pooled if pooled is not None else result.last_hidden_state[:, 0]


def _pooled(result: Any) -> Any:
    """Transformers 5 returns a model output from ``get_*_features`` (the vector is ``pooler_output``)."""
    return result if hasattr(result, "shape") else result.pooler_output
