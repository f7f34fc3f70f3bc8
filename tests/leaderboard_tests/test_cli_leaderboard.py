"""``avg-bench leaderboard ...`` and ``avg-bench submit`` as a user runs them (the console script)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from leaderboard_tests.live_server import LiveServer

from leaderboard import store
from leaderboard.db import open_database

CLI = Path(sys.executable).parent / "avg-bench"


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=180, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("command", [["leaderboard", "serve"], ["leaderboard", "token", "create"], ["leaderboard", "export"], ["submit"]])
def test_help_has_examples(command):
    done = run(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert "Example" in done.stdout


def test_token_create_list_revoke(tmp_path):
    db = f"sqlite:///{tmp_path / 'lb.sqlite3'}"
    created = run("leaderboard", "token", "create", "Team CLI", "--db", db)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("avgt_") and len(token) > 40
    engine = open_database(db)
    assert store.authenticate(engine, token).name == "Team CLI"
    with engine.connect() as conn:  # only the hash is stored
        assert token not in str(list(conn.exec_driver_sql("SELECT * FROM tokens")))
    listed = run("leaderboard", "token", "list", "--db", db)
    assert "Team CLI" in listed.stdout and token[:12] in listed.stdout and token not in listed.stdout
    assert run("leaderboard", "token", "revoke", token[:12], "--db", db).stdout.strip() == "revoked 1 token(s)"
    assert store.authenticate(engine, token) is None
    again = run("leaderboard", "token", "revoke", token[:12], "--db", db)
    assert again.returncode == 2 and again.stderr == "error: no live token matched\n"
    short = run("leaderboard", "token", "revoke", "avgt", "--db", db)
    assert short.returncode == 2 and "first 8 characters" in short.stderr


def test_bad_options_are_one_line_errors(tmp_path):
    missing = run("leaderboard", "serve", "--labels", str(tmp_path / "nope"), "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert missing.returncode == 2 and missing.stderr.startswith("error: --labels") and "Traceback" not in missing.stderr
    bad_db = run("leaderboard", "token", "list", "--db", "mysql://x")
    assert bad_db.returncode == 2 and bad_db.stderr == "error: unsupported database 'mysql': use SQLite or PostgreSQL\n"
    fmt = run("leaderboard", "export", "--format", "pdf", "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert fmt.returncode == 2 and "--format must be md or html" in fmt.stderr


def test_submit_checks_locally_before_sending(tmp_path):
    bad = tmp_path / "p.jsonl"
    bad.write_text('{"clip_id": "a", "lat": 1, "lon": 2}\n{"clip_id": "a", "lat": 1, "lon": 2}\n', encoding="utf-8")
    # port 9 (discard) is never contacted: the file fails first
    done = run("submit", str(bad), "--server", "http://127.0.0.1:9", "--model-name", "m", env={"AVG_BENCH_TOKEN": "t"})
    assert done.returncode == 2
    assert done.stderr == f"error: {bad}:2: duplicate clip_id 'a' (first on line 1)\n"
    no_token = run("submit", str(bad), "--server", "http://127.0.0.1:9", "--model-name", "m", env={"AVG_BENCH_TOKEN": ""})
    assert no_token.returncode == 2 and "a team token is needed" in no_token.stderr
    good = tmp_path / "good.jsonl"
    good.write_text('{"clip_id": "a", "lat": 1, "lon": 2}\n', encoding="utf-8")
    unreachable = run("submit", str(good), "--server", "http://127.0.0.1:9", "--model-name", "m", env={"AVG_BENCH_TOKEN": "t"})
    assert unreachable.returncode == 2 and "cannot reach the leaderboard at http://127.0.0.1:9" in unreachable.stderr


def test_submit_queue_state_quota_and_export(make_leaderboard, tmp_path, files):
    db = f"sqlite:///{tmp_path / 'lb.sqlite3'}"
    lb = make_leaderboard(db, workers=1)
    token = store.create_token(lb.engine, "Exporters")
    env = {"AVG_BENCH_TOKEN": token}
    with LiveServer(lb) as server:
        queued = run("submit", str(files["test_good"]), "--server", server.url, "--model-name", "T|1 <x>", "--split", "test", "--no-wait",
                     "--link", "https://example.org/code", env=env)
        assert queued.returncode == 0, queued.stderr
        assert re.search(r"^entry 1: (pending|scoring) \(http://127\.0\.0\.1:\d+/entries/1\)$", queued.stderr, re.MULTILINE), queued.stderr
        assert re.search(r"^entry 1: (pending|scoring|scored)", queued.stdout, re.MULTILINE), queued.stdout  # the queue state
        refused = run("submit", str(files["test_bad"]), "--server", server.url, "--model-name", "T2", "--split", "test", env=env)
        assert refused.returncode == 2 and "(HTTP 429): test quota reached" in refused.stderr
        scored = run("submit", str(files["val_good"]), "--server", server.url, "--model-name", "V", env=env)
        assert scored.returncode == 0 and "GeoScore" in scored.stdout  # the results table
        lb.score_pending()
    markdown = run("leaderboard", "export", "--format", "md", "--db", db)
    lines = markdown.stdout.splitlines()
    assert lines[2].startswith("| Rank | Model | Team | Modalities | Street 1 km % |")
    assert lines[4].startswith("| 1 | [T\\|1 &lt;x&gt;](https://example.org/code) | Exporters | audio+visual | ")
    html_file = tmp_path / "board.html"
    assert run("leaderboard", "export", "--format", "html", "--split", "val", "-o", str(html_file), "--db", db).returncode == 0
    page = html_file.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<td>V</td>" in page and "<td>Exporters</td>" in page


def test_evaluate_does_not_import_the_server():
    code = "import sys; from avg_bench.cli import app; print(sorted(m for m in ('fastapi', 'sqlalchemy', 'uvicorn', 'torch', 'leaderboard.app') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]"
