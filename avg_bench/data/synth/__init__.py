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

Code
----
One job per module, re-exported here: :mod:`~avg_bench.data.synth.spec` (version, labels, media
format), :mod:`~avg_bench.data.synth.seeded` (hash-based randomness), :mod:`~avg_bench.data.synth.cues`
(the cue model, both variants), :mod:`~avg_bench.data.synth.plan` (per-video nuisances, source and
clip ids), :mod:`~avg_bench.data.synth.render` (frame, soundtrack, espeak-ng, ffmpeg) and
:mod:`~avg_bench.data.synth.generate` (the whole set: :func:`generate_synth`, :func:`pick_locations`).
"""

from __future__ import annotations

from avg_bench.data.synth.cues import (
    CONTINENT_DRONE_HZ,
    CONTINENT_HUE_DEG,
    ESPEAK_VOICES,
    FUSION,
    MODALITIES,
    RANK_WORDS,
    TEXTURES,
    VARIANTS,
    CountryCues,
    LocationCues,
    assign_fusion_groups,
    assign_identity_modalities,
    country_cues,
    espeak_voice,
    fusion_location_cues,
    location_cues,
    variant_cues,
)
from avg_bench.data.synth.generate import SynthResult, generate_synth, pick_locations
from avg_bench.data.synth.plan import VideoPlan, clip_id, clip_starts, plan_video
from avg_bench.data.synth.plan import _params_tag as _params_tag  # the tests rebuild a run's source ids with it
from avg_bench.data.synth.render import find_font, render_base_frame, render_tonal_audio, render_video
from avg_bench.data.synth.spec import (
    CLIP_PREFIX,
    CLIP_SECONDS,
    FPS,
    GENERATOR_VERSION,
    HEIGHT,
    NOTICE,
    SAMPLE_RATE,
    SYNTH_LICENSE,
    SYNTH_PLATFORM,
    WIDTH,
)

__all__ = [
    "CLIP_PREFIX",
    "CLIP_SECONDS",
    "CONTINENT_DRONE_HZ",
    "CONTINENT_HUE_DEG",
    "ESPEAK_VOICES",
    "FPS",
    "FUSION",
    "GENERATOR_VERSION",
    "HEIGHT",
    "MODALITIES",
    "NOTICE",
    "RANK_WORDS",
    "SAMPLE_RATE",
    "SYNTH_LICENSE",
    "SYNTH_PLATFORM",
    "TEXTURES",
    "VARIANTS",
    "WIDTH",
    "CountryCues",
    "LocationCues",
    "SynthResult",
    "VideoPlan",
    "assign_fusion_groups",
    "assign_identity_modalities",
    "clip_id",
    "clip_starts",
    "country_cues",
    "espeak_voice",
    "find_font",
    "fusion_location_cues",
    "generate_synth",
    "location_cues",
    "pick_locations",
    "plan_video",
    "render_base_frame",
    "render_tonal_audio",
    "render_video",
    "variant_cues",
]
