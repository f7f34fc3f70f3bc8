"""A config-built Qwen2.5-VL (tokenizer trained on the fly) through warm-up and GRPO on CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from baselines.answer_parser import parse_answer
from baselines.reference.reasoning.prompting import (
    ClipPrompt,
    answers,
    load_processor,
    pooled_states,
    prompt_text,
)
from baselines.reference.reasoning.targets import chains_of_region, check_format, reasoning_target
from baselines.reference.reasoning.tiny import build_tiny_qwen_vl
from baselines.reference.reasoning.training import ClipTruth, grpo, hard_clips, warm_up


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The pipeline's thread policy (Runtime.threads = 1) for these direct calls: a second thread spin-waits."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Four clips in four countries; each clip's keyframes have their own colour, so the model can tell them apart."""
    chains = chains_of_region([48.8566, -33.8688, 35.6895, 40.7143], [2.3522, 151.2093, 139.6917, -74.006])
    atoms = [[("rain", 0.5)], [("surf", 0.6)], [("trains", 0.4)], [("traffic", 0.7)]]
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40)]
    prompts = [ClipPrompt([Image.new("RGB", (96, 54), colour)] * 2, prompt_text(n_frames=2, atoms=a))
               for colour, a in zip(colours, atoms)]
    targets = [reasoning_target(chain, atoms=a) for chain, a in zip(chains, atoms)]
    truths = [ClipTruth(c.lat, c.lon, c.continent, c.country, c.region, c.city, tuple(n for n, _ in a))
              for c, a in zip(chains, atoms)]
    folder = build_tiny_qwen_vl(tmp_path_factory.mktemp("tiny-qwen"), targets + [p.text for p in prompts])
    return folder, prompts, targets, truths


def _model(folder):
    from transformers import AutoModelForImageTextToText

    torch.manual_seed(0)
    return AutoModelForImageTextToText.from_pretrained(folder), load_processor(str(folder))


def test_lora_warm_up_lowers_the_loss_and_merges_into_the_weights(clips):
    folder, prompts, targets, _ = clips
    model, processor = _model(folder)
    before = model.model.language_model.layers[0].self_attn.q_proj.weight.detach().clone()
    model, losses = warm_up(model, processor, prompts, targets, steps=12, lr=1e-2, lora=True, lora_rank=8)
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"  # merged back: no peft wrapper left
    assert np.mean(losses[-3:]) < np.mean(losses[:3]) - 0.2  # a random tiny LM learns slowly through rank 8
    after = model.model.language_model.layers[0].self_attn.q_proj.weight
    assert not torch.equal(before, after) and all(p.requires_grad for p in model.parameters())


def test_full_warm_up_then_two_grpo_steps_change_the_weights_and_log_rewards(clips, tmp_path):
    folder, prompts, targets, truths = clips
    model, processor = _model(folder)
    model, losses = warm_up(model, processor, prompts, targets, steps=120, lr=8e-3, lora=False)
    assert losses[-1] < 0.3 * losses[0]
    texts = answers(model, processor, prompts, max_new_tokens=120, batch_size=4)
    assert sum(check_format(a).ok for a in texts) >= 2  # the warm-up taught the format
    assert any(parse_answer(a).country == t.country for a, t in zip(texts, truths))

    hard = hard_clips(model, processor, prompts, truths, 4, samples=4, temperature=2.0, max_new_tokens=120)
    assert len(hard) >= 1 and len(set(hard.tolist())) == len(hard)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    model, history = grpo(model, processor, [prompts[i] for i in hard], [truths[i] for i in hard],
                          output_dir=tmp_path, steps=2, num_generations=2, max_completion_length=120, lr=1e-3, temperature=2.0,
                          evidence=True)
    steps = [row for row in history if "reward" in row]
    assert len(steps) == 2
    for row in steps:
        for name in ("format", "distance", "hierarchy", "cites_atoms"):
            assert 0.0 <= row[f"rewards/{name}/mean"] <= 1.0
    assert any(row["reward_std"] > 0 for row in steps)  # a group with different rewards: a real gradient
    changed = [name for name, p in model.named_parameters() if not torch.equal(before[name], p)]
    assert len(changed) > len(before) // 2

    states = pooled_states(model, processor, prompts, texts, batch_size=3)  # two batches, left padded
    assert states.shape == (4, model.config.text_config.hidden_size) and np.isfinite(states).all()
    single = pooled_states(model, processor, prompts[3:], texts[3:])
    np.testing.assert_allclose(states[3], single[0], atol=1e-4)  # padding does not leak into the pool
