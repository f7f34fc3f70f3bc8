"""Training the reasoning stage: supervised warm-up on Chain-of-Region targets, then GRPO.

* :func:`warm_up`: teacher forcing on (prompt, target) pairs, loss on the target tokens only,
  LoRA (peft; merged back afterwards) or full fine-tuning. It runs through ``accelerate``: the
  same code runs on one CPU, one GPU, or several under ``accelerate launch`` (data parallel).
* :func:`grpo`: TRL's ``GRPOTrainer`` with the rewards of :mod:`.rewards` on image prompts (the
  trainer takes ``images`` columns only: the atoms travel as prompt text). TRL itself runs on
  ``accelerate``; ``use_vllm`` switches on TRL's vLLM generation where vLLM is installed (GPU).
* :func:`hard_clips`: which training clips GRPO sees: sampled answers are scored and clips whose
  samples all earn one reward are dropped (their group advantage is zero).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from avg_bench.errors import AvgBenchError
from baselines.reference.reasoning.prompting import ClipPrompt, answers, encode
from baselines.reference.reasoning.rewards import (
    select_hard_clips,
    total_reward,
    trl_reward_functions,
)

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]  # every linear layer of the LM


@dataclass(frozen=True)
class ClipTruth:
    """What the rewards compare with: the point and its Chain-of-Region names, plus the cited atoms."""

    lat: float
    lon: float
    continent: str
    country: str
    region: str
    city: str
    atom_names: tuple[str, ...] = ()


def warm_up(model: Any, processor: Any, prompts: Sequence[ClipPrompt], targets: Sequence[str], *, steps: int,
            batch_size: int = 4, lr: float = 1e-4, lora: bool = True, lora_rank: int = 16, device: str = "cpu",
            seed: int = 0) -> tuple[Any, list[float]]:
    """Supervised warm-up; returns the (merged) model and the loss per step."""
    import torch
    from accelerate import Accelerator

    if len(prompts) != len(targets) or not prompts:
        raise AvgBenchError("warm-up needs one target per prompt, and at least one")
    torch.manual_seed(seed)
    if lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=lora_rank, lora_alpha=2 * lora_rank, lora_dropout=0.0,
                                                 target_modules=LORA_TARGETS))
    accelerator = Accelerator(cpu=device == "cpu")
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model, optimiser = accelerator.prepare(model, optimiser)
    model.train()
    rng = np.random.default_rng(seed)
    eos = processor.tokenizer.eos_token or ""
    losses = []
    for _ in range(steps):
        chosen = rng.choice(len(prompts), size=min(batch_size, len(prompts)), replace=False)
        batch = {k: v.to(accelerator.device) if hasattr(v, "to") else v
                 for k, v in encode(processor, [prompts[i] for i in chosen], [targets[i] for i in chosen]).items()}
        labels = batch["input_ids"].clone()
        labels[batch["attention_mask"] == 0] = -100
        for row, i in enumerate(chosen):  # left padding: the target is the last tokens of its row
            n_target = len(processor.tokenizer(targets[i] + eos, add_special_tokens=False)["input_ids"])
            labels[row, : labels.shape[1] - n_target] = -100
        loss = model(**batch, labels=labels).loss
        accelerator.backward(loss)
        optimiser.step()
        optimiser.zero_grad()
        losses.append(float(loss.detach()))
    model = accelerator.unwrap_model(model)
    if lora:
        model = model.merge_and_unload()
        model.requires_grad_(True)  # peft froze the base weights; later stages train them all
    return model.eval(), losses


def hard_clips(model: Any, processor: Any, prompts: Sequence[ClipPrompt], truths: Sequence[ClipTruth], n: int, *,
               samples: int = 4, temperature: float = 1.0, max_new_tokens: int = 256,
               batch_size: int = 16) -> np.ndarray:
    """Indices of up to ``n`` clips whose sampled answers disagree in reward, hardest first."""
    texts = answers(model, processor, prompts, batch_size=batch_size, max_new_tokens=max_new_tokens,
                    temperature=temperature, samples=samples)
    repeat = [t for t in truths for _ in range(samples)]
    truth = {level: [getattr(t, level) for t in repeat] for level in ("continent", "country", "region", "city")}
    rewards = total_reward(texts, [t.lat for t in repeat], [t.lon for t in repeat], truth)
    return select_hard_clips(rewards.reshape(len(prompts), samples), n)


def grpo(model: Any, processor: Any, prompts: Sequence[ClipPrompt], truths: Sequence[ClipTruth], *, output_dir: str | Path,
         steps: int, num_generations: int = 8, max_completion_length: int = 256, lr: float = 1e-6,
         temperature: float = 1.0, evidence: bool = False, lora: bool = False, lora_rank: int = 16,
         device: str = "cpu", bf16: bool = False, use_vllm: bool | None = None,
         seed: int = 0) -> tuple[Any, list[dict]]:
    """GRPO with TRL; returns the trained model and TRL's log history (rewards per step)."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    if use_vllm is None:
        use_vllm = device != "cpu" and importlib.util.find_spec("vllm") is not None
    columns: dict[str, list] = {
        "prompt": [[{"role": "user", "content": p.text}] for p in prompts],
        **{key: [getattr(t, key) for t in truths] for key in ("lat", "lon", "continent", "country", "region", "city")},
        "atom_names": [list(t.atom_names) for t in truths],
    }
    if any(p.images for p in prompts):
        columns["images"] = [p.images for p in prompts]
    config = GRPOConfig(
        output_dir=str(output_dir), max_steps=steps, learning_rate=lr, num_generations=num_generations,
        per_device_train_batch_size=num_generations, gradient_accumulation_steps=1,
        max_completion_length=max_completion_length, temperature=temperature, beta=0.0,
        logging_steps=1, save_strategy="no", report_to=[], seed=seed, use_cpu=device == "cpu", bf16=bf16 and device != "cpu",
        gradient_checkpointing=False, use_vllm=use_vllm, disable_tqdm=True,
    )
    peft_config = None
    if lora:
        from peft import LoraConfig

        peft_config = LoraConfig(r=lora_rank, lora_alpha=2 * lora_rank, target_modules=LORA_TARGETS)
    trainer = GRPOTrainer(model=model, reward_funcs=trl_reward_functions(evidence=evidence), args=config,
                          train_dataset=Dataset.from_dict(columns), processing_class=processor, peft_config=peft_config)
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # it prints every log dict to stdout, which is the CLI's --json channel
    trainer.train()
    trained = trainer.accelerator.unwrap_model(trainer.model)
    if lora:
        trained = trained.merge_and_unload()
        trained.requires_grad_(True)
    processor.tokenizer.padding_side = "left"
    return trained.eval(), trainer.state.log_history
