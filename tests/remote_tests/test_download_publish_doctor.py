"""download (HTTP mirror on loopback, Hub errors offline), publish (allow-list, no labels), doctor."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from remote_host import Fault, VideoHost

from avg_bench.cache import sha256_file
from avg_bench.data.download import DownloadError, download_hub, download_mirror
from avg_bench.data.publish import PublishError, plan, publish

CLI = Path(sys.executable).parent / "avg-bench"


def _checksums(folder: Path) -> dict[str, str]:
    return {line.split("  ")[1]: line.split("  ")[0] for line in (folder / "checksums.sha256").read_text().splitlines()}


def test_mirror_download_resumes_after_a_cut_and_verifies(local_build, tmp_path):
    expected = _checksums(local_build.out_dir)
    val = [n for n in expected if n.startswith("data/seen/val-")]
    with VideoHost(local_build.out_dir) as mirror:
        mirror.fault(val[0], Fault("cut", times=1))
        result = download_mirror(mirror.url("/"), tmp_path / "got", config="seen", split="val")
        assert result.files == val and result.resumed == val  # cut once, then resumed by Range
        assert any(path == "/" + val[0] and r and not r.startswith("bytes=0-") for path, r in mirror.ranges)
    for name in val:
        assert sha256_file(tmp_path / "got" / name) == expected[name]
    assert (tmp_path / "got" / "README.md").is_file()


def test_mirror_download_refuses_a_checksum_mismatch(local_build, tmp_path):
    name = next(n for n in _checksums(local_build.out_dir) if n.startswith("data/seen/train-"))
    with VideoHost(local_build.out_dir) as mirror:
        mirror.fault(name, Fault("corrupt"))
        with pytest.raises(DownloadError, match="does not match"):
            download_mirror(mirror.url("/"), tmp_path / "got", config="seen", split="train")
    assert not (tmp_path / "got" / name).exists()


def test_unreachable_mirror_and_offline_hub_say_what_to_do(tmp_path, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run([str(CLI), "download", "--source", f"http://127.0.0.1:{port}/avg/", "--out", str(tmp_path / "x")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot reach" in done.stderr and "avg-bench build" in done.stderr
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(DownloadError, match="HF_HUB_OFFLINE.*avg-bench build"):
        download_hub(tmp_path / "hub", revision="v1.0")


class _FakeHub:
    """Stands in for huggingface_hub.HfApi (the Hub is unreachable here): records what would be pushed."""

    def __init__(self) -> None:
        self.calls = []

    def create_repo(self, repo, **kwargs):
        self.calls.append(("create_repo", repo, kwargs))

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs))
        return type("Info", (), {"commit_url": f"https://hub.local/{kwargs['repo_id']}/commit/1"})()


def test_publish_sends_shards_card_checksums_and_never_labels(local_build, tmp_path):
    folder = tmp_path / "ds"
    shutil.copytree(local_build.out_dir, folder)
    shutil.copytree(local_build.labels_dir, folder / "avg-synth-hidden-labels")  # planted where it must not go
    files = plan(folder).files
    assert {"README.md", "checksums.sha256", "build_info.json"} <= set(files)
    assert sorted(f for f in files if f.startswith("data/")) == sorted(_checksums(folder))
    assert not any(".work" in f or "hidden-labels" in f for f in files)
    hub = _FakeHub()
    url = publish(folder, "me/AVG-Synth", api=hub)
    assert url.endswith("/commit/1") and hub.calls[1][1]["allow_patterns"] == files
    # A test split carrying labels is refused before anything is sent.
    test_shard = next(folder.glob("data/seen/test-*.parquet"))
    rows = pq.read_table(next(local_build.labels_dir.glob("seen/test.parquet"))).to_pylist()
    table = pq.read_table(test_shard)
    labelled = table.set_column(table.column_names.index("lat"), "lat",
                                __import__("pyarrow").array([r["lat"] for r in rows], type=table.schema.field("lat").type))
    pq.write_table(labelled, test_shard)
    with pytest.raises(PublishError, match="hidden split carries labels"):
        publish(folder, "me/AVG-Synth", api=_FakeHub())


@pytest.mark.slow
def test_doctor_reports_each_check_as_json(tmp_path):
    from avg_bench.doctor import check_disk, check_ytdlp

    done = subprocess.run([str(CLI), "doctor", "--path", str(tmp_path), "--min-free-gib", "0", "--json"],
                          capture_output=True, text=True, timeout=180)
    checks = {c["name"]: c for c in json.loads(done.stdout)}
    assert {"yt-dlp", "JavaScript runtime", "ffmpeg", "ffprobe", "ffmpeg encoders", "torchcodec", "free disk", "write access"} <= set(checks)
    assert checks["ffmpeg encoders"]["ok"] and checks["write access"]["ok"]
    assert done.returncode == (0 if all(c["ok"] for c in checks.values() if c["required"]) else 1)
    old = check_ytdlp(today=dt.date(2100, 1, 1))
    assert not old.ok and "pip install -U yt-dlp" in old.fix
    assert not check_disk(tmp_path, min_free_gib=1e9)[0].ok


# Issue 16: a downloaded copy validates without the operator's labels; a complete .part finishes.


def test_downloaded_copy_validates_without_hidden_labels_and_names_what_it_skipped(local_build, tmp_path):
    got = tmp_path / "got"
    with VideoHost(local_build.out_dir) as mirror:
        done = subprocess.run([str(CLI), "download", "--source", mirror.url("/"), "--out", str(got), "--validate"],
                              capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no violations" in done.stdout and "Traceback" not in done.stderr
    skipped = [line for line in done.stdout.splitlines() if "skipped without the operator's labels" in line]
    assert len(skipped) == 1 and "held-out commitment" in skipped[0] and "per-location counts" in skipped[0]
    assert (got / "manifest.jsonl").is_file() and not (got.parent / "got-hidden-labels").exists()
    # A planted fault in a downloaded shard: exit 1, the shard named.
    shard = sorted(got.glob("data/geo-holdout/train-*.parquet"))[0]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    done = subprocess.run([str(CLI), "validate", str(got), "--json", "-"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert {"check": "checksum", "subject": shard.relative_to(got).as_posix(),
            "detail": "sha256 differs from checksums.sha256 (corrupted or modified shard)"} in report["violations"]


def test_download_prints_the_validate_command(local_build, tmp_path):
    with VideoHost(local_build.out_dir) as mirror:
        done = subprocess.run([str(CLI), "download", "--source", mirror.url("/"), "--out", str(tmp_path / "g")],
                              capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"check the copy with: avg-bench validate {tmp_path / 'g'}" in done.stdout


def test_a_complete_part_file_is_finished_on_the_next_run(local_build, tmp_path):
    """Killed after the last byte of a .part was written, before its rename: no 416, no refetch."""
    expected = _checksums(local_build.out_dir)
    names = sorted(n for n in expected if n.startswith("data/seen/"))
    with VideoHost(local_build.out_dir) as mirror:
        download_mirror(mirror.url("/"), tmp_path / "got", config="seen")
        complete, wrong = names[0], names[1]
        target = tmp_path / "got" / complete
        target.rename(target.with_name(target.name + ".part"))  # the state a kill before the rename leaves
        # ... and a .part of the right length with wrong bytes: the host answers 416, the client starts over.
        other = tmp_path / "got" / wrong
        other.with_name(other.name + ".part").write_bytes(bytes(len(other.read_bytes())))
        other.unlink()
        mirror.ranges.clear()
        result = download_mirror(mirror.url("/"), tmp_path / "got", config="seen")
        asked = [path for path, _ in mirror.ranges]
    assert "/" + complete not in asked  # finished from the disk, no request at all
    assert asked.count("/" + wrong) == 2  # the 416, then the whole file
    assert complete in result.resumed and result.files == names
    for name in names:
        assert sha256_file(tmp_path / "got" / name) == expected[name]
        assert not (tmp_path / "got" / (name + ".part")).exists()


def test_build_refuses_to_finish_a_public_dataset_that_carries_hidden_labels(local_build, synth_sources, tmp_path, monkeypatch):
    """A build whose hidden rows kept their labels (a bug planted here) stops before build_info and checksums."""
    import avg_bench.data.build as build_module
    from avg_bench.errors import AvgBenchError

    out = tmp_path / "avg-synth"
    shutil.copytree(local_build.out_dir, out)  # .work included: no clip is processed again
    for name in ("build_info.json", "checksums.sha256"):
        (out / name).unlink()
    monkeypatch.setattr(build_module, "withhold", lambda row: row)
    with pytest.raises(AvgBenchError, match="refusing to finish a public dataset that carries hidden labels.*carries location_id"):
        build_module.build_dataset(synth_sources.manifest, out, name="AVG-Synth", workers=1, progress=False)
    assert not (out / "build_info.json").exists() and not (out / "checksums.sha256").exists()
    with pytest.raises(PublishError, match="not a built dataset"):
        plan(out)
