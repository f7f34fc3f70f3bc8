"""Remote builds through real yt-dlp and ffmpeg from the loopback host equal the local-file build."""

from __future__ import annotations

import sqlite3

import pytest
from remote_tests.helpers_remote import clip_checksums, hidden_labels, shard_rows

from avg_bench.data.build import build_dataset
from avg_bench.data.fetch import FetchOptions
from avg_bench.data.remote import RunOptions, shard_of

FAST = RunOptions(workers=2, requests_per_minute=0, backoff_base_s=0.05, fetch=FetchOptions(stall_s=5, timeout_s=120))


def test_remote_build_equals_local_build(synth_sources, local_build, remote_manifest_path, clean_host, tmp_path):
    out = tmp_path / "remote"
    result = build_dataset(remote_manifest_path, out, name="AVG-Synth", progress=False, run_options=FAST)
    assert result.complete and result.report["states"] == {"ok": 9, "pending": 0, "retryable": 0, "permanent": 0}
    # Same clips, bit-identical canonical video, soundtrack and keyframes (stream copy + exact cut).
    local = clip_checksums(local_build.out_dir)
    assert len(local) == 9 and clip_checksums(out) == local
    assert shard_rows(out) == shard_rows(local_build.out_dir)
    assert hidden_labels(result.labels_dir) == hidden_labels(local_build.labels_dir)
    assert result.counts == local_build.counts
    # Same clips, same dataset: byte-identical shards and the same revision, though every URI differs.
    assert result.revision == local_build.revision
    assert (out / "checksums.sha256").read_text() == (local_build.out_dir / "checksums.sha256").read_text()
    # Only sections were fetched, by Range: every media request asked for a range.
    media_requests = [r for path, r in clean_host.ranges if path.endswith(".mp4")]
    assert media_requests and sum(r is not None for r in media_requests) >= 9
    downloaded = result.report["sizes"]["download_bytes"]
    assert 0 < downloaded
    # One info extraction per source video, cached beside the ledger.
    assert len(list((out / ".work" / "sources").glob("*.info.json"))) == 9
    # The ledger has one ok row per clip, with sizes and checksums.
    with sqlite3.connect(out / ".work" / "ledger.sqlite") as db:
        rows = db.execute("SELECT clip_id, state, attempts, video_sha256, download_bytes FROM clips").fetchall()
    assert sorted(r[0] for r in rows) == sorted(local)
    assert all(r[1] == "ok" and r[2] == 1 and r[3] == local[r[0]][0] and r[4] > 0 for r in rows)

    # Re-running redoes nothing, and asks the host for nothing.
    before = dict(clean_host.requests)
    again = build_dataset(remote_manifest_path, out, name="AVG-Synth", progress=False, run_options=FAST)
    assert again.complete and again.outcome.attempted == 0
    assert clean_host.requests == before  # not one request to the host


def test_shards_then_merge_equal_a_single_build(synth_sources, local_build, remote_manifest_path, clean_host, tmp_path):
    parts = []
    for i in range(2):
        part = tmp_path / f"part{i}"
        result = build_dataset(remote_manifest_path, part, name="AVG-Synth", progress=False,
                               run_options=RunOptions(**{**FAST.__dict__, "shard": (i, 2)}))
        assert not result.dataset_written and not (part / "data").exists()
        expected = {r.clip_id for r in synth_sources.records if shard_of(r, 2) == i}
        assert set(clip_checksums(part)) == expected and result.complete
        parts.append(part)
    assert all(len(clip_checksums(p)) > 0 for p in parts)  # both parts did some of the work
    merged = tmp_path / "merged"
    result = build_dataset(remote_manifest_path, merged, name="AVG-Synth", progress=False, run_options=FAST, merge=parts)
    assert result.complete and result.outcome.attempted == 0  # nothing left to fetch
    assert clip_checksums(merged) == clip_checksums(local_build.out_dir)
    assert shard_rows(merged) == shard_rows(local_build.out_dir)
    with sqlite3.connect(merged / ".work" / "ledger.sqlite") as db:
        assert db.execute("SELECT count(*), count(DISTINCT clip_id) FROM clips WHERE state='ok'").fetchone() == (9, 9)


@pytest.fixture(scope="module")
def long_source(tmp_path_factory):
    """One 40 s AVG-Synth source (keyframe every second), for cuts deep inside a file."""
    from avg_bench.data.locations import load_locations
    from avg_bench.data.manifest import read_manifest
    from avg_bench.data.synth import generate_synth, pick_locations

    folder = tmp_path_factory.mktemp("long-source")
    synth = generate_synth(folder, pick_locations(load_locations(), 1, seed=1), videos_per_location=1,
                           clips_per_video=1, video_seconds=40.0, seed=1, workers=1, progress=False)
    return folder, read_manifest(synth.manifest_path)[0]


def test_section_cut_equals_local_cut_at_several_cut_points(long_source, tmp_path):
    """Issue 11: cuts at 28.0 s and 15.0 s (on a keyframe) differed in their first 512-623 audio samples
    between a fetched section and the whole file (the AAC decoder had no pre-roll at the local cut);
    20.5 s (mid-GOP) always matched. Every one must be bit-identical."""
    from remote_host import VideoHost

    from avg_bench.data.fetch import download_section, source_info
    from avg_bench.data.media import process_clip
    from avg_bench.data.politeness import RateLimiter

    folder, record = long_source
    options, limiter = FetchOptions(stall_s=30, timeout_s=120), RateLimiter(0, host_requests_per_minute=10_000)
    with VideoHost(folder) as host:
        info = source_info(host.url(record.source_uri), record.source_key, tmp_path / "sources", options, limiter)
        for start in (15.0, 28.0, 20.5):
            local = process_clip(folder / record.source_uri, start, start + 10, tmp_path / f"local-{start}")
            section = download_section(info, start, start + 10, tmp_path / f"dl-{start}", options, limiter)
            assert section.start_s == start - options.margin_s  # a section from mid-file, not from 0
            remote = process_clip(section.path, start - section.start_s, start + 10 - section.start_s,
                                  tmp_path / f"remote-{start}")
            assert (remote.video_sha256, remote.audio_sha256, remote.keyframe_sha256) == \
                (local.video_sha256, local.audio_sha256, local.keyframe_sha256), start
        # With --cookies the section goes through a yt-dlp child (not ffmpeg run directly): same bytes.
        cookies = tmp_path / "cookies.txt"
        cookies.write_text("# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tx\n")
        with_cookies = FetchOptions(stall_s=30, timeout_s=120, cookies=cookies)
        section = download_section(info, 28.0, 38.0, tmp_path / "dl-cookies", with_cookies, limiter)
        assert "[download] Destination" in (section.path.parent / "yt-dlp.log").read_text()  # yt-dlp ran
        remote = process_clip(section.path, 28.0 - section.start_s, 38.0 - section.start_s, tmp_path / "remote-cookies")
        assert remote.video_sha256 == process_clip(folder / record.source_uri, 28.0, 38.0, tmp_path / "l").video_sha256
        # The per-host ceiling counts every HTTP request the host saw, ffmpeg's included (--host-requests).
        assert len(limiter._recent["127.0.0.1"]) == len(host.log) > 4


@pytest.mark.parametrize("shard", ["0/0", "2/2", "x/3"])
def test_bad_shard_is_a_clear_error(shard):
    from avg_bench.data.remote import parse_shard
    from avg_bench.errors import AvgBenchError

    with pytest.raises(AvgBenchError, match="--shard"):
        parse_shard(shard)
