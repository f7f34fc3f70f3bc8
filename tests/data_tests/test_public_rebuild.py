"""A build from a released dataset's public manifest keeps the splits it publishes.

The public manifest lists the labelled clips, each with its split per configuration. Drawing the
splits again over those clips alone would move clips between train, val and test (on AVG-Synth's
smallest set it fails outright: the labelled clips leave too few sources per location). So a
rebuild takes the published splits, draws nothing, writes no operator file and has empty test splits.
The operator's full manifest (public rows + hidden rows) is drawn with the key, and the splits its
public rows state must come out of that draw.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from avg_bench.data.build import BuildResult, build_dataset, default_labels_dir
from avg_bench.data.build_report import report_of
from avg_bench.data.holdout import HIDDEN_MANIFEST
from avg_bench.data.manifest import ManifestFileError, read_manifest
from avg_bench.data.public import PUBLIC_MANIFEST, read_stated_splits
from avg_bench.data.publish import PublishError, plan
from avg_bench.data.validate import validate
from avg_bench.errors import AvgBenchError
from avg_bench.spec import AVG_V1

REPO = Path(__file__).resolve().parents[2]
ROW = {
    "clip_id": "synth-0123456789", "location_id": "L0001", "source_platform": "file", "source_id": "a",
    "source_uri": "a.mp4", "start_s": 0.0, "end_s": 10.0, "lat": 48.85, "lon": 2.35,
    "coord_source": "centroid", "license": "CC0-1.0",
}


def _write_rows(path: Path, *rows: dict) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _row(i: int, **extra) -> dict:
    return {**ROW, "clip_id": f"synth-{i:010d}", "source_id": f"s{i}", **extra}


# -- fast: reading the splits ----------------------------------------------------------------------


def test_an_operators_manifest_has_no_published_splits(tmp_path):
    assert read_stated_splits(_write_rows(tmp_path / "m.jsonl", _row(1), _row(2))) is None


def test_stated_splits_are_read_per_configuration(tmp_path):
    path = _write_rows(tmp_path / "m.jsonl", _row(1, splits={"seen": "train", "geo-holdout": "val"}),
                       _row(2, splits={"seen": "val"}))
    stated = read_stated_splits(path)
    assert stated is not None and stated.every_row
    assert stated.by_config == {"seen": {"synth-0000000001": "train", "synth-0000000002": "val"},
                                "geo-holdout": {"synth-0000000001": "val"}}
    assert stated.line_of == {"synth-0000000001": 1, "synth-0000000002": 2}
    # The operator's full manifest: the public rows state splits, the hidden rows (appended) none.
    full = _write_rows(tmp_path / "full.jsonl", _row(1, splits={"seen": "train"}), _row(2), _row(3, splits={"seen": "val"}))
    stated = read_stated_splits(full)
    assert stated is not None and not stated.every_row and stated.line_of == {"synth-0000000001": 1, "synth-0000000003": 3}


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        ([_row(1, splits={"seen": "test"})], 1,
         "field 'splits' puts the clip in seen split 'test'; a public manifest lists labelled clips only (train, val)"),
        ([_row(1, splits={"unseen": "train"})], 1, "field 'splits' names configuration 'unseen'; known: seen, geo-holdout"),
        ([_row(1, splits={})], 1, "field 'splits' must map a configuration to its split, found object {}"),
        ([_row(1, splits="train")], 1, 'field \'splits\' must map a configuration to its split, found string "train"'),
    ],
)
def test_bad_published_splits_name_file_and_line(tmp_path, rows, line, message):
    path = _write_rows(tmp_path / "m.jsonl", *rows)
    with pytest.raises(ManifestFileError) as caught:
        read_stated_splits(path)
    assert str(caught.value) == f"{path}:{line}: {message}"


def test_a_public_manifest_with_a_test_split_is_one_error_line_before_any_clip(tmp_path):
    manifest = _write_rows(tmp_path / "m.jsonl", _row(1, splits={"seen": "train"}), _row(2, splits={"seen": "test"}))
    done = subprocess.run([sys.executable, "-m", "avg_bench.cli", "build", str(manifest), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: {manifest}:2: field 'splits' puts the clip in seen split 'test'; a public manifest lists labelled clips "
        "only (train, val)"]
    assert not (tmp_path / "out").exists()


def test_a_public_manifest_refuses_a_holdout_key(tmp_path):
    manifest = _write_rows(tmp_path / "m.jsonl", _row(1, splits={"seen": "train"}))

    def must_not_run(*args, **kwargs):
        raise AssertionError("a clip was processed before the option was refused")

    with pytest.raises(AvgBenchError, match="is a public manifest: .* leave out --holdout-key and --labels-out"):
        build_dataset(manifest, tmp_path / "out", progress=False, process=must_not_run, holdout_key=tmp_path / "key")


def test_publish_refuses_a_rebuild(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "checksums.sha256").write_text("")
    (tmp_path / "build_info.json").write_text(json.dumps({"labelled_only": True}))
    with pytest.raises(PublishError, match="a rebuild from the public manifest holds train and val only"):
        plan(tmp_path)
    (tmp_path / "build_info.json").write_text("{not json")
    with pytest.raises(PublishError, match="build_info.json: not valid JSON"):
        plan(tmp_path)


# -- media: a real rebuild -------------------------------------------------------------------------


def _shard_rows(root: Path) -> dict[tuple[str, str], dict[str, tuple]]:
    """(config, split) -> clip_id -> (location, media hashes), from the shards."""
    found: dict[tuple[str, str], dict[str, tuple]] = {}
    for config in AVG_V1.configs:
        for split in AVG_V1.splits:
            rows = {}
            for shard in sorted((root / "data" / config).glob(f"{split}-*.parquet")):
                for r in pq.read_table(shard, columns=["clip_id", "location_id", "video_sha256", "audio_sha256",
                                                       "keyframe_sha256"]).to_pylist():
                    rows[r["clip_id"]] = (r["location_id"], r["video_sha256"], r["audio_sha256"], tuple(r["keyframe_sha256"]))
            found[(config, split)] = rows
    return found


@pytest.fixture(scope="module")
def released(small_synth, tmp_path_factory) -> tuple[BuildResult, Path]:
    """The operator's build of the small AVG-Synth set, and a copy of its sources (what a user has)."""
    base = tmp_path_factory.mktemp("released")
    original = build_dataset(small_synth, base / "original", name="AVG-Synth", workers=2, progress=False)
    shutil.copytree(small_synth.parent, base / "sources")
    return original, base / "sources"


@pytest.mark.media
def test_a_rebuild_from_the_public_manifest_keeps_the_published_splits(released, small_synth, tmp_path):
    original, sources = released
    public = sources / "public-manifest.jsonl"  # the released manifest.jsonl, beside the sources
    shutil.copyfile(original.out_dir / PUBLIC_MANIFEST, public)
    assert 0 < len(read_manifest(public)) < len(read_manifest(small_synth))

    out = tmp_path / "rebuilt"
    rebuilt = build_dataset(public, out, name="AVG-Synth", workers=2, progress=False)
    assert rebuilt.labelled_only and rebuilt.complete and not original.labelled_only

    before, after = _shard_rows(original.out_dir), _shard_rows(out)
    for config in AVG_V1.configs:
        for split in ("train", "val"):  # the same clips in the same split, with the same media bytes
            assert after[(config, split)] == before[(config, split)], (config, split)
            assert before[(config, split)], (config, split)
        assert after[(config, "test")] == {} and before[(config, "test")]
    assert rebuilt.counts == {c: {**original.counts[c], "test": 0} for c in AVG_V1.configs}
    assert rebuilt.report is not None  # the build report counts clips by their published split, now and on --report
    assert rebuilt.report["coverage"]["split"] == {s: {"ok": n, "total": n} for s, n in original.counts["seen"].items() if s != "test"}
    assert report_of(out)["coverage"] == rebuilt.report["coverage"]
    # The round trip: the rebuild's public manifest is the one it was built from, byte for byte.
    assert (out / PUBLIC_MANIFEST).read_bytes() == public.read_bytes()

    info = json.loads((out / "build_info.json").read_text())
    assert info["labelled_only"] is True and info["holdout_commitment"] is None
    assert "labelled_only" not in json.loads((original.out_dir / "build_info.json").read_text())
    assert not default_labels_dir(out).exists()  # no key drawn, no operator file written
    assert "Rebuilt from the public manifest" in (out / "README.md").read_text()

    report = validate(out)
    assert report.ok, report.problems
    assert any("a rebuild from the public manifest" in note for note in report.notes)
    with pytest.raises(PublishError, match="publish the operator's build instead"):
        plan(out)


@pytest.mark.media
def test_a_hand_moved_clip_is_rebuilt_where_the_file_puts_it(released, tmp_path):
    """The splits come from the file, not from a draw that happens to agree with it.

    (Whether a hand-edited split is sound is validate's verdict, as for any manifest.)
    """
    original, sources = released
    rows = [json.loads(line) for line in (original.out_dir / PUBLIC_MANIFEST).read_text().splitlines()]
    moved = next(r for r in rows if r["splits"].get("seen") == "val")
    moved["splits"]["seen"] = "train"
    public = _write_rows(sources / "moved-manifest.jsonl", *rows)
    build_dataset(public, tmp_path / "rebuilt", name="AVG-Synth", workers=2, progress=False)
    rebuilt = _shard_rows(tmp_path / "rebuilt")
    assert moved["clip_id"] in rebuilt[("seen", "train")] and moved["clip_id"] not in rebuilt[("seen", "val")]


@pytest.mark.media
def test_the_operators_full_manifest_rebuilds_the_release_and_a_disagreeing_split_is_refused(released, tmp_path):
    """manifest.jsonl + manifest-hidden.jsonl is the operator's manifest: drawn with the key, it is the release again."""
    original, sources = released
    full = sources / "full-manifest.jsonl"
    full.write_bytes((original.out_dir / PUBLIC_MANIFEST).read_bytes() + (original.labels_dir / HIDDEN_MANIFEST).read_bytes())
    again = build_dataset(full, tmp_path / "again", name="AVG-Synth", workers=2, progress=False)
    assert not again.labelled_only and again.revision == original.revision
    assert (tmp_path / "again" / "checksums.sha256").read_text() == (original.out_dir / "checksums.sha256").read_text()

    # A stated split the key does not draw (another key, or an edited row) stops the build before any clip.
    rows = [json.loads(line) for line in full.read_text().splitlines()]
    number, edited = next((n, r) for n, r in enumerate(rows, start=1) if r.get("splits", {}).get("seen") == "val")
    edited["splits"]["seen"] = "train"
    disagreeing = _write_rows(sources / "edited-full-manifest.jsonl", *rows)

    def must_not_run(*args, **kwargs):
        raise AssertionError("a clip was processed before the disagreeing split was refused")

    with pytest.raises(AvgBenchError) as caught:
        build_dataset(disagreeing, tmp_path / "edited", name="AVG-Synth", progress=False, process=must_not_run)
    assert str(caught.value) == (
        f"{disagreeing}:{number}: clip {edited['clip_id']} states seen train, the draw gives val (1 stated split(s) differ): "
        "the rows that state splits come from a draw with another key than $AVG_BENCH_HOLDOUT_KEY; build with the "
        "release's --holdout-key")
