"""Content checks of a canonical clip: what makes a clip useless for audiovisual geolocation.

:func:`content_checks` returns the names of the failed checks (an empty list is a clean clip).
Each check is one small function below whose docstring says why it exists; thresholds come from
:data:`~avg_bench.data.canonical.CANONICAL`. Checks are specific: a clip without audio is
``no_audio``, not also ``silent_audio``; a black video is ``black_video``, not also
``frozen_video``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from avg_bench.data.canonical import CANONICAL, CanonicalFormat
from avg_bench.data.media_info import MediaInfo

#: Every check, in the order they are reported.
CHECKS = ("no_audio", "silent_audio", "black_video", "frozen_video", "wrong_duration")


def content_checks(
    info: MediaInfo,
    keyframes: Sequence[NDArray],
    pcm: NDArray | None,
    fmt: CanonicalFormat = CANONICAL,
    *,
    expected_duration_s: float | None = None,
) -> list[str]:
    """The names of the failed checks among :data:`CHECKS`, in that order.

    Args:
        info: the probe of the canonical MP4.
        keyframes: the clip's keyframes as 2-D luma arrays (uint8, or float in [0, 1]).
        pcm: the mono soundtrack (int16, or float in [-1, 1]); None when the clip has no audio.
        fmt: the canonical format (thresholds).
        expected_duration_s: the intended clip length; ``fmt.duration_s`` when None.
    """
    lumas = [_unit(frame) for frame in keyframes]
    failed = []
    if no_audio(info, pcm):
        failed.append("no_audio")
    elif pcm is not None and silent_audio(pcm, fmt):  # no_audio is true whenever pcm is None
        failed.append("silent_audio")
    if black_video(lumas, fmt):
        failed.append("black_video")
    elif frozen_video(lumas, fmt):
        failed.append("frozen_video")
    if wrong_duration(info, fmt, expected_duration_s):
        failed.append("wrong_duration")
    return failed


def no_audio(info: MediaInfo, pcm: NDArray | None) -> bool:
    """The MP4 has no audio stream.

    Half of the benchmark's signal is the soundtrack (acoustic atoms, speech, traffic, birds); a
    clip without one cannot test audiovisual geolocation, so it is rejected, not kept as video-only.
    """
    return not info.has_audio or pcm is None


def silent_audio(pcm: NDArray, fmt: CanonicalFormat = CANONICAL) -> bool:
    """The soundtrack's RMS level is below ``fmt.silence_dbfs`` (or it has no samples).

    Uploads often carry a muted or digitally silent track (music removed for copyright, a camera
    with no microphone): the stream exists but holds no information.
    """
    return rms_dbfs(pcm) < fmt.silence_dbfs


def black_video(lumas: Sequence[NDArray[np.float64]], fmt: CanonicalFormat = CANONICAL) -> bool:
    """Every keyframe's mean luma is below ``fmt.black_luma`` (or there is no keyframe).

    Audio-only uploads with a black picture, or a lens cap: there is nothing to see, and the
    visual half of the task would be empty.
    """
    return not lumas or all(float(luma.mean()) < fmt.black_luma for luma in lumas)


def frozen_video(lumas: Sequence[NDArray[np.float64]], fmt: CanonicalFormat = CANONICAL) -> bool:
    """Every pair of consecutive keyframes differs by less than ``fmt.frozen_difference`` (mean |difference|).

    A still image over audio (slideshows, "relaxing sounds of ..." videos) is not a video of a
    place in time, and its one picture is often a stock photo from elsewhere.
    """
    if len(lumas) < 2:
        return False
    return all(
        a.shape == b.shape and float(np.abs(a - b).mean()) < fmt.frozen_difference
        for a, b in zip(lumas, lumas[1:])
    )


def wrong_duration(info: MediaInfo, fmt: CanonicalFormat = CANONICAL, expected_duration_s: float | None = None) -> bool:
    """The MP4 (or one of its streams) lasts outside ``expected`` +- ``fmt.duration_tolerance_s``.

    A source that ends early (a truncated download, a section past the video's end) gives a short
    clip; clips of one length keep models and metrics comparable.
    """
    expected = fmt.duration_s if expected_duration_s is None else expected_duration_s
    durations = [info.duration_s, info.video_duration_s, info.audio_duration_s]
    return any(d is not None and abs(d - expected) > fmt.duration_tolerance_s for d in durations)


def rms_dbfs(pcm: NDArray | None) -> float:
    """RMS level of PCM samples in dB relative to full scale (-inf for silence or no samples)."""
    if pcm is None or len(pcm) == 0:
        return -math.inf
    x = np.asarray(pcm)
    x = x.astype(np.float64) / 32768.0 if x.dtype == np.int16 else x.astype(np.float64)
    rms = float(np.sqrt(np.mean(x * x)))
    return 20.0 * math.log10(rms) if rms > 0 else -math.inf


def _unit(frame: NDArray) -> NDArray[np.float64]:
    array = np.asarray(frame)
    if array.ndim != 2:
        raise ValueError(f"a keyframe must be a 2-D luma array, found shape {array.shape}")
    return array.astype(np.float64) / 255.0 if array.dtype == np.uint8 else array.astype(np.float64)
