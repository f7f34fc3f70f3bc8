"""What a probe says about a media file: a plain record, shared by probing, processing and the checks.

It lives alone so that :mod:`avg_bench.data.checks` can read it without importing
:mod:`avg_bench.data.media` (which runs the checks): no import cycle between the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path


@dataclass(frozen=True)
class MediaInfo:
    """What ffprobe says about a media file (first video and first audio stream)."""

    path: Path
    format_name: str
    #: The container's duration (the longest stream), seconds.
    duration_s: float
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    pixel_format: str | None = None
    video_duration_s: float | None = None
    #: Clockwise display rotation in degrees (phone videos), 0, 90, 180 or 270.
    rotation: int = 0
    sample_aspect_ratio: Fraction = Fraction(1)
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    audio_duration_s: float | None = None
    video_stream: int | None = None
    audio_stream: int | None = None
    #: Container-level metadata tags (title, comment, location, creation_time, ...).
    tags: dict[str, str] = field(default_factory=dict, compare=False)
