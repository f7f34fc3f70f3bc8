"""``avg-reference`` end to end on AVG-Synth on CPU: the three stages fitted, predictions written and
scored by ``avg-bench evaluate``, the checkpoint reloaded; the ablations drop what they should."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from baselines.answer_parser import parse_answer
from baselines.reference.pipeline import ReferenceAudio, ReferencePipeline, ReferenceVision
from baselines.reference.reasoning.prompting import prompt_text
from baselines.run import run_baseline

CLI = Path(sys.executable).parent / "avg-bench"
#: The tiny-cpu preset, trimmed further so the test stays short on 2 cores.
FAST = {"sae_steps": "100", "reasoning_clips": "16", "grpo_steps": "2", "grpo_clips": "2",
        "max_new_tokens": "128", "flow_steps": "150", "n_samples": "8", "sample_steps": "8", "warmup_steps": "250"}


def test_avg_reference_trains_predicts_scores_and_reloads(synth_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("AVG_BENCH_CACHE", str(tmp_path / "cache"))
    out, checkpoint = tmp_path / "ref.jsonl", tmp_path / "ckpt"
    run = run_baseline("avg-reference", data=synth_dataset.root, split="val", out=out, progress=False,
                       options={**FAST, "checkpoint": str(checkpoint)}, evaluate=True, bootstrap=0)
    log = run.record["baseline"]["training_log"]
    assert np.mean(log["warmup_loss"][-3:]) < 0.2 * log["warmup_loss"][0]
    assert len(log["grpo"]) == 2 and all("rewards/distance/mean" in row for row in log["grpo"])
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == run.record["clips"] == 36  # AVG-Synth's seen val: 9 public locations x 4 clips
    for record in records:
        assert -90 <= record["lat"] <= 90 and len(record["samples"]) == 8
        assert isinstance(record["reasoning"], str)
    # the lat/lon written is one of the flow's samples (the vMF mode of the samples)
    assert all(any(np.allclose([r["lat"], r["lon"]], s, atol=1e-5) for s in r["samples"]) for r in records)
    parsed = [parse_answer(r["reasoning"]) for r in records]
    assert sum(not p.abstained for p in parsed) >= 8  # 250 warm-up steps on 16 clips: 12 of 36 parsed when written

    done = subprocess.run([str(CLI), "evaluate", str(out), "--split", "val", "--data", str(synth_dataset.root),
                           "--json", "-", "--bootstrap", "0"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)["metrics"]
    assert metrics["acc@2500km"]["value"] == run.results.metrics["acc@2500km"].value
    assert metrics["acc@2500km"]["value"] > 0.2  # 12 locations: a uniform guess is near 0.03

    reloaded = ReferencePipeline(checkpoint=str(checkpoint), progress=False, n_samples=8, sample_steps=8)
    from baselines.dataset import load_split

    reloaded.fit(load_split(synth_dataset.root, "train"))  # a finished checkpoint is loaded, not retrained
    again = reloaded.predict(load_split(synth_dataset.root, "val").head(8))
    np.testing.assert_allclose(again.lat, [r["lat"] for r in records[:8]], atol=1e-4)
    assert again.reasoning == [r["reasoning"] for r in records[:8]]


def test_ablations_drop_their_modality_everywhere():
    assert ReferenceVision().feature_specs() == {"visual": "colour"}
    assert ReferenceAudio().feature_specs() == {"audio": "logmel"}
    assert ReferencePipeline().feature_specs() == {"audio": "logmel", "visual": "colour"}
    assert "acoustic atoms" not in prompt_text(n_frames=2, atoms=None)
    assert prompt_text(n_frames=0, atoms=[("rain", 0.5)]).startswith("A short video's soundtrack. Its soundtrack's")
