"""Fixtures shared by the dataset-build tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def small_synth(tmp_path_factory) -> Path:
    """3 locations x 3 source videos x 1 clip (the fewest the split protocols accept): its manifest."""
    from avg_bench.data.locations import load_locations
    from avg_bench.data.synth import generate_synth, pick_locations

    folder = tmp_path_factory.mktemp("small-synth")
    synth = generate_synth(folder, pick_locations(load_locations(), 3, seed=0), videos_per_location=3, clips_per_video=1,
                           video_seconds=14.0, seed=0, workers=2, progress=False)
    return synth.manifest_path
