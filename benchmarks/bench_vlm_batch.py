"""Benchmark batched ``vlm-zero-shot`` generation: clips/s by batch size, on CPU, with a tiny model.

    python benchmarks/bench_vlm_batch.py [--clips 32] [--batch-sizes 1,4,16,32] [--threads N]

The model is the tests' tiny config-built Qwen2.5-VL (random weights, tokenizer trained on the fly:
tests/baselines_tests/tiny_models.py), shown 2 keyframes of 192x108 per clip with the real
``vlm-zero-shot`` prompt, greedy, ``--max-new-tokens`` new tokens (``min_new_tokens`` holds every
row to the same length, so batch sizes compare equal work). It measures the batching machinery
(left padding, one ``generate`` call per batch), not a real model's speed: for that see TRAPS.md
(a 3B VLM on an H200: 1.24 clips/s at batch 16, 7.34 at 128). Greedy answers are checked to be
identical across batch sizes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT), str(ROOT / "tests")]

from _machine import print_table  # noqa: E402
from baselines_tests.tiny_models import make_tiny_qwen_vl  # noqa: E402

from baselines.generation import ChatPrompter, generate_batched  # noqa: E402
from baselines.vlm import PROMPT  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--batch-sizes", default="1,4,16,32")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: see baselines/reference/README.md)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    import transformers
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        folder = make_tiny_qwen_vl(Path(tmp) / "qwen", prompt=PROMPT.format(n=2), steps=0)
        model = transformers.AutoModelForImageTextToText.from_pretrained(folder).eval()
        model.generation_config.min_new_tokens = args.max_new_tokens
        prompter = ChatPrompter.load(str(folder))
    rng = np.random.default_rng(0)
    images = [[Image.fromarray(rng.integers(0, 255, (108, 192, 3), dtype=np.uint8)) for _ in range(2)] for _ in range(args.clips)]
    prompts = [PROMPT.format(n=2)] * args.clips
    generate_batched(model, prompter, prompts[:2], images[:2], args.max_new_tokens, 2)  # warm-up
    rows, first, base = [], None, None
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        start = time.perf_counter()
        answers = generate_batched(model, prompter, prompts, images, args.max_new_tokens, batch_size)
        rate = args.clips / (time.perf_counter() - start)
        first = first or answers
        base = base or rate
        same = answers == first
        rows.append((f"batch {batch_size}: {args.clips} clips, {args.max_new_tokens} new tokens",
                     f"{rate:.2f} clips/s ({rate / base:.1f}x batch {args.batch_sizes.split(',')[0]})",
                     "answers = first batch size's", same))
    print_table(Console(), f"vlm-zero-shot batched generation, tiny Qwen2.5-VL (torch {torch.__version__}, "
                           f"{args.threads} threads, load avg {load:.1f})", rows)


if __name__ == "__main__":
    main()
