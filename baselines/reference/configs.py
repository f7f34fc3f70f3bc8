"""Configurations of the ``avg-reference`` pipeline, tiny CPU ones beside real-size GPU ones.

Each preset is a :class:`ReferenceConfig`; ``-o preset=NAME`` picks one and any other ``-o`` option
overrides one field. ``gpus`` and ``expected_hours`` are documentation (what a run of AVG's 16,000
training clips is planned to take), not settings: ``accelerate launch`` decides the devices.
The GPU hours are estimates scaled from the one measurement in issue 12 (Qwen2.5-VL-3B, bf16,
H200: 7.34 clips/s generating 128 tokens at batch 128) and not yet measured end to end.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class ReferenceConfig:
    """Every setting of the three stages; the field names are the pipeline's options."""

    model: str = "tiny"  # "tiny": a config-built Qwen2.5-VL (no download); else a hub name or folder
    revision: str | None = None
    max_pixels: int | None = None
    keyframes: int = 2
    top_atoms: int = 4
    audio_features: str = "logmel"
    visual_features: str = "colour"
    n_atoms: int = 64
    k: int = 8
    n_experts: int = 2
    sae_steps: int = 300
    reasoning_clips: int = 32  # training clips for warm-up and hard-clip mining (0: all)
    warmup_steps: int = 100
    warmup_lr: float = 1e-2
    warmup_batch: int = 4
    lora: bool = False
    lora_rank: int = 16
    grpo_steps: int = 2
    grpo_clips: int = 8
    num_generations: int = 2
    grpo_lr: float = 1e-3
    max_new_tokens: int = 160
    generation_batch: int = 16
    flow_steps: int = 400
    n_samples: int = 32
    sample_steps: int = 32
    device: str = "cpu"
    dtype: str = "fp32"
    threads: int = 1
    gpus: int = 0
    expected_hours: float = 0.02


PRESETS: dict[str, ReferenceConfig] = {
    # Seconds on 2 CPU cores: the tests and the demo.
    "tiny-cpu": ReferenceConfig(),
    # One 80-141 GB GPU: Qwen2.5-VL-3B, LoRA warm-up on all clips, 400 GRPO steps of 8 x 8 samples.
    "qwen2.5-vl-3b-1gpu": ReferenceConfig(
        model="Qwen/Qwen2.5-VL-3B-Instruct", max_pixels=448 * 448, keyframes=4, top_atoms=8,
        audio_features="hf:laion/clap-htsat-unfused", visual_features="hf:google/siglip-base-patch16-224",
        n_atoms=4096, k=32, n_experts=4, sae_steps=20_000, reasoning_clips=0, warmup_steps=2_000,
        warmup_lr=1e-4, warmup_batch=16, lora=True, lora_rank=64, grpo_steps=400, grpo_clips=4_000,
        num_generations=8, grpo_lr=1e-6, max_new_tokens=256, generation_batch=128, flow_steps=20_000,
        n_samples=64, sample_steps=64, device="cuda", dtype="bf16", gpus=1, expected_hours=14.0,
    ),
    # Eight GPUs under `accelerate launch --num_processes 8`: Qwen2.5-VL-7B, full fine-tuning.
    "qwen2.5-vl-7b-8gpu": ReferenceConfig(
        model="Qwen/Qwen2.5-VL-7B-Instruct", max_pixels=448 * 448, keyframes=4, top_atoms=8,
        audio_features="hf:laion/clap-htsat-unfused", visual_features="hf:google/siglip-base-patch16-224",
        n_atoms=4096, k=32, n_experts=4, sae_steps=20_000, reasoning_clips=0, warmup_steps=1_000,
        warmup_lr=1e-5, warmup_batch=8, lora=False, grpo_steps=600, grpo_clips=8_000, num_generations=8,
        grpo_lr=1e-6, max_new_tokens=256, generation_batch=64, flow_steps=20_000, n_samples=64,
        sample_steps=64, device="cuda", dtype="bf16", gpus=8, expected_hours=9.0,
    ),
}

FIELDS = tuple(f.name for f in fields(ReferenceConfig))

#: One line per field: the ``-o`` help of ``avg-bench baseline run avg-reference``.
FIELD_HELP: dict[str, str] = {
    "model": "VLM: 'tiny' (config-built Qwen2.5-VL, tokenizer trained on the run's texts) or a hub name / folder",
    "revision": "hub revision (commit) of the VLM to pin",
    "max_pixels": "cap on pixels per keyframe (Qwen2-VL-family processors)",
    "keyframes": "keyframes shown to the VLM per clip (1-4)",
    "top_atoms": "named acoustic atoms per clip in the prompt and the targets",
    "audio_features": "window features for the atoms: logmel, or hf:NAME (CLAP, AST, Whisper)",
    "visual_features": "visual embedding for the flow head: colour, or hf:NAME (SigLIP, CLIP, DINOv2)",
    "n_atoms": "MAR-SAE dictionary size",
    "k": "non-zero novel codes per window (TopK)",
    "n_experts": "MAR-SAE expert encoders",
    "sae_steps": "MAR-SAE training steps",
    "reasoning_clips": "training clips used for warm-up and hard-clip mining (0: all)",
    "warmup_steps": "supervised warm-up steps on Chain-of-Region targets",
    "warmup_lr": "warm-up learning rate",
    "warmup_batch": "clips per warm-up step (per device)",
    "lora": "LoRA (true) or full fine-tuning (false) in warm-up and GRPO",
    "lora_rank": "LoRA rank",
    "grpo_steps": "GRPO steps (TRL GRPOTrainer); 0 skips GRPO",
    "grpo_clips": "hard clips GRPO trains on",
    "num_generations": "GRPO group size: sampled answers per prompt",
    "grpo_lr": "GRPO learning rate",
    "max_new_tokens": "generation budget per answer",
    "generation_batch": "clips per batched generation (left padding)",
    "flow_steps": "flow-head training steps",
    "n_samples": "flow samples per clip (written as samples)",
    "sample_steps": "Euler steps per flow sample",
    "dtype": "fp32, or bf16 (the VLM loaded in bfloat16; stages 1 and 3 under bf16 autocast)",
    "threads": "torch CPU threads while fitting and predicting (default 1: spin-waiting threads on a shared machine, baselines/reference/runtime.py)",
}
