"""Benchmark the reference model's numerical core on CPU (issue 6 targets).

    python benchmarks/bench_reference_core.py [--threads N] [--repeats 3]

Measures, with random weights (speed does not depend on training):
  * SAE encoding throughput at d = 512, 4,096 atoms, k = 32: the plain TopK SAE on independent
    windows (``MarSAE.encode_windows``; target >= 20,000 windows/s), and the MAR-SAE (4 experts +
    causal predictor, k = 32 novel + 16 predicted) on 10-window clips, whose windows must be
    encoded in order;
  * flow sampling with the default ``FlowConfig``: 1,000 clips x 32 samples x 64 Euler steps,
    then the vMF kernel-density mode of each clip's samples (target <= 5 s), conditioned on a
    512-d embedding; the same with midpoint steps and with guidance for reference;
  * exact log-likelihood (adaptive dopri5, rtol = atol = 1e-5, 3 autograd passes per evaluation
    for the divergence): cost per point over 1,000 points, on a flow trained briefly on a vMF
    mixture (an untrained field is zero and would make the solver trivially cheap).
Each timing is the median of ``--repeats`` runs (default 1) after one warm-up. The machine may be shared with
other jobs: the load average at the start is printed beside the table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _machine import print_table  # noqa: E402

from baselines.reference.perception.sae import MarSAE, SAEConfig  # noqa: E402
from baselines.reference.precision import FlowConfig, FlowLocator  # noqa: E402

D, ATOMS, K = 512, 4096, 32
N_WINDOWS = 40_960
CLIPS, SAMPLES, STEPS = 1000, 32, 64


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_sae(repeats: int) -> list[tuple[str, str, str, bool]]:
    rows = []
    x = torch.randn(N_WINDOWS, D)
    plain = MarSAE(D, SAEConfig(n_atoms=ATOMS, k=K), seed=0).eval()

    def encode_plain():
        for start in range(0, N_WINDOWS, 4096):
            plain.encode_windows(x[start : start + 4096])

    t = timed(encode_plain, repeats)
    rate = N_WINDOWS / t
    rows.append(("SAE encode, plain TopK (d=512, 4096 atoms, k=32)", f"{rate:,.0f} windows/s", ">= 20,000/s", rate >= 20_000))
    w, b = plain.W_enc[0].detach(), plain.b_enc[0].detach()

    def matmul_only():
        for start in range(0, N_WINDOWS, 4096):
            torch.addmm(b, x[start : start + 4096], w)

    t = timed(matmul_only, repeats)
    flops = 2 * N_WINDOWS * D * ATOMS / t / 1e9
    rows.append(("  floor: the encoder matmul alone", f"{N_WINDOWS / t:,.0f} windows/s ({flops:.0f} GFLOP/s)", "(reference)", True))

    mar = MarSAE(D, SAEConfig(n_atoms=ATOMS, k=K, n_experts=4, predictor=True, k_pred=16), seed=0).eval()
    clips = x[:20_480].reshape(2048, 10, D)
    mask = torch.ones(2048, 10, dtype=torch.bool)

    def encode_mar():
        with torch.no_grad():
            for start in range(0, 2048, 512):
                mar.encode_clips(clips[start : start + 512], mask[start : start + 512])

    t = timed(encode_mar, repeats)
    rate = 20_480 / t
    rows.append(("SAE encode, MAR (E=4 + predictor, 10-window clips)", f"{rate:,.0f} windows/s", "(reference)", True))
    return rows


def bench_flow(repeats: int) -> list[tuple[str, str, str, bool]]:
    rows = []
    rng = np.random.default_rng(0)
    cond = rng.normal(size=(CLIPS, 512)).astype(np.float32)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, CLIPS)))
    lon = rng.uniform(-180, 180, CLIPS)
    config = FlowConfig()
    model = FlowLocator(FlowConfig(**{**config.__dict__, "train_steps": 1})).fit(cond, lat, lon, progress=False)
    # non-zero weights everywhere, so every layer does its real work
    with torch.no_grad():
        for p in model.field.parameters():
            if p.abs().max() == 0:
                p.normal_(0, 0.02)

    for label, kwargs, target in (
        ("Euler", {}, 5.0),
        ("midpoint", {"method": "midpoint"}, None),
        ("Euler, guidance 1.5", {"guidance": 1.5}, None),
    ):
        t = timed(lambda: model.predict(cond, n_samples=SAMPLES, steps=STEPS, select="vmf", **kwargs), repeats)
        rows.append((
            f"flow sample 1,000 clips x 32 x 64 steps + vMF mode ({label})",
            f"{t:.2f} s",
            f"<= {target:g} s" if target else "(reference)",
            t <= target if target else True,
        ))
    return rows


def bench_likelihood(repeats: int) -> list[tuple[str, str, str, bool]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from reference_tests.vmf import sample_mixture

    from avg_bench.geo.sphere import from_unit_vectors

    x, _ = sample_mixture(50.0, 3000, np.random.default_rng(0))
    lat, lon = from_unit_vectors(x)
    model = FlowLocator(FlowConfig(train_steps=300, batch_size=256, lr=3e-3)).fit(None, lat, lon, progress=False)
    xt, _ = sample_mixture(50.0, 1000, np.random.default_rng(1))
    q_lat, q_lon = from_unit_vectors(xt)
    evaluations = 0
    original = model.field.evaluate

    def counting(x, ctx):
        nonlocal evaluations
        evaluations += 1
        return original(x, ctx)

    model.field.evaluate = counting  # type: ignore[method-assign]
    t = timed(lambda: model.log_likelihood(None, q_lat, q_lon), repeats)
    nfe = evaluations // (repeats + 1)
    return [
        ("exact log-likelihood (dopri5, tol 1e-5), 1,000 points", f"{t / 1000 * 1e3:.2f} ms/point ({t:.2f} s, {nfe} field evals)", "(reference)", True),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: all cores)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--only", choices=["sae", "flow", "likelihood"], default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    rows = []
    for name, bench in (("sae", bench_sae), ("flow", bench_flow), ("likelihood", bench_likelihood)):
        if args.only in (None, name):
            rows += bench(args.repeats)
    console = Console()
    print_table(console, f"Reference core (torch {torch.__version__}, {args.threads} threads, load avg {load:.1f})", rows)


if __name__ == "__main__":
    main()
