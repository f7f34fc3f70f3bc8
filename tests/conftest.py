"""Session fixtures shared by the test packages.

``synth_dataset``: a real AVG-Synth dataset, generated and built once per test session (~2-3 min on
2 cores) the first time a test asks for it; the dataset tests and the baseline tests both read it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from avg_bench.data.build import BuildResult, build_dataset
from avg_bench.data.locations import load_locations
from avg_bench.data.schema import LocationRecord
from avg_bench.data.synth import generate_synth, pick_locations

N_LOCATIONS, VIDEOS, CLIPS_PER_VIDEO = 12, 5, 4  # 12 locations x 20 clips


# No test may reach a model hub: a hub name fails at once instead of retrying for seconds.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The operator's secret for the geo-holdout draw: one test key, so every build of one manifest agrees
# (remote = local); tests of the key's own handling unset it.
os.environ.setdefault("AVG_BENCH_HOLDOUT_KEY", "test-holdout-key")

#: Fixtures that make media with ffmpeg/espeak-ng or serve it: their tests are the `media` tier.
MEDIA_FIXTURES = frozenset({"synth_dataset", "synth_sources", "small_synth", "local_build", "host", "clean_host", "remote_manifest_path",
                            "long_source"})
#: Modules whose own fixtures render media (AVG-Synth pieces, canonical clips).
MEDIA_MODULES = frozenset({"test_synth.py", "test_media.py", "test_synth_fusion.py", "test_mp4_header.py"})
#: Modules that train models for seconds each: correct, but not for the edit-test loop.
SLOW_MODULES = frozenset({"test_atoms.py", "test_flow.py", "test_audio_atoms_locator.py", "test_fuzz.py",
                          "test_cli_leaderboard.py", "test_reasoning_training.py", "test_reproducibility.py"})
#: Fixtures that start dozens of CLI processes.
SLOW_FIXTURES = frozenset({"cli_runs"})


def pytest_collection_modifyitems(config, items) -> None:
    """Mark the tiers from what a test uses, so new tests land in the right one without a decorator.

    ``pytest -m "not slow and not media and not browser and not postgres"`` is the fast tier; CI runs all.
    """
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & MEDIA_FIXTURES or item.path.name in MEDIA_MODULES:
            item.add_marker(pytest.mark.media)
        if item.path.name in SLOW_MODULES or fixtures & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
        if item.path.name == "test_browser.py":
            item.add_marker(pytest.mark.browser)
        if "postgres_server" in fixtures or "postgresql" in item.nodeid:
            item.add_marker(pytest.mark.postgres)


@dataclass(frozen=True)
class SynthDataset:
    manifest: Path
    root: Path
    labels_dir: Path
    locations: list[LocationRecord]
    build: BuildResult


@pytest.fixture(scope="session")
def synth_dataset(tmp_path_factory) -> SynthDataset:
    base = tmp_path_factory.mktemp("avg-synth")
    locations = pick_locations(load_locations(), N_LOCATIONS, seed=0)
    synth = generate_synth(
        base / "sources", locations, videos_per_location=VIDEOS, clips_per_video=CLIPS_PER_VIDEO,
        video_seconds=42.0, seed=0, workers=2, progress=False,
    )
    result = build_dataset(
        synth.manifest_path, base / "dataset", name="AVG-Synth", workers=2, progress=False,
        expected_clips_per_location=VIDEOS * CLIPS_PER_VIDEO,
    )
    return SynthDataset(synth.manifest_path, base / "dataset", result.labels_dir, locations, result)
