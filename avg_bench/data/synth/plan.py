"""Per-video variation and clip placement: a video's nuisances, its source id, and the ids of its clips."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

from avg_bench.data.synth.seeded import _between, _hex, _log_between, _seed32, _unit
from avg_bench.data.synth.spec import _GROUND_START, _SKY_END, CLIP_PREFIX, CLIP_SECONDS, GENERATOR_VERSION, WIDTH
from avg_bench.errors import AvgBenchError


@dataclass(frozen=True)
class VideoPlan:
    """One source video: its identity and every nuisance drawn for it."""

    location_id: str
    index: int
    source_id: str
    #: Path relative to the output folder (posix).
    relpath: str
    seconds: float
    hue_shift_deg: float
    saturation_shift: float
    value_shift: float
    texture_phase_px: int
    brightness: float
    brightness_drift: float
    drift_period_s: float
    scroll: float
    pixel_noise: int
    box_color: str
    box_size_px: int
    box_y_px: int
    box_speed_px_s: float
    box_start_px: float
    drone_detune: float
    tremolo_hz: float
    hiss: float
    band_gain: float
    speech_rate_wpm: int
    speech_pitch: int
    speech_period_s: float
    speech_offset_s: float
    noise_seed: int


def _params_tag(*, seed: int, video_seconds: float, speech: bool, text: bool, variant: str = "default", group_size: int = 3) -> str:
    spec: dict = {"generator": GENERATOR_VERSION, "seed": seed, "video_seconds": video_seconds, "speech": speech, "text": text}
    if variant != "default":  # the default variant's tags (and so its ids) stay what they were
        spec.update(variant=variant, group_size=group_size)
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]


def plan_video(location_id: str, index: int, *, seed: int, video_seconds: float, tag: str) -> VideoPlan:
    """The nuisances of video ``index`` of a location: a pure function of (seed, source id)."""
    source_id = f"synthetic-{location_id}-v{index:02d}-{tag}"
    key = (seed, "video", source_id)
    return VideoPlan(
        location_id=location_id,
        index=index,
        source_id=source_id,
        relpath=f"sources/{location_id}/{source_id}.mp4",
        seconds=float(video_seconds),
        hue_shift_deg=round(_between(-3, 3, *key, "hue"), 3),
        saturation_shift=round(_between(-0.03, 0.03, *key, "sat"), 4),
        value_shift=round(_between(-0.02, 0.02, *key, "val"), 4),
        texture_phase_px=int(_between(0, 64, *key, "phase")),
        brightness=round(_between(-0.015, 0.015, *key, "brightness"), 4),
        brightness_drift=round(_between(0.008, 0.02, *key, "drift"), 4),
        drift_period_s=round(_between(6, 15, *key, "drift_period"), 3),
        scroll=round(_between(0.0015, 0.004, *key, "scroll") * (1 if _unit(*key, "scroll_dir") < 0.5 else -1), 5),
        pixel_noise=int(_between(4, 10, *key, "noise")),
        box_color=_hex(tuple(int(_between(0, 256, *key, "box", c)) for c in range(3))),
        box_size_px=int(_between(16, 28, *key, "box_size")),
        box_y_px=int(_between(_SKY_END, _GROUND_START - 40, *key, "box_y")),
        box_speed_px_s=round(_between(8, 30, *key, "box_speed"), 3),
        box_start_px=round(_between(0, WIDTH, *key, "box_start"), 3),
        drone_detune=round(2 ** _between(-0.05, 0.05, *key, "detune"), 5),
        tremolo_hz=round(_between(0.1, 0.4, *key, "tremolo"), 4),
        hiss=round(_log_between(0.003, 0.03, *key, "hiss"), 5),
        band_gain=round(_between(0.7, 1.3, *key, "band_gain"), 4),
        speech_rate_wpm=int(_between(140, 190, *key, "rate")),
        speech_pitch=int(_between(30, 70, *key, "pitch")),
        speech_period_s=round(_between(3.5, 5.5, *key, "speech_period"), 3),
        speech_offset_s=round(_between(0.0, 1.5, *key, "speech_offset"), 3),
        noise_seed=_seed32(*key, "noise_seed"),
    )


def clip_starts(source_id: str, *, seed: int, video_seconds: float, clips: int, clip_seconds: float = CLIP_SECONDS) -> list[float]:
    """Starts of ``clips`` non-overlapping clips: random gaps share the slack, on 0.1 s steps.

    >>> starts = clip_starts("synthetic-L0001-v00-x", seed=0, video_seconds=45.0, clips=4)
    >>> len(starts), all(b - a >= 10.0 for a, b in zip(starts, starts[1:])), starts[-1] + 10.0 <= 45.0
    (4, True, True)
    """
    slack = video_seconds - clips * clip_seconds
    if slack < 0:
        raise AvgBenchError(f"{clips} clips of {clip_seconds:g} s do not fit in a {video_seconds:g} s video")
    weights = [0.2 + _unit(seed, "gaps", source_id, clips, i) for i in range(clips + 1)]
    total = sum(weights)
    starts, position = [], 0.0
    for i in range(clips):
        position += slack * weights[i] / total
        start = math.floor(round(position * 10, 6)) / 10  # down to a frame (10 fps): never overlaps
        starts.append(round(start + i * clip_seconds, 1))
    return starts


def clip_id(seed: int, source_id: str, start_s: float) -> str:
    """``synth-`` and 10 hex digits of SHA-256 of (seed, source id, start).

    >>> clip_id(0, "synthetic-L0001-v00-x", 1.5) == clip_id(0, "synthetic-L0001-v00-x", 1.5)
    True
    >>> clip_id(0, "synthetic-L0001-v00-x", 1.5)[:6]
    'synth-'
    """
    digest = hashlib.sha256(f"{seed}\x1f{source_id}\x1f{start_s:.3f}".encode()).hexdigest()
    return f"{CLIP_PREFIX}-{digest[:10]}"
