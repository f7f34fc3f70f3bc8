"""Benchmark the scorer at AVG size: 20,000 predictions over 1,000 locations, every metric.

    python benchmarks/bench_evaluate.py [--repeats 5]

Measures (targets from the evaluator issue, on a 2-core machine):
  * in-process ``avg_bench.evaluate`` after imports (first call in a fresh process, which includes
    loading the cached gazetteer, and a second call), all metrics incl. semantic levels and a
    1,000-resample cluster bootstrap (target <= 0.5 s), for parquet labels with the hierarchy
    (as the dataset ships them) and for JSON Lines labels without it (derived by the gazetteer);
  * the whole ``avg-bench evaluate`` command, process start to exit (target <= 1.5 s);
  * peak memory of that command (target <= 300 MB), and of a 200 MB predictions file;
  * that the evaluate path imports neither torch nor datasets;
  * (issue 13) the whole command without bootstrap on 20,000 single-clip locations (target <= 0.37 s,
    nat-sound2loc's distance-only script on the same file), and the cluster bootstrap's peak memory at
    ``--huge-locations`` single-clip locations (default 4.1 M; target < 1 GB at any size), run with
    ``--huge-resamples`` resamples (memory does not grow with them; time per resample is reported).
Each timing is the median over fresh processes, with the gazetteer cache already built.
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
from pathlib import Path

import numpy as np
from _machine import print_table
from rich.console import Console

N_LOCATIONS, CLIPS_PER_LOCATION = 1000, 20
CLI = str(Path(sys.executable).parent / "avg-bench")

_IN_PROCESS = """
import json, sys, time
import avg_bench, pyarrow.parquet  # imports are outside the timing; the gazetteer load is inside
labels = sys.argv[2:] if sys.argv[1] == "parquet" else sys.argv[2]
start = time.perf_counter()
avg_bench.evaluate(PREDICTIONS, labels, bootstrap=1000, seed=0)
first = time.perf_counter() - start
start = time.perf_counter()
avg_bench.evaluate(PREDICTIONS, labels, bootstrap=1000, seed=0)
again = time.perf_counter() - start
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "datasets", "transformers"})
print(json.dumps({"seconds": first, "again": again, "heavy": heavy}))
"""


def make_data(folder: Path) -> dict[str, Path]:
    """Seeded AVG-sized labels (parquet with hierarchy, JSONL without) and predictions."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from avg_bench.geo import default_gazetteer, destination_point

    gazetteer = default_gazetteer()
    rng = np.random.default_rng(0)
    places = gazetteer.place(rng.choice(len(gazetteer), N_LOCATIONS, replace=False))
    n = N_LOCATIONS * CLIPS_PER_LOCATION
    location = np.repeat(np.arange(N_LOCATIONS), CLIPS_PER_LOCATION)
    lat, lon = places["lat"][location], places["lon"][location]
    error_km = np.minimum(rng.lognormal(4.0, 2.0, n), 19_000.0)
    pred_lat, pred_lon = destination_point(lat, lon, rng.uniform(0, 360, n), error_km)
    clip_ids = [f"avg1-{i:06d}" for i in range(n)]
    labels = {
        "clip_id": clip_ids,
        "location_id": [f"loc-{i:04d}" for i in location],
        "lat": lat.tolist(),
        "lon": lon.tolist(),
    }
    paths = {"jsonl": folder / "labels.jsonl", "predictions": folder / "predictions.jsonl"}
    with paths["jsonl"].open("w") as handle:
        for row in zip(*labels.values()):
            handle.write(json.dumps(dict(zip(labels, row))) + "\n")
    hierarchy = {k: places[k][location].tolist() for k in ("continent", "country", "admin1")}
    hierarchy["city"] = places["name"][location].tolist()
    table = pa.table({**labels, **hierarchy})
    shards = []
    for i, part in enumerate(np.array_split(np.arange(n), 2)):
        shards.append(folder / f"val-{i:05d}-of-00002.parquet")
        pq.write_table(table.take(part), shards[-1])
    paths["parquet"] = shards
    with paths["predictions"].open("w") as handle:
        for clip_id, a, b in zip(clip_ids, pred_lat, pred_lon):
            handle.write(f'{{"clip_id": "{clip_id}", "lat": {a:.6f}, "lon": {b:.6f}}}\n')
    # 200 MB: the same predictions, each with 10 kB of reasoning text.
    paths["big"] = folder / "predictions_200mb.jsonl"
    filler = "The dome, the tram and the call to prayer suggest a coastal city. " * 152
    with paths["big"].open("w") as handle:
        for clip_id, a, b in zip(clip_ids, pred_lat, pred_lon):
            handle.write(json.dumps({"clip_id": clip_id, "lat": round(a, 6), "lon": round(b, 6), "reasoning": filler}) + "\n")
    return paths


_HUGE = """
import sys, time
import numpy as np
from avg_bench.metrics import metric_table, summarise, summarise_macro
from avg_bench.metrics.bootstrap import Resamples
from avg_bench.spec import AVG_V1
n, resamples = int(sys.argv[1]), int(sys.argv[2])
metrics = metric_table(AVG_V1)
values = np.random.default_rng(0).random((n, len(metrics)))
cluster = np.arange(n)
weights = Resamples(n, resamples, seed=0)
import tracemalloc
tracemalloc.start()  # numpy reports its allocations: what the scoring adds on top of the clip table
start = time.perf_counter()
summarise(values, metrics, cluster, weights)
summarise(values[: n // 3], metrics, cluster[: n // 3], weights)  # a continent-sized subgroup
summarise_macro(values, metrics, cluster, weights, n)
seconds = time.perf_counter() - start
open(sys.argv[3], "w").write(f"{seconds / resamples} {tracemalloc.get_traced_memory()[1] / 2**20}")
"""


def make_single_clip_data(folder: Path, n: int = 20_000) -> tuple[Path, Path]:
    """``n`` clips, each at its own location (the shape of nat-sound2loc's evaluation)."""
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-60, 70, n), rng.uniform(-180, 180, n)
    labels, predictions = folder / "single_labels.jsonl", folder / "single_predictions.jsonl"
    with labels.open("w") as handle:
        for i in range(n):
            handle.write(f'{{"clip_id": "c{i:06d}", "location_id": "l{i:06d}", "lat": {lat[i]:.5f}, "lon": {lon[i]:.5f}}}\n')
    with predictions.open("w") as handle:
        for i in range(n):
            a, b = np.clip(lat[i] + rng.normal(0, 2), -90, 90), np.clip(lon[i] + rng.normal(0, 2), -180, 180)
            handle.write(f'{{"clip_id": "c{i:06d}", "lat": {a:.5f}, "lon": {b:.5f}}}\n')
    return labels, predictions


def peak_rss_mb(command: list[str], *, with_cpu: bool = False) -> tuple[float, ...]:
    """Wall seconds and peak resident memory (MB) of a child, from the kernel's accounting (and its CPU seconds)."""
    start = time.perf_counter()
    pid = os.posix_spawn(command[0], command, os.environ, file_actions=[(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1, 2)])
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    if with_cpu:
        return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--huge-locations", type=int, default=4_100_000)
    parser.add_argument("--huge-resamples", type=int, default=10)
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        console.print("generating 20,000 predictions over 1,000 locations ...")
        paths = make_data(folder)
        with open(os.devnull, "w") as devnull:  # build the gazetteer cache outside the timings
            subprocess.run([CLI, "evaluate", str(paths["predictions"]), "--labels", str(paths["jsonl"]), "--bootstrap", "0"], stdout=devnull, check=True)
        script = _IN_PROCESS.replace("PREDICTIONS", repr(str(paths["predictions"])))
        rows = []
        for kind, label_args in (("parquet", [str(p) for p in paths["parquet"]]), ("jsonl", [str(paths["jsonl"])])):
            runs = [json.loads(subprocess.run([sys.executable, "-c", script, kind, *label_args], capture_output=True, text=True, check=True).stdout) for _ in range(args.repeats)]
            seconds = statistics.median(r["seconds"] for r in runs)
            again = statistics.median(r["again"] for r in runs)
            heavy = sorted({m for r in runs for m in r["heavy"]})
            rows.append((f"evaluate() in process, labels {kind}: first call / again", f"{seconds:.3f} s / {again:.3f} s", "<= 0.5 s", seconds <= 0.5))
            rows.append((f"heavy imports on the evaluate path ({kind})", ", ".join(heavy) or "none", "none", not heavy))
        shard_options = [arg for shard in paths["parquet"] for arg in ("--labels", str(shard))]
        command = [CLI, "evaluate", str(paths["predictions"]), *shard_options, "--json", str(folder / "r.json")]
        cli = [peak_rss_mb(command) for _ in range(args.repeats)]
        seconds = statistics.median(c[0] for c in cli)
        memory = max(c[1] for c in cli)
        rows.append(("avg-bench evaluate, whole command", f"{seconds:.3f} s", "<= 1.5 s", seconds <= 1.5))
        rows.append(("avg-bench evaluate, peak memory", f"{memory:.0f} MB", "<= 300 MB", memory <= 300))
        big_size = paths["big"].stat().st_size / 1e6
        seconds, memory = peak_rss_mb([CLI, "evaluate", str(paths["big"]), "--labels", str(paths["jsonl"]), "--json", str(folder / "r.json")])
        rows.append((f"{big_size:.0f} MB predictions file: time / peak memory", f"{seconds:.2f} s / {memory:.0f} MB", "memory << file", memory < big_size))
        hostile = folder / "hostile.jsonl"
        with hostile.open("wb") as handle:  # one 30 MiB line: refused after reading at most the line limit
            handle.write(b'{"clip_id": "avg1-000000", "lat": 0, "lon": 0, "reasoning": "' + b"z" * (30 << 20) + b'"}\n')
        start = time.perf_counter()
        refused = subprocess.run([CLI, "evaluate", str(hostile), "--labels", str(paths["jsonl"])], capture_output=True)
        seconds = time.perf_counter() - start
        rows.append(("30 MiB single-line file: time to refuse (exit 2)", f"{seconds:.2f} s", "<= 5 s", seconds <= 5.0 and refused.returncode == 2))
        single_labels, single_predictions = make_single_clip_data(folder)
        command = [CLI, "evaluate", str(single_predictions), "--labels", str(single_labels), "--bootstrap", "0"]
        peak_rss_mb(command)  # warm the file cache
        runs = [peak_rss_mb(command, with_cpu=True) for _ in range(args.repeats)]
        seconds, cpu = statistics.median(r[0] for r in runs), statistics.median(r[2] for r in runs)
        rows.append(("avg-bench evaluate, 20,000 single-clip locations, no bootstrap: wall (CPU)",
                     f"{seconds:.3f} s ({cpu:.3f} s)", "<= 0.37 s", seconds <= 0.37))
        out = folder / "huge.txt"
        child = [sys.executable, "-c", _HUGE, str(args.huge_locations), str(args.huge_resamples), str(out)]
        seconds, memory = peak_rss_mb(child)
        per, scoring = (float(v) for v in out.read_text().split())
        table_mb = args.huge_locations * 12 * 8 / 2**20
        rows.append((f"{args.huge_locations:,} single-clip locations, {args.huge_resamples} resamples: peak added by scoring"
                     f" (process peak, incl. the {table_mb:.0f} MB clip table; s per resample)",
                     f"{scoring:.0f} MB ({memory:.0f} MB; {per:.2f} s)", "< 1024 MB", scoring < 1024))

    print_table(console, "bench_evaluate", rows)


if __name__ == "__main__":
    main()
