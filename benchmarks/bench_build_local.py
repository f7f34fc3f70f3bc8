"""Benchmark building AVG clips locally.

    python benchmarks/bench_build_local.py [--repeats 5] [--cpu N]

Measures (targets from the dataset issue):
  * canonical processing (``avg_bench.data.media.process_clip``) of a 10 s cut from a 30 fps
    H.264 + AAC source at the canonical size (384x216): CPU seconds per clip, pinned to one core,
    counted as the CPU time of the child processes (ffprobe on the source, ffmpeg) plus our own
    (reading the output's ``moov``, fingerprints, checks, checksums); median of ``--repeats`` runs after one warm-up (target <= 0.5 s, issue 13). The same
    for 640x360 and 1280x720 sources, for reference: there the source decode dominates;
  * ``datasets.load_dataset`` decode throughput: 8 frames and the whole soundtrack per clip, from a
    freshly built AVG-Synth set, with 2 processes on 2 cores (target >= 50 clips/s).

Each measurement is one function in ``MEASUREMENTS`` that returns table rows; a new measurement
(e.g. ``load_dataset`` decode throughput) is one more function appended to that list.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _machine import print_table
from rich.console import Console

CUT_START_S, CUT_END_S = 3.3, 13.3
SOURCE_DURATION_S = 16.0
TARGET_CPU_S = 0.5  # issue 13 (was 1.0): one ffmpeg writing every output, probing cut down


@dataclass
class Context:
    """What every measurement gets: the options, a scratch folder, and a console for progress."""

    repeats: int
    folder: Path
    console: Console


Row = tuple[str, str, str, bool]  # measure, result, target, ok


def pin_to_one_core(cpu: int | None) -> int:
    """Pin this process (and so every child it starts) to one CPU; returns that CPU."""
    allowed = sorted(os.sched_getaffinity(0))
    chosen = allowed[0] if cpu is None else cpu
    os.sched_setaffinity(0, {chosen})
    return chosen


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def make_source(path: Path, width: int, height: int) -> Path:
    """A YouTube-like source: H.264 (2 s GOP, 30 fps) with moving detail, stereo 48 kHz AAC with a tone sweep."""
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=30:duration={SOURCE_DURATION_S}",
            "-f", "lavfi", "-i", f"aevalsrc=0.4*sin(2*PI*(220*t+20*t*t))|0.3*sin(2*PI*330*t):s=48000:d={SOURCE_DURATION_S}",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "60", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "128k", str(path),
        ],
        check=True,
    )
    return path


class ToolTimes:
    """Wraps ``media.run_tool`` to add up the CPU seconds of each external tool (for the breakdown row)."""

    def __init__(self) -> None:
        from avg_bench.data import media

        self.media, self.original, self.seconds = media, media.run_tool, {}

    def __enter__(self) -> ToolTimes:
        def timed(args, **kwargs):
            before = cpu_seconds()
            try:
                return self.original(args, **kwargs)
            finally:
                name = Path(str(args[0])).name
                self.seconds[name] = self.seconds.get(name, 0.0) + cpu_seconds() - before

        self.media.run_tool = timed
        return self

    def __exit__(self, *exc) -> None:
        self.media.run_tool = self.original


def measure_process_clip(context: Context) -> list[Row]:
    """CPU seconds per canonical clip for a 720p and a 360p source, with where they go."""
    from avg_bench.data.media import process_clip

    rows = []
    # "At the canonical size": a source whose frames are already the canonical size (what the build
    # asks platforms for); larger sources are shown for reference, their decode dominates.
    for width, height, target in ((384, 216, TARGET_CPU_S), (640, 360, None), (1280, 720, None)):
        context.console.print(f"generating a {SOURCE_DURATION_S:g} s {width}x{height} 30 fps source ...")
        source = make_source(context.folder / f"source_{height}p.mp4", width, height)
        samples, walls, parts = [], [], []
        for run in range(context.repeats + 1):  # run 0 warms imports and the page cache
            out_dir = context.folder / f"clip_{height}p_{run}"
            with ToolTimes() as tools:
                before, start = cpu_seconds(), time.perf_counter()
                clip = process_clip(source, CUT_START_S, CUT_END_S, out_dir)
                cpu, wall = cpu_seconds() - before, time.perf_counter() - start
            if clip.failed_checks:
                raise SystemExit(f"the benchmark clip failed its content checks: {clip.failed_checks}")
            if run:
                samples.append(cpu)
                walls.append(wall)
                parts.append({**tools.seconds, "python": cpu - sum(tools.seconds.values())})
        median = statistics.median(samples)
        result = (f"{median:.2f} s CPU (min {min(samples):.2f}, max {max(samples):.2f}; "
                  f"wall {statistics.median(walls):.2f} s)")
        measure = f"process_clip, 10 s cut of a {width}x{height} 30 fps source, one core"
        rows.append((measure, result, "(reference)" if target is None else f"<= {target:.1f} s CPU",
                     target is None or median <= target))
        breakdown = ", ".join(f"{name} {statistics.median(p[name] for p in parts):.2f} s"
                              for name in ("ffmpeg", "ffprobe", "python"))
        rows.append(("  of which (medians; ffprobe runs once, on the source)", breakdown, "", True))
    return rows


def measure_tool_start(context: Context) -> list[Row]:
    """CPU cost of starting one ffmpeg process: process_clip starts two (ffprobe on the source, ffmpeg)."""
    from avg_bench.tools import require_tool

    ffmpeg = require_tool("ffmpeg")
    samples = []
    for _ in range(context.repeats):
        before = cpu_seconds()
        subprocess.run([ffmpeg, "-hide_banner", "-version"], stdout=subprocess.DEVNULL, check=True)
        samples.append(cpu_seconds() - before)
    median = statistics.median(samples)
    return [("start-up of one ffmpeg or ffprobe process (2 per clip)", f"{median:.3f} s CPU", "(context)", True)]


TARGET_CLIPS_PER_S = 50.0
DECODE_TIMES_S = [(i + 0.5) * 10.0 / 8 for i in range(8)]  # 8 frames spread over the clip
_decode_dataset = None


def _decode_clips(args: tuple[str, list[int]]) -> int:
    """Worker: decode 8 frames and the whole soundtrack of each clip (the dataset opens once per process)."""
    global _decode_dataset
    root, indices = args
    if _decode_dataset is None:
        import datasets

        _decode_dataset = datasets.load_dataset(root, "seen", split="train").select_columns(["video", "audio"])
    for i in indices:
        row = _decode_dataset[i]
        row["video"].get_frames_played_at(seconds=DECODE_TIMES_S)
        row["audio"].get_all_samples()
    return len(indices)


def measure_load_dataset(context: Context) -> list[Row]:
    """``datasets.load_dataset`` decode throughput on a built AVG-Synth set, 2 processes on 2 cores."""
    from concurrent.futures import ProcessPoolExecutor

    from avg_bench.data.build import build_dataset
    from avg_bench.data.locations import load_locations
    from avg_bench.data.synth import generate_synth, pick_locations

    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))  # this one uses every core
    workers = min(2, os.cpu_count() or 1)
    context.console.print("building a small AVG-Synth set (4 locations x 3 videos x 4 clips) ...")
    synth = generate_synth(context.folder / "synth", pick_locations(load_locations(), 4, seed=0), videos_per_location=3,
                           clips_per_video=4, video_seconds=42.0, seed=0, workers=workers, progress=False)
    root = context.folder / "dataset"
    build_dataset(synth.manifest_path, root, name="AVG-Synth", workers=workers, progress=False)
    import datasets

    n = len(datasets.load_dataset(str(root), "seen", split="train"))
    passes = max(2, context.repeats)
    jobs = [(str(root), list(range(k, n, workers))) for _ in range(passes) for k in range(workers)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_decode_clips, [(str(root), [0])] * workers))  # open the dataset in each worker
        start = time.perf_counter()
        decoded = sum(pool.map(_decode_clips, jobs))
        elapsed = time.perf_counter() - start
    rate = decoded / elapsed
    return [(f"load_dataset decode: 8 frames + soundtrack per clip, {workers} processes ({decoded} clips)",
             f"{rate:.1f} clips/s", f">= {TARGET_CLIPS_PER_S:.0f} clips/s", rate >= TARGET_CLIPS_PER_S)]


#: Every measurement, in the order printed; append new ones here.
MEASUREMENTS: list[Callable[[Context], list[Row]]] = [measure_process_clip, measure_tool_start, measure_load_dataset]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cpu", type=int, default=None, help="the CPU to pin to (default: the first allowed)")
    args = parser.parse_args()
    console = Console()
    cpu = pin_to_one_core(args.cpu)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench_build_local.") as tmp:
        context = Context(repeats=args.repeats, folder=Path(tmp), console=console)
        for measurement in MEASUREMENTS:
            rows.extend(measurement(context))

    print_table(console, f"bench_build_local (pinned to CPU {cpu})", rows)


if __name__ == "__main__":
    main()
