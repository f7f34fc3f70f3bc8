"""The canonical media format of every AVG clip, fixed in one place (and in the dataset card).

Changing any number here changes the dataset: it needs a new benchmark version.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class CanonicalFormat:
    """How a clip's media is encoded, and the thresholds of its content checks."""

    duration_s: float = 10.0
    #: A clip whose canonical MP4 lasts outside duration_s +- this fails the duration check.
    duration_tolerance_s: float = 0.15
    fps: int = 10
    #: Long side in pixels after scaling (aspect kept, both sides even); smaller sources are not upscaled.
    long_side: int = 384
    video_codec: str = "libx264"
    pixel_format: str = "yuv420p"
    crf: int = 28
    preset: str = "veryfast"
    #: Seconds between H.264 keyframes: a loader that seeks to a few frames decodes at most this much
    #: video per frame instead of the whole clip (8 frames: ~32 ms instead of ~44 ms; +15% size).
    keyframe_interval_s: float = 0.5
    audio_codec: str = "aac"
    audio_bitrate: str = "64k"
    #: Mono soundtrack sample rate, for the MP4's AAC track and the FLAC file alike.
    sample_rate: int = 16_000
    #: JPEG keyframes at the centres of K equal segments of the clip.
    keyframes: int = 4
    jpeg_quality: int = 3  # ffmpeg -q:v, 2 (best) .. 31
    #: Seconds decoded (and discarded) before the cut, so the audio decoder is primed at ``start_s``.
    #: Without it a cut that lands on a keyframe starts decoding AAC at the very frame holding
    #: ``start_s`` (no pre-roll: its first ~1024 samples are wrong), while a section fetched from mid-file
    #: may start one frame earlier: remote and local differed in their first 512-623 samples. Must stay
    #: below ``FetchOptions.margin_s``. (Cuts off a keyframe decode the same samples with or without it.)
    decode_preroll_s: float = 0.5
    #: Content checks.
    silence_dbfs: float = -60.0  # RMS below this: silent audio
    black_luma: float = 0.06  # mean luma (0..1) of every keyframe below this: black video
    frozen_difference: float = 0.004  # mean |difference| (0..1) between all consecutive keyframes below this: frozen

    def as_dict(self) -> dict:
        """The format as a dict (recorded in build_info.json and hashed into the dataset revision)."""
        return asdict(self)


CANONICAL = CanonicalFormat()
