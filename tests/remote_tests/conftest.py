"""Fixtures of the remote-build tests: a tiny AVG-Synth set, its local build, and a video host serving it.

Sizes: 3 locations x 3 source videos x 1 clip (the fewest the split protocols accept), 14 s
sources, so one build is ~10 s on 2 cores. The local build is the referee of every remote build.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest
from remote_host import VideoHost

from avg_bench.data.build import BuildResult, build_dataset
from avg_bench.data.locations import load_locations
from avg_bench.data.manifest import read_manifest, write_manifest
from avg_bench.data.schema import ManifestRecord
from avg_bench.data.synth import generate_synth, pick_locations


@dataclass(frozen=True)
class SynthSources:
    folder: Path
    manifest: Path
    records: list[ManifestRecord]


@pytest.fixture(scope="session")
def synth_sources(tmp_path_factory) -> SynthSources:
    folder = tmp_path_factory.mktemp("remote-synth")
    locations = pick_locations(load_locations(), 3, seed=0)
    synth = generate_synth(folder, locations, videos_per_location=3, clips_per_video=1, video_seconds=14.0,
                           seed=0, workers=2, progress=False)
    return SynthSources(folder, synth.manifest_path, read_manifest(synth.manifest_path))


@pytest.fixture(scope="session")
def local_build(synth_sources, tmp_path_factory) -> BuildResult:
    out = tmp_path_factory.mktemp("local-build") / "avg-synth"
    return build_dataset(synth_sources.manifest, out, name="AVG-Synth", workers=2, progress=False)


@pytest.fixture(scope="session")
def host(synth_sources):
    with VideoHost(synth_sources.folder) as served:
        yield served


@pytest.fixture()
def clean_host(host):
    host.clear_faults()
    yield host
    host.clear_faults()


def remote_manifest(records: list[ManifestRecord], host: VideoHost, path: Path) -> Path:
    """The same clips, fetched from the host: only ``source_uri`` changes (platform and id stay)."""
    write_manifest([dataclasses.replace(r, source_uri=host.url(r.source_uri)) for r in records], path)
    return path


@pytest.fixture()
def remote_manifest_path(synth_sources, clean_host, tmp_path) -> Path:
    return remote_manifest(synth_sources.records, clean_host, tmp_path / "remote.jsonl")
