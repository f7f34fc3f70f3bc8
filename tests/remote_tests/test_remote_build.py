"""Remote builds through real yt-dlp and ffmpeg from the loopback host equal the local-file build."""

from __future__ import annotations

import sqlite3

import pytest

from avg_bench.data.build import build_dataset
from avg_bench.data.fetch import FetchOptions
from avg_bench.data.remote import RunOptions, shard_of
from remote_tests.helpers_remote import clip_checksums, hidden_labels, shard_rows

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


@pytest.mark.parametrize("shard", ["0/0", "2/2", "x/3"])
def test_bad_shard_is_a_clear_error(shard):
    from avg_bench.data.remote import parse_shard
    from avg_bench.errors import AvgBenchError

    with pytest.raises(AvgBenchError, match="--shard"):
        parse_shard(shard)
