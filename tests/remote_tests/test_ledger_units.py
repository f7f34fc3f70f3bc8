"""The ledger, the error classes, the politeness parts and the test host, on their own (fast)."""

from __future__ import annotations

import random
import urllib.request

import pytest
from remote_host import Fault, VideoHost

from avg_bench.data.failures import classify_message, parse_classes
from avg_bench.data.ledger import Ledger
from avg_bench.data.politeness import CircuitBreaker, RateLimiter, backoff_delay
from avg_bench.errors import AvgBenchError


def test_ledger_states_requeue_and_reconcile(tmp_path):
    clips = tmp_path / "clips"
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ledger.add([("a", "s:1"), ("b", "s:1"), ("c", "s:2"), ("d", "s:3")])
        ledger.add([("a", "s:1")])  # known clips keep their row
        ledger.start("a"); ledger.mark_failed("a", "http_429", "slow down")
        ledger.start("b"); ledger.mark_failed("b", "unavailable", "gone")
        ledger.start("c"); ledger.mark_ok("c", fetch_s=1.0, process_s=2.0, download_bytes=10, output_bytes=5,
                                          video_sha256="v", audio_sha256="a")
        assert ledger.states() == {"a": "retryable", "b": "permanent", "c": "ok", "d": "pending"}
        # c is ok but its clip.json is gone (deleted by hand): back to pending; d's clip.json appeared: ok.
        (clips / "d").mkdir(parents=True)
        (clips / "d" / "clip.json").write_text("{}")
        assert ledger.reconcile(clips) == (1, 1)
        assert ledger.states()["c"] == "pending" and ledger.states()["d"] == "ok"
        assert ledger.requeue() == 1 and ledger.states()["b"] == "permanent"  # permanent stays
        assert ledger.requeue(("unavailable",)) == 1 and ledger.states()["b"] == "pending"
        assert [r.attempts for r in ledger.rows(["a", "b"])] == [1, 1]


def test_ledger_merge_prefers_ok_rows(tmp_path):
    with Ledger(tmp_path / "one.sqlite") as one, Ledger(tmp_path / "two.sqlite") as two:
        one.add([("a", "s"), ("b", "s")])
        two.add([("a", "s"), ("b", "s")])
        one.start("a"); one.mark_ok("a", fetch_s=None, process_s=None, download_bytes=None, output_bytes=None, video_sha256="v", audio_sha256="")
        two.start("a"); two.mark_failed("a", "network", "cut")
        two.start("b"); two.mark_ok("b", fetch_s=None, process_s=None, download_bytes=None, output_bytes=None, video_sha256="w", audio_sha256="")
        one.merge_from(two)
        assert one.states() == {"a": "ok", "b": "ok"}


def test_error_classes():
    assert classify_message("HTTP error 403 Forbidden") == "http_403"
    assert classify_message("ERROR: [youtube] x: Private video. Sign in if you've been granted access") == "private"
    assert classify_message("The uploader has not made this video available in your country") == "geo_blocked"
    assert classify_message("Sign in to confirm your age. This video may be inappropriate for some users.") == "age_gated"
    assert classify_message("Stream ends prematurely at 4096, should be 486697") == "network"
    assert classify_message("something new") == "network"
    assert parse_classes("retryable,unavailable")[-1] == "unavailable"
    assert parse_classes("http-429") == ("http_429",)
    with pytest.raises(AvgBenchError, match="unknown error class 'nope'"):
        parse_classes("nope")


def test_rate_limiter_spaces_requests_across_callers():
    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(120, clock=lambda: now[0], sleep=sleep)  # one every 0.5 s
    for _ in range(4):
        limiter.acquire()
    assert slept == pytest.approx([0.5, 0.5, 0.5])
    assert RateLimiter(0).acquire() == 0.0


def test_a_host_pause_and_the_request_ceiling_hold_every_caller():
    now = [100.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(0, host_requests_per_minute=3, clock=lambda: now[0], sleep=sleep)
    limiter.hold("a.example", 6.0)  # a 429 with Retry-After: 6
    assert limiter.acquire("b.example") == 0.0  # other hosts are not paused
    assert limiter.acquire("a.example") == pytest.approx(6.0) and limiter.paused_for("a.example") == 0.0
    limiter.count("a.example", 3)  # three HTTP requests (one section download) at t = 106
    now[0] += 10.0
    assert limiter.acquire("a.example") == pytest.approx(50.0)  # until the oldest is a minute old
    limiter.count("b.example", 2)
    assert limiter.acquire("b.example") == 0.0  # 2 < 3


def test_backoff_grows_with_jitter_and_honours_retry_after():
    rng = random.Random(1)
    delays = [backoff_delay(k, base_s=1, cap_s=100, rng=rng) for k in (1, 2, 3, 4)]
    assert all(2 ** (k - 1) <= d < 1.5 * 2 ** (k - 1) for k, d in zip((1, 2, 3, 4), delays))
    assert backoff_delay(10, base_s=1, cap_s=30, rng=rng) < 45
    assert backoff_delay(1, base_s=1, cap_s=300, retry_after_s=120, rng=rng) >= 120


def test_breaker_opens_once():
    breaker = CircuitBreaker()
    assert not breaker.wait(0.01)
    breaker.trip("a", "bot"); breaker.trip("b", "other")
    assert breaker.is_open and breaker.clip_id == "a" and breaker.wait(5)


def test_host_honours_range_and_faults(tmp_path):
    (tmp_path / "f.bin").write_bytes(bytes(range(256)) * 4)
    with VideoHost(tmp_path) as host:
        def get(headers=None):
            request = urllib.request.Request(host.url("f.bin"), headers=headers or {})
            with urllib.request.urlopen(request) as response:
                return response.status, response.headers.get("Content-Range"), response.read()

        assert get({"Range": "bytes=10-19"}) == (206, "bytes 10-19/1024", bytes(range(10, 20)))
        assert get({"Range": "bytes=-4"}) == (206, "bytes 1020-1023/1024", bytes(range(252, 256)))
        assert get()[0] == 200 and len(get()[2]) == 1024
        with pytest.raises(urllib.error.HTTPError) as caught:
            get({"Range": "bytes=5000-"})
        assert caught.value.code == 416
        host.fault("f.bin", Fault("429", times=1, retry_after=7))
        with pytest.raises(urllib.error.HTTPError) as caught:
            get()
        assert caught.value.code == 429 and caught.value.headers["Retry-After"] == "7"
        assert get()[0] == 200  # the fault held for one request only
        host.fault("f.bin", Fault("no_range"))
        assert get({"Range": "bytes=10-19"})[0] == 200  # like http.server: the whole file
