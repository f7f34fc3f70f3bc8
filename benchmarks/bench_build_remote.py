"""Benchmark building AVG clips from a video host: clips per minute over loopback, against video2dataset.

    python benchmarks/bench_build_remote.py [--locations 3] [--clips-per-video 2] [--repeats 1] [--v2d-python PATH]

Generates AVG-Synth sources (``locations`` x 3 videos x ``clips-per-video`` clips of 10 s), serves
them from the Range-capable test host (``tests/remote_host.py``) on 127.0.0.1, and times the clip
stage of ``avg-bench build`` (yt-dlp info + section download + check + canonical cut + ledger)
with 1 and 2 workers, each from an empty build folder, no rate limit. Shard writing is excluded:
it is the same code as a local build (``bench_build_local.py``). Each row also says where a clip's
seconds went (the ledger's ``fetch_s`` and ``process_s``, mean per clip). With ``--repeats N`` each
row is the median run of N (a shared machine's load moves single runs by 20% and more).

video2dataset (PyPI) on the same clip list: run with ``--v2d-python`` pointing at a Python that has
video2dataset installed (it pins old dependencies, so it lives in its own virtual environment).
Its default config with exact clipping, ``processes_count`` = our worker count, one download thread
per process, and one shard per process (with a single shard, only one process would work). It is
timed by its own shard statistics (first start to last end), without its ~10 s of imports.
Without it, or when it fails, the table says why instead of a number.

Target (issue 13): avg-bench build >= 2x video2dataset's clips per minute, at 1 and at 2 workers.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the loopback host is the tests' own helper

from _machine import print_table  # noqa: E402
from remote_host import VideoHost  # noqa: E402
from rich.console import Console  # noqa: E402

from avg_bench.data.build import build_dataset  # noqa: E402
from avg_bench.data.fetch import FetchOptions  # noqa: E402
from avg_bench.data.locations import load_locations  # noqa: E402
from avg_bench.data.manifest import read_manifest, write_manifest  # noqa: E402
from avg_bench.data.remote import RunOptions  # noqa: E402
from avg_bench.data.synth import generate_synth, pick_locations  # noqa: E402

TARGET_RATIO = 2.0


def avg_bench_rate(manifest: Path, folder: Path, workers: int) -> tuple[float, int, int, str]:
    """(clips per minute of the clip stage, ok clips, total clips, where a clip's seconds went) for one fresh remote build."""
    out = folder / f"build-w{workers}"
    shutil.rmtree(out, ignore_errors=True)
    options = RunOptions(workers=workers, requests_per_minute=0, fetch=FetchOptions(stall_s=30, timeout_s=300))
    result = build_dataset(manifest, out, name="AVG-Synth", progress=False, run_options=options)
    outcome = result.outcome
    done = [row for row in outcome.rows if row.state == "ok"]
    mean = lambda values: sum(values) / len(values) if values else float("nan")  # noqa: E731
    split = (f"fetch {mean([r.fetch_s or 0.0 for r in done]):.3f} s + cut {mean([r.process_s or 0.0 for r in done]):.3f} s"
             " per clip")
    return 60.0 * len(done) / outcome.elapsed_s, len(done), len(outcome.rows), split


def video2dataset_rate(python: str | None, records, host: VideoHost, folder: Path, workers: int) -> tuple[str, float | None]:
    """video2dataset on the same clips (its clipping subsampler): (text, clips per minute or None when it could not run)."""
    if python is None:
        return "not run: pass --v2d-python (video2dataset needs its own environment, see the note)", None
    import pyarrow as pa
    import pyarrow.parquet as pq

    listing = folder / "v2d.parquet"  # parquet keeps the clips column a list (from CSV it stays a string)
    pq.write_table(pa.table({"url": [host.url(r.source_uri) for r in records],
                             "clips": [[[r.start_s, r.end_s]] for r in records]}), listing)
    out = folder / f"v2d-w{workers}"
    shutil.rmtree(out, ignore_errors=True)
    # Its default config, with exact clipping and our worker count (one download thread per process),
    # and a shard per process: a process works one shard at a time, so one shard would leave the others idle.
    per_shard = math.ceil(len(records) / workers)
    config = {
        "subsampling": {"ClippingSubsampler": {"args": {"precision": "exact"}}},
        "reading": {"yt_args": {"download_size": 360, "download_audio_rate": 44100, "yt_metadata_args": {}},
                    "timeout": 60, "sampler": None},
        "storage": {"number_sample_per_shard": per_shard, "oom_shard_count": 5, "captions_are_subtitles": False},
        "distribution": {"processes_count": workers, "thread_count": 1, "subjob_size": 1000, "distributor": "multiprocessing"},
    }
    script = (
        "from video2dataset import video2dataset\n"
        f"video2dataset(url_list={str(listing)!r}, output_folder={str(out)!r}, input_format='parquet', url_col='url',"
        f" clip_col='clips', output_format='files', encode_formats={{'video': 'mp4'}}, tmp_dir={str(folder)!r},"
        f" config={config!r})\n"
    )
    began = time.monotonic()
    done = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=900)
    elapsed = time.monotonic() - began
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"failed: {last[:120]}", None
    made = len(list(out.rglob("*.mp4")))
    # Its own shard stats time the work; the command's wall time adds ~10 s of importing torch & co.
    stats = [json.loads(p.read_text()) for p in out.glob("*_stats.json")]
    span = (max(x["end_time"] for x in stats) - min(x["start_time"] for x in stats)) if stats else elapsed
    rate = 60.0 * made / span
    return (f"{rate:.1f} clips/min ({made}/{len(records)} clips, {len(stats)} shard(s); "
            f"{60.0 * made / elapsed:.1f} with start-up)"), rate if made == len(records) else None


def _median(runs: list[tuple]) -> tuple:
    """The run with the median rate (the rate is the first number of an avg-bench run, the second of video2dataset's)."""
    rate = (lambda run: run[0]) if isinstance(runs[0][0], float) else (lambda run: run[1])  # noqa: E731
    return sorted(runs, key=rate)[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=3)
    parser.add_argument("--clips-per-video", type=int, default=2)
    parser.add_argument("--v2d-python", default=None, help="a Python with video2dataset installed")
    parser.add_argument("--repeats", type=int, default=1, help="runs per row; the median run is shown")
    args = parser.parse_args()
    console = Console(stderr=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-build-remote-"))
    try:
        console.print("generating AVG-Synth sources ...")
        locations = pick_locations(load_locations(), args.locations, seed=0)
        synth = generate_synth(folder / "synth", locations, videos_per_location=3, clips_per_video=args.clips_per_video,
                               video_seconds=14.0 + 11.0 * (args.clips_per_video - 1), seed=0, workers=2, progress=False)
        records = read_manifest(synth.manifest_path)
        rows = []
        with VideoHost(folder / "synth") as host:
            manifest = folder / "remote.jsonl"
            write_manifest([dataclasses.replace(r, source_uri=host.url(r.source_uri)) for r in records], manifest)
            ours = {}
            for workers in (1, 2):
                console.print(f"avg-bench build, {workers} worker(s), {len(records)} clips, {args.repeats} run(s) ...")
                rate, ok, total, split = _median([avg_bench_rate(manifest, folder, workers) for _ in range(args.repeats)])
                ours[workers] = rate if ok == total else None
                rows.append((f"avg-bench build, {workers} worker(s)", f"{rate:.1f} clips/min ({ok}/{total} clips; {split})",
                             "all clips ok", ok == total))
            theirs = {}
            for workers in (1, 2):
                console.print(f"video2dataset, {workers} process(es), {args.repeats} run(s) ...")
                runs = [video2dataset_rate(args.v2d_python, records, host, folder, workers) for _ in range(args.repeats)]
                text, theirs[workers] = _median(runs) if all(rate is not None for _, rate in runs) else runs[0]
                rows.append((f"video2dataset, {workers} process(es)", text, "for comparison", theirs[workers] is not None))
            for workers in (1, 2):
                if ours[workers] and theirs[workers]:
                    ratio = ours[workers] / theirs[workers]
                    rows.append((f"avg-bench / video2dataset, {workers} worker(s)", f"{ratio:.2f}x", f">= {TARGET_RATIO:g}x",
                                 ratio >= TARGET_RATIO))
                else:
                    rows.append((f"avg-bench / video2dataset, {workers} worker(s)", "no ratio: a side did not finish",
                                 f">= {TARGET_RATIO:g}x", False))
        print_table(Console(), f"bench_build_remote ({len(records)} clips of 10 s from 127.0.0.1)", rows)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
