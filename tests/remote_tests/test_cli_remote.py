"""The new commands as a user runs them: help with examples, clear one-line errors, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).parent / "avg-bench"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=120, env={"COLUMNS": "200", "PATH": ""})


@pytest.mark.parametrize("command, example", [
    ("build", "--retry-failed --classes"),
    ("download", "avg-bench download --config seen"),
    ("publish", "avg-bench publish avg/"),
    ("doctor", "avg-bench doctor"),
    ("curate", "avg-bench curate locations.jsonl"),
])
def test_help_has_examples(command, example):
    done = run(command, "--help")
    assert done.returncode == 0 and "Examples" in done.stdout and example in done.stdout


def test_build_errors_are_one_clear_line(tmp_path):
    done = run("build", "--report", str(tmp_path))
    assert done.returncode == 2 and "no build ledger" in done.stderr and "Traceback" not in done.stderr
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"clip_id": "synth-0123456789"}\n')
    done = run("build", str(manifest), "--out", str(tmp_path / "o"), "--retry-failed", "--classes", "nope")
    assert done.returncode == 2 and "unknown error class 'nope'" in done.stderr
    done = run("build", str(manifest), "--out", str(tmp_path / "o"), "--classes", "network")
    assert done.returncode == 2 and "add --retry-failed" in done.stderr
    done = run("build", str(manifest), "--out", str(tmp_path / "o"), "--shard", "3/2")
    assert done.returncode == 2 and "--shard '3/2'" in done.stderr
    done = run("build", str(manifest), "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and f"{manifest}:1:" in done.stderr and "Traceback" not in done.stderr


def test_publish_and_download_refuse_clearly(tmp_path):
    done = run("publish", str(tmp_path), "--repo", "me/x", "--dry-run")
    assert done.returncode == 2 and "not a built dataset" in done.stderr
    done = run("download", "--source", "ftp://x", "--out", str(tmp_path / "d"))
    assert done.returncode == 2 and "expected 'hub' or an http(s)://" in done.stderr
