"""Benchmark integrity on the README-scale AVG-Synth build: one hidden pool, secret held-out
locations, public and operator manifests, and validate catching each planted leak by name."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from data_tests.planting import copy_dataset, rewrite, violations

from avg_bench.data.fingerprints import audio_similarity
from avg_bench.data.holdout import KEY_ENV, load_key
from avg_bench.data.publish import PublishError, plan
from avg_bench.data.validate import NEAR_DUPLICATE_AUDIO_SIMILARITY, NEAR_DUPLICATE_BITS

CLI = str(Path(sys.executable).parent / "avg-bench")
FINGERPRINT = ["clip_id", "split", "video_sha256", "audio_sha256", "keyframe_phash", "audio_fingerprint"]


def _operator_pool(labels_dir: Path) -> dict[str, dict]:
    """clip_id -> the operator's record of every hidden clip (labels and source)."""
    pool = {}
    for path in sorted(labels_dir.glob("*/test.parquet")):
        for row in pq.read_table(path).to_pylist():
            pool[row["clip_id"]] = row
    for line in (labels_dir / "manifest-hidden.jsonl").read_text().splitlines():
        row = json.loads(line)
        assert row["clip_id"] in pool
        pool[row["clip_id"]]["source"] = f"{row['source_platform']}:{row['source_id']}"
    return pool


def test_no_hidden_clip_is_labelled_anywhere_released(synth_dataset):
    """Acceptance (issue 11): every released split of both configs, loaded as a user loads them."""
    pool = _operator_pool(synth_dataset.labels_dir)
    assert len(pool) == 36 + 60  # seen test + every clip of the 3 held-out test locations
    hidden_rows, labelled = [], []
    for config in ("seen", "geo-holdout"):
        for split in ("train", "val", "test"):
            table = datasets.load_dataset(str(synth_dataset.root), config, split=split,
                                          cache_dir=str(synth_dataset.root.parent / ".hf-cache"))  # see test_dataset._load
            rows = table.select_columns([*FINGERPRINT, "location_id", "lat", "source_platform", "source_id"]).to_list()
            (hidden_rows if split == "test" else labelled).extend(rows)
    assert {r["clip_id"] for r in hidden_rows} == set(pool)
    assert all(r["location_id"] is None and r["lat"] is None and r["source_id"] is None for r in hidden_rows)
    hidden_media = {r["clip_id"]: r for r in hidden_rows}
    leaks = {"id": 0, "media hash": 0, "source": 0, "fingerprint": 0}
    for row in labelled:
        leaks["id"] += row["clip_id"] in pool
        leaks["media hash"] += any(row["video_sha256"] == h["video_sha256"] or row["audio_sha256"] == h["audio_sha256"]
                                   for h in hidden_media.values())
        leaks["source"] += any(f"{row['source_platform']}:{row['source_id']}" == p["source"] for p in pool.values())
        leaks["fingerprint"] += any(
            min(bin(int(a, 16) ^ int(b, 16)).count("1") for a in row["keyframe_phash"] for b in h["keyframe_phash"]) <= NEAR_DUPLICATE_BITS
            and audio_similarity(row["audio_fingerprint"], h["audio_fingerprint"]) >= NEAR_DUPLICATE_AUDIO_SIMILARITY
            for h in hidden_media.values())
    public_manifest = [json.loads(line) for line in (synth_dataset.root / "manifest.jsonl").read_text().splitlines()]
    leaks["id"] += sum(r["clip_id"] in pool for r in public_manifest)
    leaks["source"] += sum(f"{r['source_platform']}:{r['source_id']}" in {p["source"] for p in pool.values()} for r in public_manifest)
    assert len(labelled) == 108 + 36 + 112 + 32 and len(public_manifest) == 144
    assert leaks == {"id": 0, "media hash": 0, "source": 0, "fingerprint": 0}


def test_held_out_locations_are_named_by_no_public_file_and_match_the_commitment(synth_dataset):
    labels = synth_dataset.labels_dir
    table = (labels / "heldout_locations.csv").read_bytes()
    held = {line.split(",")[0] for line in table.decode().splitlines()[2:]}
    assert len(held) == 3
    hidden_at = {r["location_id"] for r in pq.read_table(labels / "geo-holdout" / "test.parquet").to_pylist()}
    assert held == hidden_at
    info = json.loads((synth_dataset.root / "build_info.json").read_text())
    assert info["holdout_commitment"] == hashlib.sha256(table).hexdigest()
    assert info["holdout_commitment"] in (synth_dataset.root / "README.md").read_text()
    # No public file names a held-out location: not the card, build_info, the public manifest or any shard.
    public_text = "".join((synth_dataset.root / name).read_text() for name in ("README.md", "build_info.json", "manifest.jsonl"))
    assert not any(location in public_text for location in held)
    for shard in (synth_dataset.root / "data").rglob("*.parquet"):
        assert held.isdisjoint(pq.read_table(shard, columns=["location_id"])["location_id"].to_pylist())
    # The public locations are what the labelled splits show; the held-out ones are not among them.
    public = {json.loads(line)["location_id"] for line in (synth_dataset.root / "manifest.jsonl").read_text().splitlines()}
    assert len(public) == 9 and public.isdisjoint(held) and info["locations"] == 12


def test_the_key_is_secret_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    key, where = load_key(tmp_path)  # none anywhere: a random one, kept with the operator's labels
    assert where.endswith("(new)") and len(key) == 64 and (tmp_path / "holdout.key").stat().st_mode & 0o077 == 0
    assert load_key(tmp_path) == (key, str(tmp_path / "holdout.key"))  # a re-run draws the same
    assert load_key(tmp_path / "other")[0] != key  # another operator, another draw
    monkeypatch.setenv(KEY_ENV, "from-env")
    assert load_key(tmp_path)[0] == b"from-env"
    (tmp_path / "k").write_text("from-file\n")
    assert load_key(tmp_path, tmp_path / "k")[0] == b"from-file"


# Each leak of issue 11, planted in a copy of the build: validate names it and exits 1.


@pytest.fixture
def planted(synth_dataset, tmp_path):
    return copy_dataset(synth_dataset, tmp_path)


def _cli_checks(root: Path) -> dict:
    done = subprocess.run([CLI, "validate", str(root), "--json", "-"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    return json.loads(done.stdout)["violations_by_check"]


def test_cross_protocol_leak_is_caught(planted, synth_dataset):
    """A seen test clip appears, labelled, in geo-holdout train."""
    hidden = pq.read_table(next((planted / "data" / "seen").glob("test-*.parquet"))).to_pylist()[0]
    label = next(r for r in pq.read_table(synth_dataset.labels_dir / "seen" / "test.parquet").to_pylist() if r["clip_id"] == hidden["clip_id"])
    leaked = {**hidden, **{k: v for k, v in label.items() if k in hidden}, "split": "train"}
    rewrite(planted, "geo-holdout", "train", lambda rows: rows.append(leaked))
    assert hidden["clip_id"] in violations(planted)["hidden_clip_labelled"]
    assert "hidden_clip_labelled" in _cli_checks(planted)


def test_manifest_carrying_test_labels_is_caught_and_refused(planted):
    hidden = json.loads((planted.parent / "dataset-hidden-labels" / "manifest-hidden.jsonl").read_text().splitlines()[0])
    with (planted / "manifest.jsonl").open("a") as manifest:
        manifest.write(json.dumps(hidden) + "\n")
    assert violations(planted)["manifest_label_leak"] == {hidden["clip_id"]}
    assert "manifest_label_leak" in _cli_checks(planted)
    with pytest.raises(PublishError, match="lists a hidden clip with location_id, lat, lon"):
        plan(planted)


def test_geo_holdout_val_location_moved_into_train_is_caught(planted):
    moved = []
    rewrite(planted, "geo-holdout", "val", lambda rows: moved.append(rows.pop(0)))
    rewrite(planted, "geo-holdout", "train", lambda rows: rows.append({**moved[0], "split": "train"}))
    assert moved[0]["clip_id"] in violations(planted)["holdout_location_in_train"]
    assert "holdout_location_in_train" in _cli_checks(planted)


def test_coordinates_contradicting_the_hierarchy_in_geo_holdout_are_caught(planted):
    rows = rewrite(planted, "geo-holdout", "val", lambda rows: rows[0].update(country="NZ" if rows[0]["country"] != "NZ" else "FR"))
    assert rows[0]["clip_id"] in violations(planted)["coordinates_contradict_hierarchy"]
    assert "coordinates_contradict_hierarchy" in _cli_checks(planted)


def test_an_extra_column_in_the_test_split_is_caught_and_refused(planted, synth_dataset):
    shard = next((planted / "data" / "seen").glob("test-*.parquet"))
    table = pq.read_table(shard)
    where = {r["clip_id"]: r["location_id"] for r in pq.read_table(synth_dataset.labels_dir / "seen" / "test.parquet").to_pylist()}
    pq.write_table(table.append_column("place", pa.array([where[c] for c in table["clip_id"].to_pylist()])), shard)
    assert violations(planted)["unknown_column"] == {shard.as_posix()}
    assert "unknown_column" in _cli_checks(planted)
    with pytest.raises(PublishError, match="column 'place' is not allowed in a test shard"):
        plan(planted)


def test_a_tampered_held_out_table_breaks_the_commitment(planted):
    table = planted.parent / "dataset-hidden-labels" / "heldout_locations.csv"
    lines = table.read_text().splitlines()
    table.write_text("\n".join(lines[:-1]) + "\n")  # one held-out location dropped
    assert violations(planted)["holdout_commitment"] == {str(table)}
