"""Every build, local sources included, goes through the per-clip ledger (issue 15, item 1).

A local source is a source that needs no fetch: the same ledger, resume and report as a remote
build; a missing local file is one clear error before any clip is made; and the dataset is the
one the former ledger-less local path made (same bytes, same revision).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from avg_bench.data.build import build_dataset
from avg_bench.data.canonical import CANONICAL
from avg_bench.data.clip_store import save_clip
from avg_bench.data.manifest import read_manifest, resolve_source, write_manifest
from avg_bench.data.public import PUBLIC_MANIFEST
from avg_bench.data.schema import ManifestRecord
from avg_bench.data.validate import validate
from avg_bench.errors import AvgBenchError

#: This checkout's code (``python -m`` from the repository root), whatever the installed ``avg-bench`` points at.
REPO = Path(__file__).resolve().parents[2]


def _ledger_states(out: Path) -> dict[str, str]:
    with sqlite3.connect(out / ".work" / "ledger.sqlite") as db:
        return dict(db.execute("SELECT clip_id, state FROM clips").fetchall())


def _record(i: int, source_uri: str) -> ManifestRecord:
    return ManifestRecord(
        clip_id=f"miss-{hashlib.sha256(str(i).encode()).hexdigest()[:10]}", location_id=f"L000{i % 3 + 1}",
        source_platform="file", source_id=f"src-{i}", source_uri=source_uri, start_s=1.0, end_s=11.0,
        lat=48.8566, lon=2.3522, coord_source="centroid", license="CC0-1.0",
    )


# -- fast: a missing local source ------------------------------------------------------------------


def test_missing_local_sources_are_one_error_before_any_clip_is_made(tmp_path):
    (tmp_path / "here.mp4").write_bytes(b"not looked at")
    records = [_record(0, "here.mp4"), _record(1, "gone.mp4")]
    manifest = tmp_path / "manifest.jsonl"
    write_manifest(records, manifest)
    made = []

    def spy(source, *args, **kwargs):
        made.append(source)
        raise AssertionError("a clip was processed before the missing source was reported")

    with pytest.raises(AvgBenchError) as caught:
        build_dataset(manifest, tmp_path / "out", workers=2, progress=False, process=spy)
    assert made == []
    assert str(caught.value) == f"{manifest}: clip {records[1].clip_id}: source file {tmp_path / 'gone.mp4'} not found"
    assert not (tmp_path / "out" / ".work" / "ledger.sqlite").exists()  # nothing recorded for a build that never ran

    # Many missing: the first five are named, with the count; the CLI prints one error line.
    write_manifest([_record(i, f"gone-{i}.mp4") for i in range(8)], manifest)
    done = subprocess.run([sys.executable, "-m", "avg_bench.cli", "build", str(manifest), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {manifest}: 8 local source files not found: clip ")
    assert lines[0].count("not found") == 6 and lines[0].endswith("; and 3 more")


# -- media: a small AVG-Synth set built through the ledger -----------------------------------------


@pytest.mark.media
def test_local_build_keeps_a_ledger_and_resumes_a_killed_build(small_synth, tmp_path):
    from avg_bench.data.media import process_clip

    out = tmp_path / "dataset"
    first = build_dataset(small_synth, out, name="AVG-Synth", workers=2, progress=False)
    records = read_manifest(small_synth)
    assert first.complete and first.outcome is not None and first.outcome.attempted == 9
    assert _ledger_states(out) == {r.clip_id: "ok" for r in records}
    assert first.report is not None and first.report["states"]["ok"] == 9
    assert json.loads((out / ".work" / "report.json").read_text())["clips"] == 9  # inside .work: never published
    assert validate(out).ok
    checksums = (out / "checksums.sha256").read_text()

    # A kill: one clip folder never finished (gone), another half-made (.partial beside it).
    lost, half = records[0].clip_id, records[1].clip_id
    shutil.rmtree(out / ".work" / "clips" / lost)
    partial = out / ".work" / "clips" / f".{half}.123.partial"
    partial.mkdir()
    (partial / "video.mp4").write_bytes(b"half a clip")
    made = []

    def counting(source, *args, **kwargs):
        made.append(Path(source).name)
        return process_clip(source, *args, **kwargs)

    again = build_dataset(small_synth, out, name="AVG-Synth", workers=2, progress=False, process=counting)
    assert made == [resolve_source(records[0], small_synth).name]  # only the lost clip is made again
    assert again.outcome is not None and again.outcome.attempted == 1 and not partial.exists()
    assert again.revision == first.revision and (out / "checksums.sha256").read_text() == checksums
    assert set(_ledger_states(out).values()) == {"ok"}


@pytest.mark.media
def test_clips_of_the_former_ledgerless_path_are_picked_up_and_the_dataset_is_identical(small_synth, tmp_path):
    """Clips made as the old local path made them (process_clip + save_clip, no ledger) are reused as they are.

    So a build folder from before the ledger resumes, and the ledger path writes the same bytes and revision.
    """
    from avg_bench.data.media import process_clip

    records = read_manifest(small_synth)
    ledger_built = build_dataset(small_synth, tmp_path / "ledger", name="AVG-Synth", workers=2, progress=False)

    old = tmp_path / "old"
    for record in records:  # what avg_bench.data.build._process_all did for each clip
        source = resolve_source(record, small_synth)
        save_clip(process_clip(source, record.start_s, record.end_s, old / ".work" / "clips" / record.clip_id, fmt=CANONICAL))
    assert not (old / ".work" / "ledger.sqlite").exists()

    def must_not_run(*args, **kwargs):
        raise AssertionError("a clip finished without a ledger was processed again")

    picked_up = build_dataset(small_synth, old, name="AVG-Synth", workers=2, progress=False, process=must_not_run)
    assert picked_up.outcome is not None and picked_up.outcome.attempted == 0
    assert _ledger_states(old) == {r.clip_id: "ok" for r in records}
    assert picked_up.revision == ledger_built.revision
    assert (old / "checksums.sha256").read_text() == (tmp_path / "ledger" / "checksums.sha256").read_text()
    for name in ("build_info.json", "README.md", PUBLIC_MANIFEST):
        assert (old / name).read_bytes() == (tmp_path / "ledger" / name).read_bytes(), name


@pytest.mark.media
def test_a_local_source_vanishing_mid_run_fails_its_clip_as_unavailable(small_synth, tmp_path):
    from avg_bench.data.media import process_clip

    sources = tmp_path / "sources"
    shutil.copytree(small_synth.parent, sources)
    manifest = sources / small_synth.name
    records = read_manifest(manifest)
    victim = records[-1]

    def deleting(source, *args, **kwargs):  # the first clip's processing deletes the last clip's file
        resolve_source(victim, manifest).unlink(missing_ok=True)
        return process_clip(source, *args, **kwargs)

    out = tmp_path / "dataset"
    result = build_dataset(manifest, out, name="AVG-Synth", workers=1, progress=False, process=deleting)
    assert not result.complete and result.report is not None
    assert result.report["failures"]["unavailable"]["clip_ids"] == [victim.clip_id]
    assert _ledger_states(out)[victim.clip_id] == "permanent"
    info = json.loads((out / "build_info.json").read_text())
    assert info["missing_clip_ids"] == [victim.clip_id]
    # Re-run: the file is still missing, and a clip still to build needs it: one clear error.
    with pytest.raises(AvgBenchError, match=f"clip {victim.clip_id}: source file .* not found"):
        build_dataset(manifest, out, name="AVG-Synth", workers=1, progress=False)
