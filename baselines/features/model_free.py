"""Features that need no weights: colour statistics of the keyframes, log-mel statistics of the audio.

They are the cheapest test of whether a modality carries signal, and on AVG-Synth they see every
cue (its cues are built to be learnable from exactly these statistics, ``docs/avg-synth.md``).

* ``colour`` (67-d): per keyframe the mean R, G, B in [0, 1] and the 4x4x4 joint colour histogram
  (fractions of pixels), averaged over the clip's keyframes;
* ``logmel`` (T x 128): the soundtrack at 16 kHz mono, 25 ms Hann frames every 10 ms, 64 HTK-mel
  bands from 0 to 8 kHz, log power; per 1 s window the mean and standard deviation of each band.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from avg_bench.errors import AvgBenchError
from avg_bench.modality import Modality
from baselines.features import FeatureExtractor

SAMPLE_RATE = 16_000
CLIP_SECONDS = 10.0


class ColourStatistics(FeatureExtractor):
    """Mean colour and a 4x4x4 colour histogram, averaged over keyframes (67 dimensions)."""

    modality: ClassVar[Modality] = Modality.VISUAL
    BINS = 4
    #: Keyframes are decoded at reduced size (JPEG DCT scaling): statistics barely change, decoding is ~4x faster.
    DECODE_SIZE = (192, 108)

    @property
    def key(self) -> str:
        """The cache key: the feature's name and version."""
        return f"colour-v1-bins{self.BINS}"

    def embed(self, media: list) -> NDArray[np.float32]:
        """Embeddings of a batch of clips (one list of keyframe bytes per clip)."""
        return np.stack([self._clip(frames) for frames in media])[:, None, :]

    def _clip(self, frames: list[bytes]) -> NDArray[np.float32]:
        return np.mean([self._frame(frame) for frame in frames], axis=0).astype(np.float32)

    def _frame(self, jpeg: bytes) -> NDArray[np.float64]:
        from PIL import Image

        with Image.open(io.BytesIO(jpeg)) as image:
            image.draft("RGB", self.DECODE_SIZE)
            pixels = np.asarray(image.convert("RGB"), dtype=np.uint8).reshape(-1, 3)
        mean = pixels.mean(axis=0) / 255.0
        bins = (pixels // (256 // self.BINS)).astype(np.int64)
        index = (bins[:, 0] * self.BINS + bins[:, 1]) * self.BINS + bins[:, 2]
        histogram = np.bincount(index, minlength=self.BINS**3) / len(pixels)
        return np.concatenate([mean, histogram])


class LogMelStatistics(FeatureExtractor):
    """Per 1 s window, mean and standard deviation of 64 log-mel bands (T = 10 windows x 128)."""

    modality: ClassVar[Modality] = Modality.AUDIO
    N_FFT, HOP, BANDS, WINDOW_S = 400, 160, 64, 1.0

    @property
    def key(self) -> str:
        """The cache key: the feature's name and version."""
        return f"logmel-v1-{self.BANDS}x{self.WINDOW_S:g}s"

    def embed(self, media: list) -> NDArray[np.float32]:
        """Embeddings of a batch of clips (audio bytes per clip)."""
        return np.stack([self._clip(audio) for audio in media])

    def _clip(self, audio: bytes) -> NDArray[np.float32]:
        wave = decode_audio(audio)
        logmel = log_mel(wave, n_fft=self.N_FFT, hop=self.HOP, bands=self.BANDS)  # (frames, bands)
        per_window = int(round(self.WINDOW_S * SAMPLE_RATE / self.HOP))
        windows = len(logmel) // per_window
        blocks = logmel[: windows * per_window].reshape(windows, per_window, self.BANDS)
        return np.concatenate([blocks.mean(axis=1), blocks.std(axis=1)], axis=1).astype(np.float32)


def decode_audio(data: bytes, *, seconds: float = CLIP_SECONDS) -> NDArray[np.float32]:
    """A clip's soundtrack as 16 kHz mono float32, zero-padded or cut to exactly ``seconds``."""
    import soundfile

    try:
        wave, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise AvgBenchError(f"cannot decode a clip's audio: {exc}") from exc
    if rate != SAMPLE_RATE:
        raise AvgBenchError(f"clip audio is {rate} Hz; AVG stores 16 kHz (rebuild the dataset)")
    wave = wave.mean(axis=1)
    n = int(round(seconds * SAMPLE_RATE))
    return np.pad(wave[:n], (0, max(0, n - len(wave))))


def log_mel(wave: NDArray[np.float32], *, n_fft: int, hop: int, bands: int) -> NDArray[np.float32]:
    """``(frames, bands)`` natural-log mel power (floor 1e-10) of a 16 kHz signal, frames centred."""
    padded = np.pad(wave, (n_fft // 2, n_fft // 2), mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    spectrum = np.abs(np.fft.rfft(frames * _hann(n_fft), axis=1)) ** 2
    return np.log(np.maximum(spectrum @ mel_filterbank(n_fft, bands).T, 1e-10)).astype(np.float32)


@lru_cache(maxsize=8)
def _hann(n: int) -> NDArray[np.float32]:
    return np.hanning(n + 1)[:-1].astype(np.float32)  # periodic Hann, as STFT front ends use


@lru_cache(maxsize=8)
def mel_filterbank(n_fft: int, bands: int, rate: int = SAMPLE_RATE) -> NDArray[np.float32]:
    """``(bands, n_fft // 2 + 1)`` triangular filters evenly spaced on the HTK mel scale, 0 to rate/2.

    >>> bank = mel_filterbank(400, 64)
    >>> bank.shape, bool(bank.min() >= 0), bool((bank.max(axis=1) > 0.4).all())  # no empty band
    ((64, 201), True, True)
    """
    def mel(hz):
        return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)

    def hz(m):
        return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(0.0), mel(rate / 2), bands + 2))
    freqs = np.linspace(0.0, rate / 2, n_fft // 2 + 1)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs - lower) / (centre - lower)
    falling = (upper - freqs) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
