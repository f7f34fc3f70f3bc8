"""Batched generation: left-padded batches give the same greedy answers as one item at a time."""

from __future__ import annotations

import numpy as np
import pytest
from baselines_tests.tiny_models import make_tiny_qwen_vl

from avg_bench.errors import AvgBenchError
from baselines.generation import ChatPrompter, generate_batched

PROMPTS = ["Where?", "Where on Earth was this filmed? Think about it.", "Which country?", "Name the city, please, and its coordinates.", "Where?"]


@pytest.fixture(scope="module")
def tiny_qwen(tmp_path_factory):
    """A random (unfitted) tiny Qwen2.5-VL: its answers differ from prompt to prompt."""
    import transformers

    folder = make_tiny_qwen_vl(tmp_path_factory.mktemp("qwen"), prompt=" ".join(PROMPTS), steps=0)
    return transformers.AutoModelForImageTextToText.from_pretrained(folder).eval(), ChatPrompter.load(str(folder))


def _images(seed: int, count: int, size: tuple[int, int]) -> list:
    from PIL import Image

    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)) for _ in range(count)]


def test_batched_greedy_answers_equal_one_by_one(tiny_qwen):
    model, prompter = tiny_qwen
    # Prompts and image sizes differ, so rows of a batch differ in length and get left padding.
    images = [_images(i, 2, size) for i, size in enumerate([(56, 56), (108, 192), (80, 80), (112, 112), (64, 100)])]
    one_by_one = generate_batched(model, prompter, PROMPTS, images, max_new_tokens=12, batch_size=1)
    batch = prompter.batch(images[:3], PROMPTS[:3])
    lengths = batch["attention_mask"].sum(dim=1)
    assert len(set(lengths.tolist())) == 3 and (batch["attention_mask"][:, -1] == 1).all()  # padded on the left
    assert len(set(one_by_one)) >= 3 and all(one_by_one)  # a random model: answers differ by input
    for batch_size in (2, 5):
        done = []
        assert generate_batched(model, prompter, PROMPTS, images, max_new_tokens=12, batch_size=batch_size,
                                on_batch=done.append) == one_by_one
        assert sum(done) == 5 and len(done) == -(-5 // batch_size)


def test_bad_batches_are_clear_errors(tiny_qwen):
    model, prompter = tiny_qwen
    with pytest.raises(AvgBenchError, match="batch_size must be at least 1"):
        generate_batched(model, prompter, PROMPTS[:1], [_images(0, 1, (56, 56))], max_new_tokens=2, batch_size=0)
    with pytest.raises(AvgBenchError, match="2 prompts for 1 image lists"):
        prompter.batch([_images(0, 1, (56, 56))], PROMPTS[:2])
