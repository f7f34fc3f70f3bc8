"""Benchmark the leaderboard at AVG size, through the real server on loopback.

    python benchmarks/bench_leaderboard.py [--submissions 50] [--entries 1000] [--db URL]

Measures (targets from the leaderboard issue, on a 2-core machine):
  * 50 concurrent valid test submissions of 20,000 predictions each (50 teams, one submission
    each, 1,000 locations): all 50 become entries, none lost or duplicated (target: exactly 50);
  * the upload round trip (validation against the hidden labels included) under that load;
  * scoring time per submission in the background worker: the official scorer with a
    1,000-resample bootstrap (target <= 2 s);
  * the table page with 1,000 scored entries: p50/p95 latency of GET /?split=test over 200
    sequential requests (target p95 <= 100 ms on loopback), and of GET /api/entries.
The server is `avg-bench leaderboard serve` in its own process (one scoring worker).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _machine import print_table
from rich.console import Console
from sqlalchemy import func, select

from avg_bench import leaderboard_client as client
from avg_bench.data.locations import load_locations
from avg_bench.geo import destination_point
from leaderboard import schema, store
from leaderboard.db import open_database, writing

CLIPS_PER_LOCATION = 20
CLI = str(Path(sys.executable).parent / "avg-bench")


def make_labels(folder: Path) -> tuple[Path, dict]:
    """20,000 hidden test labels over the 1,000 AVG-v1 locations, as `avg-bench build` writes them."""
    rng = np.random.default_rng(0)
    records = []
    for location in load_locations():
        for _ in range(CLIPS_PER_LOCATION):
            records.append({"clip_id": f"avg1-{len(records):06d}", "location_id": location.location_id,
                            "lat": float(np.clip(location.lat + rng.normal(0, 0.02), -90, 90)),
                            "lon": float(np.clip(location.lon + rng.normal(0, 0.02), -180, 180))})
    labels_dir = folder / "labels"
    (labels_dir / "seen").mkdir(parents=True)
    table = pa.Table.from_pylist(records).replace_schema_metadata({"avg_bench.revision": "bench"})
    pq.write_table(table, labels_dir / "seen" / "test.parquet")
    return labels_dir, {"lat": np.array([r["lat"] for r in records]), "lon": np.array([r["lon"] for r in records]),
                        "ids": [r["clip_id"] for r in records]}


def make_predictions(folder: Path, truth: dict, k: int) -> Path:
    rng = np.random.default_rng(100 + k)
    n = len(truth["ids"])
    lat, lon = destination_point(truth["lat"], truth["lon"], rng.uniform(0, 360, n), rng.lognormal(np.log(300), 1.5, n).clip(0, 19000))
    path = folder / f"team{k:02d}.jsonl"
    path.write_text("".join(f'{{"clip_id": "{c}", "lat": {a:.5f}, "lon": {b:.5f}}}\n' for c, a, b in zip(truth["ids"], lat, lon)))
    return path


def wait_up(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited (see its log)")
        try:
            urllib.request.urlopen(url + "/api/health", timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def latency(url: str, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def pad_table(engine, n_entries: int) -> int:
    """Copy scored entries (new names, same numbers) until the test board holds ``n_entries``."""
    scored = store.entries(engine, split="test", config="seen")
    added = 0
    with engine.begin() as conn:
        for i in range(max(n_entries - len(scored), 0)):
            source = scored[i % len(scored)]
            conn.execute(schema.entries.insert().values(
                team_id=source["team_id"], model_name=f"copy-{i}", link="", modalities=("audio", "visual", "audio+visual")[i % 3],
                external_data="", toolkit_version=source["toolkit_version"], dataset_version="", split="test", config="seen",
                status="scored", error="", hidden=False, withdrawn=False, n_predictions=source["n_predictions"],
                predictions_sha256=source["predictions_sha256"], created_at=source["created_at"] + i, summary=json.dumps(source["summary"]),
                results="{}",
            ))
            added += 1
        store.bump_revision(conn)
    return added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench-leaderboard-") as tmp:
        folder = Path(tmp)
        db = args.db or f"sqlite:///{folder / 'lb.sqlite3'}"
        labels_dir, truth = make_labels(folder)
        files = [make_predictions(folder, truth, k) for k in range(args.submissions)]
        engine = open_database(db)
        tokens = [store.create_token(engine, f"team-{k:02d}") for k in range(args.submissions)]
        port = 8700 + os.getpid() % 200
        url = f"http://127.0.0.1:{port}"
        log = (folder / "server.log").open("w")
        server = subprocess.Popen([CLI, "leaderboard", "serve", "--db", db, "--labels", str(labels_dir), "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=log, text=True)
        try:
            wait_up(url, server)
            console.print(f"server up; {args.submissions} concurrent uploads of {len(truth['ids']):,} predictions")

            def submit(k: int) -> tuple[int, float]:
                start = time.perf_counter()
                entry = client.submit(url, tokens[k], files[k], {"model_name": f"model-{k:02d}", "split": "test"})
                return entry["id"], time.perf_counter() - start

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.submissions) as pool:
                outcomes = list(pool.map(submit, range(args.submissions)))
            upload_wall = time.perf_counter() - started
            deadline = time.monotonic() + 1800
            while True:
                with engine.connect() as conn:
                    states = dict(conn.execute(select(schema.entries.c.status, func.count()).group_by(schema.entries.c.status)).all())
                if set(states) <= {"scored", "failed"} or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            scoring_wall = time.perf_counter() - started
            rows = store.entries(engine, statuses=None, include_private=True)
            ids = [entry_id for entry_id, _ in outcomes]
            seconds = sorted(r["scoring_seconds"] for r in rows if r["scoring_seconds"] is not None)
            uploads = sorted(s for _, s in outcomes)
            distinct = len({r["predictions_sha256"] for r in rows})
            intact = len(rows) == args.submissions == len(set(ids)) == distinct and all(r["status"] == "scored" for r in rows)

            added = pad_table(engine, args.entries)
            board_n = len(store.entries(engine, split="test", config="seen"))
            latency(url + "/?split=test", 5)  # warm up
            page_p50, page_p95 = latency(url + "/?split=test", 200)
            api_p50, api_p95 = latency(url + "/api/entries?split=test", 100)
            cold = []
            for _ in range(20):  # the first view after a change renders the table again
                with writing(engine) as conn:
                    store.bump_revision(conn)
                cold.append(latency(url + "/?split=test", 1)[0])
            cold.sort()
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
            errors = (folder / "server.log").read_text()
            if "Traceback" in errors:
                console.print(errors[-3000:])
    def p95(values: list[float]) -> float:
        return values[int(0.95 * (len(values) - 1))]
    print_table(console, "Leaderboard", [
        ("entries after concurrent submissions", f"{len(rows)} of {args.submissions} (distinct files {distinct}, all scored: {intact})", f"= {args.submissions}", intact),
        ("upload round trip (accept + validate), p50 / p95", f"{statistics.median(uploads):.2f} s / {p95(uploads):.2f} s", "-", True),
        ("all uploads accepted (wall)", f"{upload_wall:.1f} s", "-", True),
        ("scoring per submission, median / p95 / max", f"{statistics.median(seconds):.2f} / {p95(seconds):.2f} / {seconds[-1]:.2f} s", "<= 2 s", p95(seconds) <= 2.0),
        ("all scored (wall, one worker)", f"{scoring_wall:.1f} s", "-", True),
        (f"table page, {board_n} entries, p50 / p95", f"{page_p50 * 1000:.1f} / {page_p95 * 1000:.1f} ms", "p95 <= 100 ms", page_p95 <= 0.1),
        ("table page right after a change (re-render), p50 / p95", f"{statistics.median(cold) * 1000:.1f} / {p95(cold) * 1000:.1f} ms", "-", True),
        (f"GET /api/entries, {board_n} entries, p50 / p95", f"{api_p50 * 1000:.1f} / {api_p95 * 1000:.1f} ms", "-", True),
    ])
    console.print(f"database: {db.split(':')[0]}; {added} entries copied to reach {board_n} on the board")


if __name__ == "__main__":
    main()
