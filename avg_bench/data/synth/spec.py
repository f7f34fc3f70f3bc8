"""What every AVG-Synth set shares: the generator version, its labels, the media format and the frame layout."""

from __future__ import annotations

from avg_bench.data.canonical import CANONICAL

#: Bump when rendering changes: it changes every source id (and so every clip id) and file name.
GENERATOR_VERSION = 1
SYNTH_LICENSE = "CC0-1.0 (synthetic)"
SYNTH_PLATFORM = "synthetic"
CLIP_PREFIX = "synth"
NOTICE = "AVG-Synth is procedurally generated (synthetic) data for demos and tests; never report it as AVG."

WIDTH, HEIGHT, FPS = 320, 180, 10
SAMPLE_RATE = 16_000
CLIP_SECONDS = CANONICAL.duration_s

# Frame layout (rows): sky [0, 54), middle band with the country texture [54, 135), ground [135, 180).
_SKY_END, _GROUND_START = 54, 135
