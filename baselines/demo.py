"""``avg-bench demo``: the whole benchmark loop offline, on embedded defaults.

1. generate AVG-Synth source videos over 12 real locations (ffmpeg, espeak-ng);
2. serve them from a local Range-capable host and build the dataset through the remote path, as
   AVG is built (yt-dlp section downloads, the per-clip ledger, canonical media, splits, shards, card);
3. validate the build; 4. load it with ``datasets.load_dataset``;
5. fit every baseline that needs no downloaded weights on ``train`` and predict ``val`` (the
   priors, kNN retrieval, and the reference model's flow head and acoustic atoms), scoring each with
   the official scorer (95% cluster-bootstrap CIs);
6. compare ``knn-av`` with ``knn-visual`` by a paired test: does the soundtrack add signal?
7. submit every baseline to a local leaderboard (SQLite, in-process) that scores them again;
8. draw the report: figures (SVG, PNG) and an HTML page.

Every step prints its time, and resumes: re-running reuses the videos, the built clips (ledger),
the cached features and every baseline whose predictions and results are already there for this
dataset revision. Results land in ``OUT/results/<baseline>.json``; ``OUT/demo.json`` records what
ran, and ``avg-bench baseline summary OUT --readme baselines/README.md`` turns it into the README table.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from avg_bench.cache import atomic_write_bytes, sha256_file
from avg_bench.modality import modality_set_name

#: The demo host's port when free: the remote manifest holds its URLs, so a fixed port keeps that file
#: (and the manifest hash in build_info.json) the same from run to run; the revision ignores URLs.
HOST_PORT = 47319
STEPS = 8

#: Every baseline that needs no downloaded weights, with the options the demo gives it (the reference
#: stages trained shorter than their defaults, so the whole demo stays within minutes on 2 cores).
DEMO_BASELINES: dict[str, dict[str, str]] = {
    "random-sphere": {},
    "train-prior": {},
    "knn-audio": {},
    "knn-visual": {},
    "knn-av": {},
    "flow-av": {"train_steps": "1000"},
    "audio-atoms": {"sae_steps": "500", "flow_steps": "1000"},
}
NOT_RUN = {
    "vlm-zero-shot": "not run by the demo: it needs a real VLM checkpoint (e.g. Qwen/Qwen2.5-VL-3B-Instruct), "
    "which the offline demo does not download; run `avg-bench baseline run vlm-zero-shot -o model=...`",
}


@dataclass
class DemoResult:
    """What the demo made: the folders, the scores and, with the leaderboard extra, the board."""
    out: Path
    dataset: Path
    results: dict = field(default_factory=dict)  # baseline -> avg_bench.results.Results
    comparison: object = None  # knn-av vs knn-visual, a Results with .comparison
    revision: str = ""
    board: object = None  # leaderboard.demo.DemoBoard
    report: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)  # step -> seconds


class StepClock:
    """Numbered steps that print one line each when done, with their wall time (logs stay clean)."""

    def __init__(self, echo: Callable[[str], None], total: int = STEPS) -> None:
        self.echo, self.total, self.done, self.timings = echo, total, 0, {}

    @contextmanager
    def step(self, title: str) -> Iterator[dict]:
        """Time one step of the demo and yield a dict the step fills with its one-line detail."""
        note: dict = {}
        began = time.perf_counter()
        yield note
        seconds = time.perf_counter() - began
        self.done += 1
        self.timings[title] = round(seconds, 1)
        detail = f": {note['detail']}" if note.get("detail") else ""
        self.echo(f"[{self.done}/{self.total}] {title}{detail} ({seconds:.1f} s)")


def run_demo(out: str | Path, *, locations: int = 12, videos_per_location: int = 5, clips_per_video: int = 4,
             video_seconds: float = 42.0, seed: int = 0, workers: int | None = None, bootstrap: int = 1000,
             progress: bool = True, echo: Callable[[str], None] = lambda line: None) -> DemoResult:
    """Run the whole loop on a small synthetic dataset: synth, build, baselines, scores, leaderboard, report."""
    from avg_bench.data.locations import load_locations
    from avg_bench.data.synth import generate_synth, pick_locations

    out = Path(out)
    workers = workers or min(8, os.cpu_count() or 1)
    clock = StepClock(echo)
    with clock.step("AVG-Synth sources") as note:
        places = pick_locations(load_locations(), locations, seed=seed)
        synth = generate_synth(out / "synth", places, videos_per_location=videos_per_location,
                               clips_per_video=clips_per_video, video_seconds=video_seconds, seed=seed,
                               workers=workers, progress=progress)
        note["detail"] = f"{locations} locations x {videos_per_location} videos"
    dataset = out / "avg-synth"
    with clock.step("build through a local video host (yt-dlp, ledger)") as note:
        build = _build_remote(synth.manifest_path, dataset, workers=workers, progress=progress,
                              expected=videos_per_location * clips_per_video)
        note["detail"] = f"{sum(build.counts['seen'].values())} clips, revision {build.revision}"
    with clock.step("validate") as note:
        note["detail"] = _validate(dataset, build.labels_dir)
    with clock.step("load with datasets.load_dataset") as note:
        note["detail"] = _load_check(dataset, build.counts["seen"]["val"], out / "cache" / "hf-datasets", progress)

    os.environ.setdefault("AVG_BENCH_CACHE", str(out / "cache"))  # the demo's features stay in its folder
    result = DemoResult(out, dataset, revision=build.revision)
    with clock.step("baselines: fit on train, predict and score val") as note:
        reused = 0
        for name, options in DEMO_BASELINES.items():
            began = time.perf_counter()
            result.results[name], again = _baseline(name, options, out, dataset, build.revision, seed, bootstrap, progress)
            reused += again
            metrics = result.results[name].metrics
            echo(f"      {name:<14} acc@750km {100 * metrics['acc@750km'].value:5.1f} %  "
                 f"{'reused' if again else f'{time.perf_counter() - began:5.1f} s'}")
        note["detail"] = f"{len(DEMO_BASELINES)} baselines ({reused} reused)"
    with clock.step("paired comparison: knn-av vs knn-visual"):
        from avg_bench.data.layout import split_shards
        from avg_bench.evaluation import evaluate

        result.comparison = evaluate(out / "predictions" / "knn-av.jsonl", split_shards("val", root=dataset),
                                     baseline=out / "predictions" / "knn-visual.jsonl", bootstrap=bootstrap, seed=seed)
    with clock.step("local leaderboard (SQLite): submit and score") as note:
        from avg_bench.errors import AvgBenchError
        from baselines.registry import BASELINES

        try:
            from leaderboard.demo import submit_demo
        except ImportError as exc:
            raise AvgBenchError(f"the demo's leaderboard needs its extra: pip install 'avg-bench[leaderboard]' "
                                f"({exc.name} is missing)") from None

        result.board = submit_demo(out / "leaderboard", dataset, build.labels_dir,
                                   {name: out / "predictions" / f"{name}.jsonl" for name in DEMO_BASELINES},
                                   revision=build.revision, bootstrap=bootstrap, seed=seed,
                                   modalities={n: modality_set_name(BASELINES[n].modalities) for n in DEMO_BASELINES})
        note["detail"] = f"{len(result.board.entries)} entries ({result.board.submitted} new)"
    with clock.step("report: figures and HTML") as note:
        from avg_bench.figures.report import write_report

        result.report = write_report(list(result.results.items()), out / "report")
        note["detail"] = str(result.report)
    result.timings = clock.timings
    _write_info(out, result, build, locations, videos_per_location * clips_per_video, bootstrap, seed)
    return result


def _build_remote(manifest: Path, dataset: Path, *, workers: int, progress: bool, expected: int):
    """Serve the sources on 127.0.0.1 and build from URLs, exactly as a remote AVG build runs."""
    import dataclasses

    from avg_bench.data.build import build_dataset
    from avg_bench.data.local_host import LocalHost
    from avg_bench.data.manifest import read_manifest, write_manifest
    from avg_bench.data.remote import RunOptions
    from avg_bench.errors import AvgBenchError

    with LocalHost(manifest.parent, port=HOST_PORT) as host:
        remote = manifest.with_name("manifest-remote.jsonl")
        write_manifest([dataclasses.replace(r, source_uri=host.url(r.source_uri)) for r in read_manifest(manifest)], remote)
        build = build_dataset(remote, dataset, name="AVG-Synth", workers=workers, progress=progress,
                              expected_clips_per_location=expected,
                              run_options=RunOptions(workers=workers, requests_per_minute=0))  # loopback: no politeness
    if not build.complete:
        failed = [row for row in build.outcome.rows if row.state != "ok"] if build.outcome else []
        raise AvgBenchError(f"the demo build left {len(failed)} clip(s) unfinished; re-run `avg-bench demo` to retry "
                            f"(first: {failed[0].clip_id if failed else '?'})")
    return build


def _validate(dataset: Path, labels_dir: Path) -> str:
    from avg_bench.data.validate import validate
    from avg_bench.errors import AvgBenchError

    report = validate(dataset, labels_dir=labels_dir)
    if not report.ok:
        first = report.violations[0]
        raise AvgBenchError(f"{dataset}: validation found {len(report.violations)} problem(s), first: "
                            f"{first.check} {first.subject}: {first.detail}")
    return f"ok, {report.locations} locations, 0 violations"


def _load_check(dataset: Path, expected: int, cache: Path, progress: bool) -> str:
    """What a researcher runs first: ``load_dataset(DIR, "seen", split="val")``, media typed."""
    import datasets

    from avg_bench.errors import AvgBenchError

    if not progress:  # its bars would leave lines in a log
        datasets.disable_progress_bars()
    val = datasets.load_dataset(str(dataset), "seen", split="val", cache_dir=str(cache))
    kinds = {name: type(val.features[name]).__name__ for name in ("video", "audio")}
    if len(val) != expected:
        raise AvgBenchError(f"load_dataset read {len(val)} val clips, the build wrote {expected}")
    return f"seen/val: {len(val)} clips, video as {kinds['video']}, audio as {kinds['audio']}"


def _baseline(name: str, options: dict, out: Path, dataset: Path, revision: str, seed: int, bootstrap: int,
              progress: bool):
    """``(results, reused)``: a finished baseline is reused when its files match this dataset revision."""
    from avg_bench.results import Results
    from baselines.run import run_baseline

    predictions, results_path = out / "predictions" / f"{name}.jsonl", out / "results" / f"{name}.json"
    if predictions.is_file() and results_path.is_file():
        try:
            old = Results.from_json(results_path)
        except Exception:  # an unreadable or older file: run again
            old = None
        if (old is not None and old.dataset.get("revision") == revision and old.settings["bootstrap"]["resamples"] == bootstrap
                and old.predictions.get("sha256") == sha256_file(predictions)):
            return old, True
    run = run_baseline(name, data=dataset, split="val", out=predictions, seed=seed, options=options, evaluate=True,
                       bootstrap=bootstrap, progress=progress)
    atomic_write_bytes(results_path, run.results.to_json().encode())
    return run.results, False


def _write_info(out: Path, result: DemoResult, build, locations: int, per_location: int, bootstrap: int, seed: int) -> None:
    val = build.counts["seen"]["val"]
    info = {
        "caption": (f"AVG-Synth (synthetic: never report as AVG), {locations} locations x "
                    f"{per_location} clips, config `seen`, fitted on `train`, "
                    f"scored on `val` ({val} clips); accuracies in % with 95% cluster-bootstrap CIs over "
                    f"locations ({bootstrap} resamples); the reference stages trained short for the demo "
                    f"(flow-av: 1000 flow steps; audio-atoms: 500 SAE + 1000 flow steps, log-mel windows); "
                    f"dataset revision `{build.revision}`; "
                    f"made by `avg-bench demo --seed {seed}`."),
        "dataset": str(result.dataset),
        "revision": build.revision,
        "baselines": DEMO_BASELINES,
        "not_run": NOT_RUN,
        "timings_s": result.timings,
        "report": str(result.report),
        "leaderboard": {"db": result.board.settings.db_url, "entries": result.board.entries} if result.board else None,
    }
    atomic_write_bytes(out / "demo.json", json.dumps(info, indent=2).encode())

