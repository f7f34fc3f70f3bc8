"""Content fingerprints of a clip, for near-duplicate search: keyframe pHashes and an audio fingerprint.

Both are pure numpy (plus Pillow to read and shrink images), deterministic, and compared by
distance, never by equality: a re-encode of the same content lands near, different content far.

* :func:`image_phash`: the classic 64-bit DCT perceptual hash (32x32 greyscale, 2-D DCT, the 8x8
  lowest frequencies against their median), written as 16 hex digits; compare with :func:`hamming`.
* :func:`audio_fingerprint`: a Haitsma-Kalker style bit pattern. The soundtrack is cut into
  ``AUDIO_SEGMENTS`` equal time segments and ``AUDIO_BANDS`` log-spaced frequency bands; each bit is
  the sign of the band-energy difference's change from one segment to the next, so it survives gain
  changes and lossy re-encoding. Always ``(AUDIO_SEGMENTS - 1) * (AUDIO_BANDS - 1)`` = 256 bits
  (64 hex digits), whatever the duration; compare with :func:`audio_similarity`.

>>> hamming("ffff000000000000", "ffff000000000001")
1
>>> audio_similarity("f0" * 32, "f0" * 32)
1.0
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

#: Side of the greyscale square the pHash is computed on, and of its low-frequency corner.
PHASH_SIZE, PHASH_LOW = 32, 8
#: Time segments and frequency bands of the audio fingerprint: 32 x 8 = 256 bits.
AUDIO_SEGMENTS, AUDIO_BANDS = 33, 9
#: Analysis frames of the audio fingerprint (seconds), hop half a frame.
AUDIO_FRAME_S = 0.064
#: Band edges (Hz): speech and most ambient sound; capped below Nyquist for low sample rates.
AUDIO_LOW_HZ, AUDIO_HIGH_HZ = 150.0, 6000.0
AUDIO_FINGERPRINT_BITS = (AUDIO_SEGMENTS - 1) * (AUDIO_BANDS - 1)


def _dct_matrix(n: int) -> NDArray[np.float64]:
    """Orthonormal DCT-II matrix: ``D @ x`` is the DCT of ``x`` (no scipy needed)."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    matrix[0] /= np.sqrt(2.0)
    return matrix


_DCT = _dct_matrix(PHASH_SIZE)


def image_phash(image) -> str:
    """64-bit perceptual hash of an image (a path, a PIL image, or an array) as 16 hex digits.

    The image is converted to greyscale and shrunk to 32x32 (Pillow's Lanczos filter), its 2-D DCT
    is taken, and each of the 8x8 lowest frequencies becomes a bit: 1 when above their median.
    Bits are written row by row, most significant first.
    """
    from PIL import Image

    if isinstance(image, (str, PathLike)):
        with Image.open(image) as opened:
            grey = opened.convert("L")
    elif isinstance(image, np.ndarray):
        array = image if image.dtype == np.uint8 else np.clip(np.asarray(image, float) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        grey = Image.fromarray(array).convert("L")
    else:
        grey = image.convert("L")
    small = np.asarray(grey.resize((PHASH_SIZE, PHASH_SIZE), Image.Resampling.LANCZOS), dtype=np.float64)
    low = (_DCT @ small @ _DCT.T)[:PHASH_LOW, :PHASH_LOW]
    return _bits_to_hex(low.ravel() > np.median(low))


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two hex fingerprints of the same length."""
    if len(a) != len(b):
        raise ValueError(f"fingerprints of different lengths cannot be compared: {len(a)} and {len(b)} hex digits")
    return (int(a, 16) ^ int(b, 16)).bit_count()


def audio_fingerprint(pcm: NDArray, sample_rate: int) -> str:
    """Compact fingerprint (64 hex digits, 256 bits) of mono PCM samples (int16, or float in [-1, 1]).

    Empty or silent audio gives the all-zero fingerprint.
    """
    x = np.asarray(pcm)
    x = x.astype(np.float64) / 32768.0 if x.dtype == np.int16 else x.astype(np.float64)
    frame = max(16, int(round(AUDIO_FRAME_S * sample_rate)))
    hop = frame // 2
    if len(x) < frame:
        x = np.pad(x, (0, frame - len(x)))
    n_frames = 1 + (len(x) - frame) // hop
    index = np.arange(frame)[None, :] + hop * np.arange(n_frames)[:, None]
    spectrum = np.abs(np.fft.rfft(x[index] * np.hanning(frame), axis=1)) ** 2
    freqs = np.fft.rfftfreq(frame, 1.0 / sample_rate)
    high = min(AUDIO_HIGH_HZ, 0.45 * sample_rate)
    edges = np.geomspace(AUDIO_LOW_HZ, high, AUDIO_BANDS + 1)
    band_of_bin = np.searchsorted(edges, freqs, side="right") - 1
    inside = (band_of_bin >= 0) & (band_of_bin < AUDIO_BANDS)
    bands = np.zeros((n_frames, AUDIO_BANDS))
    for band in range(AUDIO_BANDS):
        bands[:, band] = spectrum[:, inside & (band_of_bin == band)].sum(axis=1)
    # Mean band energy over each of the equal time segments (each gets at least one frame).
    starts = np.minimum((np.arange(AUDIO_SEGMENTS) * n_frames) // AUDIO_SEGMENTS, n_frames - 1)
    stops = np.maximum(((np.arange(AUDIO_SEGMENTS) + 1) * n_frames) // AUDIO_SEGMENTS, starts + 1)
    cumulative = np.vstack([np.zeros(AUDIO_BANDS), np.cumsum(bands, axis=0)])
    energy = (cumulative[stops] - cumulative[starts]) / (stops - starts)[:, None]
    log_energy = np.log10(energy + 1e-10)
    across = log_energy[:, :-1] - log_energy[:, 1:]  # band-to-band slope in each segment
    bits = (across[1:] - across[:-1]) > 0  # its change from one segment to the next
    return _bits_to_hex(bits.ravel())


def audio_similarity(a: str, b: str) -> float:
    """Fraction of equal bits: 1.0 for identical fingerprints, about 0.5 for unrelated audio."""
    return 1.0 - hamming(a, b) / (4 * len(a))


def decode_pcm(path: str | Path, *, sample_rate: int, timeout_s: float = 120.0) -> NDArray[np.int16]:
    """The first audio stream of a media file as mono int16 PCM at ``sample_rate`` (decoded by ffmpeg)."""
    from avg_bench.tools import run_tool

    result = run_tool(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", Path(path), "-map", "0:a:0",
         "-vn", "-ac", "1", "-ar", str(sample_rate), "-f", "s16le", "-"],
        timeout_s=timeout_s,
        what=f"decoding the audio of {path}",
    )
    return np.frombuffer(result.stdout, dtype="<i2").astype(np.int16)


def _bits_to_hex(bits: NDArray[np.bool_]) -> str:
    packed = np.packbits(np.asarray(bits, dtype=bool))
    return packed.tobytes().hex()[: (len(bits) + 3) // 4]
