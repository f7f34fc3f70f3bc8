"""``avg-bench demo``: the whole loop offline in a few minutes, on embedded defaults.

1. generate AVG-Synth source videos over 12 real locations (ffmpeg, espeak-ng);
2. build them into a dataset exactly as AVG is built (canonical media, splits, shards, card);
3. fit every baseline that needs no downloaded weights on ``train`` and predict ``val`` (the
   priors, kNN retrieval, and the reference model's flow head and acoustic atoms);
4. score each with the official scorer (95% cluster-bootstrap CIs) and compare ``knn-av`` with
   ``knn-visual`` by a paired test: does the soundtrack add signal?

Every step resumes: re-running reuses the videos, the built clips and the cached features.
Results land in ``OUT/results/<baseline>.json``; ``OUT/demo.json`` records what ran, and
``python -m baselines.summary OUT --readme baselines/README.md`` turns it into the README table.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from avg_bench.cache import atomic_write_bytes

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
    out: Path
    dataset: Path
    results: dict = field(default_factory=dict)  # baseline -> avg_bench.results.Results
    comparison: object = None  # knn-av vs knn-visual, a Results with .comparison


def run_demo(out: str | Path, *, locations: int = 12, videos_per_location: int = 5, clips_per_video: int = 4,
             video_seconds: float = 42.0, seed: int = 0, workers: int | None = None, bootstrap: int = 1000,
             progress: bool = True) -> DemoResult:
    from avg_bench.data.build import build_dataset
    from avg_bench.data.locations import load_locations
    from avg_bench.data.synth import generate_synth, pick_locations
    from avg_bench.evaluation import evaluate
    from baselines.run import run_baseline

    out = Path(out)
    workers = workers or min(8, os.cpu_count() or 1)
    places = pick_locations(load_locations(), locations, seed=seed)
    synth = generate_synth(out / "synth", places, videos_per_location=videos_per_location,
                           clips_per_video=clips_per_video, video_seconds=video_seconds, seed=seed,
                           workers=workers, progress=progress)
    dataset = out / "avg-synth"
    build = build_dataset(synth.manifest_path, dataset, name="AVG-Synth", workers=workers, progress=progress,
                          expected_clips_per_location=videos_per_location * clips_per_video)
    os.environ.setdefault("AVG_BENCH_CACHE", str(out / "cache"))  # the demo's features stay in its folder
    result = DemoResult(out, dataset)
    for name, options in DEMO_BASELINES.items():
        run = run_baseline(name, data=dataset, split="val", out=out / "predictions" / f"{name}.jsonl", seed=seed,
                           options=options, evaluate=True, bootstrap=bootstrap, progress=progress)
        atomic_write_bytes(out / "results" / f"{name}.json", run.results.to_json().encode())
        result.results[name] = run.results
    from avg_bench.data.layout import split_shards

    result.comparison = evaluate(out / "predictions" / "knn-av.jsonl", split_shards("val", root=dataset),
                                 baseline=out / "predictions" / "knn-visual.jsonl", bootstrap=bootstrap, seed=seed)
    val = build.counts["seen"]["val"]
    info = {
        "caption": (f"AVG-Synth (synthetic: never report as AVG), {locations} locations x "
                    f"{videos_per_location * clips_per_video} clips, config `seen`, fitted on `train`, "
                    f"scored on `val` ({val} clips); accuracies in % with 95% cluster-bootstrap CIs over "
                    f"locations ({bootstrap} resamples); the reference stages trained short for the demo "
                    f"(flow-av: 1000 flow steps; audio-atoms: 500 SAE + 1000 flow steps, log-mel windows); "
                    f"dataset revision `{build.revision}`; "
                    f"made by `avg-bench demo --seed {seed}`."),
        "dataset": str(dataset),
        "revision": build.revision,
        "baselines": DEMO_BASELINES,
        "not_run": NOT_RUN,
    }
    atomic_write_bytes(out / "demo.json", json.dumps(info, indent=2).encode())
    return result
