"""The six fault paths of issue 13, each on the loopback host: a slow but steady transfer, a host-wide
Retry-After pause, --timeout around extraction, a corrupt moov and a bot page at the video URL, clips
waiting out a 429 when the breaker opens, and half-made clip folders left by a kill."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import time
from pathlib import Path

from remote_host import Fault

from avg_bench.data.canonical import CANONICAL
from avg_bench.data.fetch import FetchOptions
from avg_bench.data.ledger import Ledger
from avg_bench.data.media import process_clip
from avg_bench.data.remote import RunOptions, run_clips


def _copies(synth_sources, host, names: list[str]):
    """One clip per name, each from its own copy of a source (faults are per path)."""
    folder = synth_sources.folder / "paths"
    folder.mkdir(exist_ok=True)
    records = []
    for i, name in enumerate(names):
        template = synth_sources.records[i % len(synth_sources.records)]
        copy = folder / f"{name}.mp4"
        if not copy.exists():
            shutil.copyfile(synth_sources.folder / template.source_uri, copy)
        records.append(dataclasses.replace(template, clip_id=f"path-{name}", source_id=f"path-{name}",
                                           source_uri=host.url(f"paths/{name}.mp4")))
    return records


def _run(records, out: Path, **options):
    fetch = options.pop("fetch", FetchOptions(stall_s=30, timeout_s=120))
    settings = {"workers": 1, "requests_per_minute": 0, "retries": 0, "backoff_base_s": 0.05, **options}
    return run_clips(records, out / "m.jsonl", out, process=process_clip, fmt=CANONICAL,
                     options=RunOptions(fetch=fetch, **settings), progress=False)


def _ledger(out: Path) -> dict[str, tuple]:
    with sqlite3.connect(out / ".work" / "ledger.sqlite") as db:
        return {row[0]: row[1:] for row in db.execute("SELECT clip_id, state, error_class, error, attempts FROM clips")}


def test_slow_but_steady_transfer_is_not_a_stall(synth_sources, clean_host, tmp_path):
    """Item 1: at 50 KB/s the output file does not grow for 2 s (ffmpeg writes ~256 KiB bursts), but bytes arrive."""
    [record] = _copies(synth_sources, clean_host, ["slow"])
    clean_host.fault("paths/slow.mp4", Fault("slow", rate_bps=50_000, ranged_only=True))
    began = time.monotonic()
    outcome = _run([record], tmp_path, fetch=FetchOptions(stall_s=2, timeout_s=120))
    assert outcome.complete, _ledger(tmp_path)
    assert time.monotonic() - began > 3  # it really was slower than the watchdog's 2 s
    # A real stall still ends at the watchdog.
    [stalled] = _copies(synth_sources, clean_host, ["stalls"])
    clean_host.fault("paths/stalls.mp4", Fault("stall", stall_s=60, ranged_only=True))
    began = time.monotonic()
    outcome = _run([stalled], tmp_path / "b", fetch=FetchOptions(stall_s=2, timeout_s=120))
    assert time.monotonic() - began < 30
    state, error_class, error, _ = _ledger(tmp_path / "b")[stalled.clip_id]
    assert (state, error_class) == ("retryable", "network") and "stalled" in error


def test_retry_after_pauses_the_host_for_every_worker(synth_sources, clean_host, tmp_path):
    """Item 2: a 429 on the video download (Retry-After: 3) holds every worker off the host for 3 s."""
    records = _copies(synth_sources, clean_host, ["r429", "ra", "rb", "rc"])
    path = "/paths/r429.mp4"
    clean_host.fault(path, Fault("429", times=2, retry_after=3, ranged_only=True))  # the section, then the HEAD
    outcome = _run(records, tmp_path, workers=2, retries=1)
    assert outcome.complete, _ledger(tmp_path)
    log = list(clean_host.log)
    refused = [t for t, p, status in log if status == 429]
    assert len(refused) == 2
    paused_from = refused[-1]
    # Every fetch that started after the 429 (a source's first request) waited out the pause...
    first_seen: dict[str, float] = {}
    for t, p, _ in log:
        first_seen.setdefault(p, t)
    later = [t for p, t in first_seen.items() if t > paused_from]
    assert later and min(later) >= paused_from + 3 - 0.05
    # ...and so did the refused clip's own retry (issue: it came after 2.56 s, not 6).
    again = [t for t, p, status in log if p == path and t > paused_from]
    assert again and min(again) >= paused_from + 3 - 0.05
    assert _ledger(tmp_path)["path-r429"][3] == 2


def test_timeout_bounds_the_info_extraction(synth_sources, clean_host, tmp_path):
    """Item 3: a page dripped at 10 bytes/s (200 bytes: 20 s) ends at --timeout 3."""
    [record] = _copies(synth_sources, clean_host, ["drip"])
    clean_host.fault("paths/drip.mp4", Fault("drip", rate_bps=10))
    began = time.monotonic()
    _run([record], tmp_path, fetch=FetchOptions(stall_s=2, timeout_s=3))
    took = time.monotonic() - began
    state, error_class, error, _ = _ledger(tmp_path)[record.clip_id]
    assert (state, error_class) == ("retryable", "network") and "--timeout" in error
    assert took < 10, took


def test_corrupt_moov_and_bot_page_at_the_video_url_get_their_classes(synth_sources, clean_host, tmp_path):
    """Item 4: a corrupt moov is validation_failed (was network); a bot page served for the section is
    bot_check (was validation_failed) and opens the breaker: the next clip is not attempted."""
    records = _copies(synth_sources, clean_host, ["moov", "botpage", "after"])
    clean_host.fault("paths/moov.mp4", Fault("bad_moov", ranged_only=True))
    clean_host.fault("paths/botpage.mp4", Fault("bot", ranged_only=True))  # extraction fine, the video is a page
    outcome = _run(records, tmp_path)
    ledger = _ledger(tmp_path)
    assert ledger["path-moov"][:2] == ("retryable", "validation_failed"), ledger["path-moov"]
    assert ledger["path-botpage"][:2] == ("retryable", "bot_check"), ledger["path-botpage"]
    assert outcome.breaker and ledger["path-after"][0] == "pending"
    assert clean_host.requests.get("/paths/after.mp4", 0) == 0


def test_a_clip_waiting_out_a_429_when_the_breaker_opens_is_filed_as_bot_check(synth_sources, clean_host, tmp_path):
    """Item 5: the printed advice (--retry-failed --classes bot_check) must catch every clip the breaker stopped."""
    records = _copies(synth_sources, clean_host, ["wait429", "fine", "bot"])
    # The 429 pauses the host (4 s) for both workers; the bot check comes when the pause ends, while
    # the first worker waits to retry (and gets 429 again, as long as it keeps trying).
    clean_host.fault("paths/wait429.mp4", Fault("429", retry_after=4, ranged_only=True))
    clean_host.fault("paths/bot.mp4", Fault("bot"))
    outcome = _run(records, tmp_path, workers=2, retries=20, backoff_cap_s=4)
    ledger = _ledger(tmp_path)
    assert outcome.breaker and ledger["path-bot"][:2] == ("retryable", "bot_check")
    state, error_class, error, _ = ledger["path-wait429"]
    assert (state, error_class) == ("retryable", "bot_check") and "http_429" in error
    with Ledger(tmp_path / ".work" / "ledger.sqlite") as book:
        book.requeue(("bot_check",))
        states = book.states()
    assert states["path-wait429"] == states["path-bot"] == "pending"


def test_resume_removes_half_made_clip_folders(synth_sources, clean_host, tmp_path):
    """Item 6: a kill leaves hidden .partial folders (empty ones too); the next run removes them."""
    [record] = _copies(synth_sources, clean_host, ["resume"])
    clips = tmp_path / ".work" / "clips"
    for name in (".path-resume.1a2b3c4d.partial", ".path-other.0badc0de.partial", ".path-resume.00ff00ff.old"):
        (clips / name).mkdir(parents=True)
    (clips / ".path-other.0badc0de.partial" / "clip.mp4").write_bytes(b"half")
    outcome = _run([record], tmp_path)
    assert outcome.complete
    assert sorted(p.name for p in clips.iterdir()) == ["path-resume"]
