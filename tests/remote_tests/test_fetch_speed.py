"""What made the remote build faster keeps every answer it gave before (issue 13).

* the section check reads the MP4's own ``moov`` (no ffprobe start-up) and agrees with ffprobe;
* yt-dlp extractors are reused, a failed one never is;
* a download child's exit is seen through its pidfd, with the same exit codes;
* the next clip's section is fetched while the current one is cut (:class:`FetchAhead`), never
  before the current fetch succeeded, so a bot check still stops the build before the next clip's
  first request.
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import subprocess
import threading
import time

import pytest
from remote_host import BOT_PAGE, Fault
from remote_tests.helpers_remote import clip_checksums

from avg_bench.data import fetch
from avg_bench.data.ahead import FetchAhead
from avg_bench.data.canonical import CANONICAL
from avg_bench.data.failures import ClipFailure
from avg_bench.data.fetch import FetchOptions, download_section, source_info
from avg_bench.data.media import probe, process_clip
from avg_bench.data.mp4_header import read_mp4_header
from avg_bench.data.politeness import RateLimiter
from avg_bench.data.remote import RunOptions, run_clips

OPTIONS = FetchOptions(stall_s=30, timeout_s=120)


# -- the moov reader --------------------------------------------------------------------------


def test_moov_reader_agrees_with_ffprobe_on_sources_and_sections(synth_sources, clean_host, tmp_path):
    record = synth_sources.records[0]
    source = synth_sources.folder / record.source_uri
    info = source_info(clean_host.url(record.source_uri), record.source_key, tmp_path / "sources", OPTIONS, RateLimiter(0))
    files = [source]
    for start in (0.0, 0.7, 2.5):  # from the first frame, mid-GOP, near the end (the section is cut short there)
        files.append(download_section(info, start, start + 10, tmp_path / f"dl-{start}", OPTIONS, RateLimiter(0)).path)
    for path in files:
        header, probed = read_mp4_header(path), probe(path)
        assert header is not None, path
        assert header.duration_s == pytest.approx(probed.duration_s, abs=1e-3), path
        assert header.handlers == ("vide", "soun") and header.has_video == probed.has_video


@pytest.mark.media
def test_moov_reader_refuses_what_it_does_not_understand(tmp_path):
    audio = tmp_path / "tone.m4a"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=d=1.5", "-c:a", "aac", str(audio)], check=True)
    header = read_mp4_header(audio)
    assert header is not None and header.handlers == ("soun",) and not header.has_video
    assert header.duration_s == pytest.approx(probe(audio).duration_s, abs=1e-3)
    data = audio.read_bytes()
    planted = {
        "empty": b"",
        "page": BOT_PAGE,  # a bot check instead of the video
        "cut": data[: len(data) - 40],  # the moov (written last) overruns the file
        "zeros": data[:8] + b"\0" * (len(data) - 8),  # the boxes no longer tile the file
    }
    for name, body in planted.items():
        (tmp_path / name).write_bytes(body)
        assert read_mp4_header(tmp_path / name) is None, name
    # An audio-only section is still refused by the section check, as ffprobe's answer was.
    with pytest.raises(ClipFailure) as caught:
        fetch._check_covers(audio, 0.0, 1.0, 0.0, {"duration": 1.5}, "")
    assert caught.value.error_class == "validation_failed" and "no video" in str(caught.value)


# -- extractors --------------------------------------------------------------------------------


def test_extractors_are_reused_and_a_failed_one_is_not(synth_sources, clean_host, monkeypatch, tmp_path):
    import yt_dlp

    made = []

    class Counting(yt_dlp.YoutubeDL):
        def __init__(self, *args, **kwargs):
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(yt_dlp, "YoutubeDL", Counting)
    monkeypatch.setattr(fetch, "_idle_extractors", {})
    urls = [clean_host.url(r.source_uri) for r in synth_sources.records[:3]]
    infos = [fetch._extract_info(url, OPTIONS, RateLimiter(0)) for url in urls]
    assert len(made) == 1
    assert [info["url"] for info in infos] == urls  # each answer is its own video's
    with pytest.raises(ClipFailure) as caught:
        fetch._extract_info(clean_host.url("missing.mp4"), OPTIONS, RateLimiter(0))
    assert caught.value.error_class == "unavailable"
    assert fetch._extract_info(urls[0], OPTIONS, RateLimiter(0))["url"] == urls[0]
    assert len(made) == 2  # the failed extractor was closed, a new one made


# -- child exit --------------------------------------------------------------------------------


@pytest.mark.parametrize("pidfd", [True, False])
def test_child_exit_codes_through_pidfd_and_without(pidfd):
    quick = subprocess.Popen(["sh", "-c", "exit 3"])
    slow = subprocess.Popen(["sleep", "30"])
    signals = [fetch._exit_signal(child) if pidfd else None for child in (quick, slow)]
    try:
        if pidfd:
            assert None not in signals
        assert fetch._wait_exit(quick, signals[0], 30.0) == 3
        assert fetch._wait_exit(slow, signals[1], 0.05) is None
    finally:
        slow.kill()
        slow.wait()
        for fd in signals:
            if fd is not None:
                import os

                os.close(fd)


# -- fetching ahead ----------------------------------------------------------------------------


def _ahead(fetched: list, discarded: list, allowed=lambda: True, fail: str | None = None, gate: threading.Event | None = None):
    def fetch_one(item: str) -> str:
        if gate is not None:
            gate.wait(30)
        fetched.append(item)
        if item == fail:
            raise ClipFailure("network", f"{item} broke")
        return item.upper()

    return FetchAhead(fetch_one, discard=discarded.append, may_start=allowed, key=lambda item: item)


def _started(fetched: list, count: int) -> None:
    """Wait until ``count`` fetches have started (a fetch claimed before it starts is cancelled: the worker fetches)."""
    for _ in range(3000):
        if len(fetched) >= count:
            return
        time.sleep(0.01)


def test_fetch_ahead_takes_the_next_unclaimed_item_one_at_a_time():
    fetched, discarded = [], []
    ahead = _ahead(fetched, discarded)
    ahead.plan(["a", "b", "c", "d"])
    assert ahead.claim("a") is None  # nothing fetched ahead yet: the worker fetches a itself
    ahead.start_next()
    ahead.start_next()  # one ahead at a time: c is not started
    _started(fetched, 1)
    assert ahead.claim("b").result(30) == "B"
    assert ahead.claim("c") is None  # c was never fetched ahead...
    ahead.start_next()
    _started(fetched, 2)
    assert ahead.claim("d").result(30) == "D"  # ...so the next fetch ahead skipped it
    ahead.start_next()  # nothing left
    ahead.close()
    assert fetched == ["b", "d"] and discarded == []


def test_fetch_ahead_hands_over_failures_and_stops_when_told():
    fetched, discarded = [], []
    allowed = threading.Event()
    allowed.set()
    ahead = _ahead(fetched, discarded, allowed=allowed.is_set, fail="b")
    ahead.plan(["a", "b", "c", "d"])
    ahead.claim("a")
    ahead.start_next()
    _started(fetched, 1)
    with pytest.raises(ClipFailure, match="b broke"):
        ahead.claim("b").result(30)
    allowed.clear()  # the breaker opened
    ahead.start_next()
    assert ahead.claim("c") is None
    ahead.close()
    assert fetched == ["b"]


def test_fetch_ahead_discards_what_nobody_claimed():
    fetched, discarded = [], []
    gate = threading.Event()
    ahead = _ahead(fetched, discarded, gate=gate)
    ahead.plan(["a", "b"])
    ahead.claim("a")
    ahead.start_next()  # b is in flight when the run ends
    gate.set()
    ahead.close()
    assert fetched == ["b"] and discarded == ["B"]


def test_one_worker_cuts_while_the_next_section_arrives_and_stops_at_a_bot_check(synth_sources, local_build, clean_host, tmp_path):
    """With one worker, the next clip's first request comes while the current clip is cut; a bot check
    found ahead still stops the build before the clip after it is asked for."""
    folder = synth_sources.folder / "ahead"
    folder.mkdir(exist_ok=True)
    records = []
    for i, name in enumerate(["fine", "bot", "after"]):
        template = synth_sources.records[i]
        shutil.copyfile(synth_sources.folder / template.source_uri, folder / f"{name}.mp4")
        records.append(dataclasses.replace(template, clip_id=f"ahead-{name}", source_id=f"ahead-{name}",
                                           source_uri=clean_host.url(f"ahead/{name}.mp4")))
    clean_host.fault("ahead/bot.mp4", Fault("bot"))
    seen_during_cut = {}

    def watched_process(source, start, end, out_dir, **kwargs):
        # The cut of the first clip lasts until the next clip's first request arrives (or 30 s pass):
        # fetched ahead, it arrives while this cut runs; fetched after it, only once this cut gives up.
        for _ in range(300):
            if out_dir.name != "ahead-fine" or clean_host.requests.get("/ahead/bot.mp4"):
                break
            time.sleep(0.1)
        seen_during_cut[out_dir.name] = clean_host.requests.get("/ahead/bot.mp4", 0)
        return process_clip(source, start, end, out_dir, **kwargs)

    options = RunOptions(workers=1, requests_per_minute=0, retries=0, fetch=OPTIONS)
    outcome = run_clips(records, tmp_path / "m.jsonl", tmp_path, process=watched_process, fmt=CANONICAL, options=options,
                        progress=False)
    with sqlite3.connect(tmp_path / ".work" / "ledger.sqlite") as db:
        states = dict(db.execute("SELECT clip_id, state || ' ' || coalesce(error_class, '') FROM clips"))
    assert states == {"ahead-fine": "ok ", "ahead-bot": "retryable bot_check", "ahead-after": "pending "}
    assert outcome.breaker and clean_host.requests.get("/ahead/after.mp4", 0) == 0
    # The bot page was asked for while the first clip was cut (once or more: the fetch may already
    # have made its next request by the time the count is read).
    assert list(seen_during_cut) == ["ahead-fine"] and seen_during_cut["ahead-fine"] >= 1
    # The clip cut beside a fetch ahead is the local build's clip, bit for bit.
    local_id = synth_sources.records[0].clip_id
    assert clip_checksums(tmp_path)["ahead-fine"] == clip_checksums(local_build.out_dir)[local_id]
