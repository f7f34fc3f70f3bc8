"""The whole chain on data the tests make: AVG-Synth sources -> build -> validate -> load_dataset -> evaluate."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from data_tests.planting import copy_dataset, rewrite, violations

import avg_bench
from avg_bench.data.build import build_dataset
from avg_bench.data.canonical import CANONICAL
from avg_bench.data.manifest import read_manifest
from avg_bench.data.schema import ClipRecord
from avg_bench.data.validate import validate
from avg_bench.geo import reverse_geocode

CLI = str(Path(sys.executable).parent / "avg-bench")


def _load(root: Path, config: str, split: str):
    # A cache of our own: datasets keys a local folder's cache by its name ("dataset"), not its content,
    # so another build at another path with that name would be read back stale.
    return datasets.load_dataset(str(root), config, split=split, cache_dir=str(root.parent / ".hf-cache"))


def test_built_synth_set_validates_clean(synth_dataset):
    report = validate(synth_dataset.root)
    assert report.ok, report.violations[:5]
    # 12 locations: 3 held out for geo-holdout test (labelled nowhere), 2 for its val; seen covers the other 9
    assert report.locations == 9
    assert report.counts["seen"] == {"train": 108, "val": 36, "test": 36}
    assert report.counts["geo-holdout"] == {"train": 112, "val": 32, "test": 60}
    assert sum(report.by_continent.values()) == 180 and set(report.by_continent.values()) == {20, 40}  # 3 continents lost one
    assert not report.notes  # the hidden labels were found and checked too
    done = subprocess.run([CLI, "validate", str(synth_dataset.root)], capture_output=True, text=True)
    assert done.returncode == 0 and "no violations" in done.stdout


@pytest.mark.parametrize("config", ["seen", "geo-holdout"])
def test_load_dataset_decodes_frames_audio_and_keyframes(synth_dataset, config):
    manifest = {r.clip_id: r for r in read_manifest(synth_dataset.manifest)}
    splits = {split: _load(synth_dataset.root, config, split) for split in ("train", "val", "test")}
    assert sum(len(s) for s in splits.values()) == {"seen": 180, "geo-holdout": 204}[config]
    val = splits["val"]
    for row in val.select(range(3)):
        record = manifest[row["clip_id"]]
        assert (row["lat"], row["lon"], row["location_id"]) == (record.lat, record.lon, record.location_id)
        assert row["country"] == reverse_geocode(record.lat, record.lon).country[0]
        assert (row["source_id"], row["source_start_s"], row["source_end_s"]) == (record.source_id, record.start_s, record.end_s)
        assert row["synthetic"] is True and row["checks_failed"] == []
        video = row["video"]
        assert video.metadata.codec == "h264" and video.metadata.average_fps == CANONICAL.fps
        assert abs(video.metadata.duration_seconds - CANONICAL.duration_s) <= CANONICAL.duration_tolerance_s
        frames = video.get_frames_played_at(seconds=[0.5 + k for k in range(8)]).data
        assert frames.shape[:2] == (8, 3) and max(frames.shape[2:]) <= CANONICAL.long_side
        samples = row["audio"].get_all_samples()
        assert samples.sample_rate == CANONICAL.sample_rate and samples.data.shape[0] == 1
        assert abs(samples.data.shape[1] / CANONICAL.sample_rate - CANONICAL.duration_s) <= CANONICAL.duration_tolerance_s
        assert float(samples.data.abs().max()) > 0.01  # not silent
        assert len(row["keyframes"]) == CANONICAL.keyframes
        assert row["keyframes"][0].size == (frames.shape[3], frames.shape[2])
    test = splits["test"]
    for column in ClipRecord.HIDDEN_COLUMNS:
        assert set(test[column]) == {None}, column  # no labels, no source ids in the released test split
    assert len(set(test["clip_id"])) == len(test)
    if config == "geo-holdout":
        train_locations = set(splits["train"]["location_id"])
        assert train_locations.isdisjoint(val["location_id"])
        hidden = pq.read_table(synth_dataset.labels_dir / config / "test.parquet").to_pylist()
        assert train_locations.isdisjoint(r["location_id"] for r in hidden)
    else:
        by_location = defaultdict(set)
        for split in ("train", "val"):
            for location in splits[split]["location_id"]:
                by_location[location].add(split)
        hidden = pq.read_table(synth_dataset.labels_dir / config / "test.parquet").to_pylist()
        for row in hidden:
            by_location[row["location_id"]].add("test")
        assert all(found == {"train", "val", "test"} for found in by_location.values())


def test_hidden_labels_score_the_test_split(synth_dataset, tmp_path):
    """What the leaderboard does: the operator's labels file scores test predictions."""
    labels_file = synth_dataset.labels_dir / "seen" / "test.parquet"
    labels = avg_bench.load_labels(labels_file)
    assert len(labels) == 36 and labels.revision == synth_dataset.build.revision
    predictions = [{"clip_id": c, "lat": float(a), "lon": float(b)} for c, a, b in zip(labels.clip_id, labels.lat, labels.lon)]
    results = avg_bench.evaluate(predictions, labels, bootstrap=0)
    assert results.metrics["acc@1km"].value == 1.0 and results.metrics["sem_city"].value == 1.0


def test_evaluate_reads_the_val_split_of_the_dataset(synth_dataset, tmp_path):
    val = pq.read_table(next((synth_dataset.root / "data" / "seen").glob("val-*.parquet")), columns=["clip_id", "lat", "lon"])
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text("".join(json.dumps(r) + "\n" for r in val.to_pylist()))
    done = subprocess.run(
        [CLI, "evaluate", str(predictions), "--split", "val", "--data", str(synth_dataset.root), "--json", "-"],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["split"], data["config"], data["counts"]["labelled"]) == ("val", "seen", 36)
    assert data["dataset"]["revision"] == synth_dataset.build.revision
    assert data["metrics"]["acc@1km"]["value"] == 1.0


def test_rebuild_resumes_without_reprocessing_and_is_identical(synth_dataset):
    before = (synth_dataset.root / "checksums.sha256").read_text()

    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished clip was processed again")

    build_dataset(synth_dataset.manifest, synth_dataset.root, name="AVG-Synth", workers=2, progress=False,
                  expected_clips_per_location=20, process=must_not_run)
    assert (synth_dataset.root / "checksums.sha256").read_text() == before


def test_card_of_the_built_set_says_synthetic(synth_dataset):
    card = (synth_dataset.root / "README.md").read_text()
    assert card.startswith("---\npretty_name: AVG-Synth")
    assert "- synthetic" in card and "Synthetic data." in card and "must never be reported as AVG" in card
    assert "config_name: geo-holdout" in card and "path: data/seen/val-*.parquet" in card
    info = json.loads((synth_dataset.root / "build_info.json").read_text())
    assert info["synthetic"] is True and info["revision"].startswith("AVG-Synth-v1@")


# Planted faults: each tampers a copy of the built dataset and must be caught, naming the clip.


@pytest.fixture
def copy_of_dataset(synth_dataset, tmp_path):
    return copy_dataset(synth_dataset, tmp_path)


def test_validation_catches_a_source_video_in_two_splits(copy_of_dataset):
    train = pq.read_table(next((copy_of_dataset / "data" / "seen").glob("train-*.parquet")), columns=["source_id"]).to_pylist()
    stolen = train[0]["source_id"]
    rows = rewrite(copy_of_dataset, "seen", "val", lambda rows: rows[0].update(source_id=stolen))
    found = violations(copy_of_dataset)
    assert rows[0]["clip_id"] in found["source_in_two_splits"]


def test_validation_catches_a_duplicated_clip(copy_of_dataset):
    rows = rewrite(copy_of_dataset, "seen", "val", lambda rows: rows.append(dict(rows[0])))
    found = violations(copy_of_dataset)
    assert found["duplicate_clip"] == {rows[0]["clip_id"]}


def test_validation_catches_a_corrupted_shard(copy_of_dataset):
    shard = next((copy_of_dataset / "data" / "seen").glob("val-*.parquet"))
    data = bytearray(shard.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    shard.write_bytes(bytes(data))
    found = violations(copy_of_dataset)
    assert shard.relative_to(copy_of_dataset).as_posix() in found["checksum"]
    assert found["corrupt_shard"] or found["media_checksum"]  # unreadable, or readable with bad media


def test_validation_catches_coordinates_that_contradict_the_country(copy_of_dataset):
    rows = rewrite(copy_of_dataset, "seen", "val", lambda rows: rows[0].update(country="NZ" if rows[0]["country"] != "NZ" else "FR"))
    assert rows[0]["clip_id"] in violations(copy_of_dataset)["coordinates_contradict_hierarchy"]


def test_validation_catches_labels_leaking_into_the_test_split(copy_of_dataset):
    rows = rewrite(copy_of_dataset, "seen", "test", lambda rows: rows[0].update(lat=1.0, source_id="x"))
    assert violations(copy_of_dataset)["label_leak"] == {rows[0]["clip_id"]}


def test_validation_catches_a_missing_clip(copy_of_dataset):
    removed = []
    rewrite(copy_of_dataset, "seen", "val", lambda rows: removed.append(rows.pop()))
    found = violations(copy_of_dataset)
    assert found["missing_clip"] == {removed[0]["clip_id"]}
    assert found["count"]  # its location now has 19 clips


@pytest.mark.media
def test_validation_catches_silent_black_and_wrong_duration_clips(tmp_path):
    """Faults planted in the sources themselves: the build records them, validate names the clips."""
    from data_tests.media_fixtures import make_av_source, make_black_source, make_silent_source

    from avg_bench.data.manifest import write_manifest
    from avg_bench.data.schema import ManifestRecord

    sources = tmp_path / "sources"
    sources.mkdir()
    # 3 locations x 3 sources (the minimum both protocols need); three sources carry a fault.
    places = {"L0001": (48.8566, 2.3522), "L0002": (35.6762, 139.6503), "L0003": (-1.2921, 36.8219)}
    faulty = {("L0001", 0): make_silent_source, ("L0002", 1): make_black_source}
    records = []
    for location_id, (lat, lon) in places.items():
        for k in range(3):
            name = f"{location_id}-{k}"
            (faulty.get((location_id, k)) or make_av_source)(sources / f"{name}.mp4", duration_s=12.0)
            short = (location_id, k) == ("L0003", 2)  # a 7 s clip: wrong duration
            records.append(ManifestRecord(
                clip_id=f"fault-{hashlib.sha256(name.encode()).hexdigest()[:10]}", location_id=location_id,
                source_platform="file", source_id=name, source_uri=f"sources/{name}.mp4", start_s=1.0,
                end_s=8.0 if short else 11.0, lat=lat, lon=lon, coord_source="centroid", license="CC0-1.0",
            ))
    manifest = tmp_path / "manifest.jsonl"
    write_manifest(records, manifest)
    result = build_dataset(manifest, tmp_path / "dataset", name="Faults", workers=2, progress=False)
    ids = {r.source_id: r.clip_id for r in records}
    silent, black, short = ids["L0001-0"], ids["L0002-1"], ids["L0003-2"]
    assert result.failed_checks == {silent: ["silent_audio"], black: ["black_video"], short: ["wrong_duration"]}
    found = violations(tmp_path / "dataset")
    assert (found["silent_audio"], found["black_video"], found["wrong_duration"]) == ({silent}, {black}, {short})
    done = subprocess.run([CLI, "validate", str(tmp_path / "dataset"), "--json", "-"], capture_output=True, text=True)
    assert done.returncode == 1
    by_check = json.loads(done.stdout)["violations_by_check"]
    assert {k: by_check[k] for k in ("silent_audio", "black_video", "wrong_duration")} == {"silent_audio": 1, "black_video": 1, "wrong_duration": 1}
    # The clean sources are one ffmpeg test pattern with one steady tone: rightly "the same footage",
    # across splits and between the hidden pool and labelled splits.
    assert set(by_check) <= {"silent_audio", "black_video", "wrong_duration", "near_duplicate", "hidden_clip_labelled"}
