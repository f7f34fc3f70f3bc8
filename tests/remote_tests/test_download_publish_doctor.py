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

from avg_bench.data.download import DownloadError, download_hub, download_mirror, sha256_of
from avg_bench.data.publish import PublishError, plan, publish
from remote_host import Fault, VideoHost

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
        assert sha256_of(tmp_path / "got" / name) == expected[name]
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
