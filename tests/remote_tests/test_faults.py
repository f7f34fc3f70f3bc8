"""Every fault of the host lands in its ledger class; the batch survives; a retry after the faults clear
completes the dataset with no clip lost and none duplicated. Also: killed builds resume exactly."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from remote_host import Fault
from remote_tests.helpers_remote import clip_checksums, shard_rows

from avg_bench.data.build import build_dataset
from avg_bench.data.fetch import FetchOptions
from avg_bench.data.manifest import write_manifest
from avg_bench.data.remote import RunOptions

#: fault kind -> the ledger class it must produce
EXPECTED = {
    "404": "unavailable",
    "410": "removed",
    "403": "http_403",
    "429": "http_429",
    "cut": "network",
    "stall": "network",
    "corrupt": "validation_failed",
    "truncated": "validation_failed",
    "empty": "validation_failed",
}
PERMANENT = {"unavailable", "removed"}


def _fault_manifest(synth_sources, host, path: Path) -> tuple[Path, dict[str, str]]:
    """One clip per fault kind, each from its own copy of a source (faults are per path), plus one clean clip."""
    folder = synth_sources.folder / "faulty"
    folder.mkdir(exist_ok=True)
    records, kind_of = [], {}
    for i, kind in enumerate([*EXPECTED, "clean"]):
        template = synth_sources.records[i % len(synth_sources.records)]
        copy = folder / f"{kind}.mp4"
        if not copy.exists():
            shutil.copyfile(synth_sources.folder / template.source_uri, copy)
        clip_id = f"fault-{i:010x}"
        records.append(dataclasses.replace(template, clip_id=clip_id, source_id=f"fault-{kind}",
                                           source_uri=host.url(f"faulty/{kind}.mp4")))
        kind_of[clip_id] = kind
    write_manifest(records, path)
    return path, kind_of


def _ledger(out: Path) -> dict[str, tuple]:
    with sqlite3.connect(out / ".work" / "ledger.sqlite") as db:
        return {row[0]: row[1:] for row in db.execute("SELECT clip_id, state, error_class, error, attempts FROM clips")}


def test_each_fault_lands_in_its_class_and_a_retry_completes(synth_sources, clean_host, tmp_path):
    manifest, kind_of = _fault_manifest(synth_sources, clean_host, tmp_path / "faults.jsonl")
    for kind in EXPECTED:
        clean_host.fault(f"faulty/{kind}.mp4", Fault(kind, retry_after=1, stall_s=60))
    options = RunOptions(workers=2, requests_per_minute=0, retries=1, backoff_base_s=0.05,
                         fetch=FetchOptions(stall_s=5, timeout_s=60, socket_timeout_s=5))
    began = time.monotonic()
    first = build_dataset(manifest, tmp_path / "out", name="AVG-Synth", progress=False, run_options=options)
    assert not first.complete
    ledger = _ledger(tmp_path / "out")
    for clip_id, (state, error_class, error, attempts) in ledger.items():
        kind = kind_of[clip_id]
        if kind == "clean":
            assert (state, error_class) == ("ok", None)
            continue
        assert error_class == EXPECTED[kind], (kind, error)
        assert state == ("permanent" if error_class in PERMANENT else "retryable"), kind
        assert attempts == (1 if error_class in PERMANENT else 2), kind  # retryable ones retried once in-run
    assert "stalled" in ledger[next(c for c, k in kind_of.items() if k == "stall")][2]
    assert time.monotonic() - began >= 1.0  # the 429's Retry-After: 1 was honoured before its retry
    # The dataset written so far holds exactly the clean clip (in seen, or in geo-holdout test when its
    # location is held out: then it is in no seen split).
    clean = next(c for c, k in kind_of.items() if k == "clean")
    assert {r["clip_id"] for rows in shard_rows(tmp_path / "out").values() for r in rows} == {clean}

    # A plain re-run retries nothing; --retry-failed without classes leaves the permanent ones.
    clean_host.clear_faults()
    # From here no fault stalls: a generous watchdog keeps a loaded machine from looking like one.
    options = dataclasses.replace(options, fetch=FetchOptions(stall_s=60, timeout_s=120))
    again = build_dataset(manifest, tmp_path / "out", name="AVG-Synth", progress=False, run_options=options)
    assert again.outcome.attempted == 0
    retry = dataclasses.replace(options, retry_failed=True)
    second = build_dataset(manifest, tmp_path / "out", name="AVG-Synth", progress=False, run_options=retry)
    assert second.report["states"] == {"ok": 8, "pending": 0, "retryable": 0, "permanent": 2}
    # Naming the permanent classes retries them too (a video that came back).
    third = build_dataset(manifest, tmp_path / "out", name="AVG-Synth", progress=False,
                          run_options=dataclasses.replace(retry, classes=("unavailable", "removed")))
    assert third.complete, third.report["failures"]
    ledger = _ledger(tmp_path / "out")
    assert sorted(ledger) == sorted(kind_of) and all(row[0] == "ok" for row in ledger.values())
    by_config = {config: [r["clip_id"] for (c, _), rs in shard_rows(tmp_path / "out").items() if c == config for r in rs]
                 for config in ("seen", "geo-holdout")}
    assert all(len(ids) == len(set(ids)) for ids in by_config.values())  # none duplicated ...
    assert set(by_config["seen"]) | set(by_config["geo-holdout"]) == set(kind_of)  # ... none lost


def test_in_run_retry_recovers_from_a_passing_429(synth_sources, clean_host, tmp_path):
    """The clip stage alone (no shards): one clip whose host says 429 once, then serves it."""
    from avg_bench.data.canonical import CANONICAL
    from avg_bench.data.media import process_clip
    from avg_bench.data.remote import run_clips

    record = synth_sources.records[0]
    remote = dataclasses.replace(record, source_uri=clean_host.url(record.source_uri))
    clean_host.fault(record.source_uri, Fault("429", times=1, retry_after=1))
    options = RunOptions(workers=1, requests_per_minute=0, retries=2, backoff_base_s=0.05,
                         fetch=FetchOptions(stall_s=30, timeout_s=120))
    began = time.monotonic()
    outcome = run_clips([remote], tmp_path / "m.jsonl", tmp_path / "out", process=process_clip, fmt=CANONICAL,
                        options=options, progress=False)
    assert outcome.complete and time.monotonic() - began >= 1.0  # waited for Retry-After
    assert _ledger(tmp_path / "out")[record.clip_id][3] == 2  # attempts: the 429, then success


def test_bot_check_pauses_every_worker_with_advice(synth_sources, clean_host, tmp_path):
    manifest = tmp_path / "bot.jsonl"
    records = [dataclasses.replace(r, source_uri=clean_host.url(r.source_uri)) for r in synth_sources.records]
    write_manifest(records, manifest)
    clean_host.fault(records[0].source_uri.split("/", 3)[3], Fault("bot"))
    before = dict(clean_host.requests)
    command = [str(Path(sys.executable).parent / "avg-bench"), "build", str(manifest), "--out", str(tmp_path / "out"),
               "--workers", "1", "--rate", "0", "--name", "AVG-Synth"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 1, done.stderr
    assert "bot check" in done.stdout and "--cookies" in done.stdout and "Traceback" not in done.stderr
    ledger = _ledger(tmp_path / "out")
    assert ledger[records[0].clip_id][:2] == ("retryable", "bot_check")
    assert all(ledger[r.clip_id][0] == "pending" for r in records[1:])  # nobody went on
    touched = {p for p in clean_host.requests if clean_host.requests[p] != before.get(p, 0)}
    assert touched == {"/" + records[0].source_uri.split("/", 3)[3]}
    # The report, any time later, from the ledger.
    shown = subprocess.run([str(Path(sys.executable).parent / "avg-bench"), "build", "--report", str(tmp_path / "out"), "--json"],
                           capture_output=True, text=True, timeout=120)
    report = json.loads(shown.stdout)
    assert report["states"] == {"ok": 0, "pending": 8, "retryable": 1, "permanent": 0}
    assert report["failures"]["bot_check"]["clip_ids"] == [records[0].clip_id]
    assert sum(cell["total"] for cell in report["coverage"]["continent"].values()) == 9


def test_killed_builds_resume_to_an_identical_dataset(synth_sources, local_build, remote_manifest_path, tmp_path):
    out = tmp_path / "out"
    command = [str(Path(sys.executable).parent / "avg-bench"), "build", str(remote_manifest_path), "--out", str(out),
               "--workers", "2", "--rate", "0", "--name", "AVG-Synth"]
    ok: set[str] = set()
    for _ in range(3):
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        # Kill as soon as this run has finished one more clip: mid-build, with other clips in flight.
        done_before = len(ok)
        deadline = time.monotonic() + 120
        while len(_ok_clips(out)) <= done_before and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.poll() is None, "the build ended before the kill: the test did not interrupt it"
        os.killpg(child.pid, signal.SIGKILL)  # the whole job: Python, yt-dlp and ffmpeg children
        child.wait()
        ok = _ok_clips(out)
        assert done_before < len(ok) < 9, (done_before, len(ok))  # progress made, build unfinished
        # Nothing counts as done without its complete clip folder.
        for clip_id in ok:
            meta = json.loads((out / ".work" / "clips" / clip_id / "clip.json").read_text())
            assert (out / ".work" / "clips" / clip_id / meta["video"]).is_file()
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert clip_checksums(out) == clip_checksums(local_build.out_dir)
    assert shard_rows(out) == shard_rows(local_build.out_dir)
    with sqlite3.connect(out / ".work" / "ledger.sqlite") as db:
        assert db.execute("SELECT count(*), count(DISTINCT clip_id), sum(state='ok') FROM clips").fetchone() == (9, 9, 9)


def _ok_clips(out: Path) -> set[str]:
    """Clips the ledger records as done (none before the ledger exists)."""
    ledger = out / ".work" / "ledger.sqlite"
    if not ledger.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=5) as db:
            return {r[0] for r in db.execute("SELECT clip_id FROM clips WHERE state='ok'")}
    except sqlite3.OperationalError:  # created but its table not yet: nothing done
        return set()
