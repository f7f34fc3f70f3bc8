"""The reasoning stage's prompt, model and answers.

The prompt (keyframes as images + named atoms as text), the model and processor it runs on,
answers through the shared batched generation (:mod:`baselines.generation`, left padding), and the
pooled hidden state stage 3 reads.

Primary model: Qwen2.5-VL (``Qwen/Qwen2.5-VL-3B-Instruct`` at real size); any
``AutoModelForImageTextToText`` whose processor TRL's ``GRPOTrainer`` accepts works too.
transformers 5 cannot build Qwen2-VL-family processors without torchvision (TRAPS.md), so
:func:`load_processor` falls back to :class:`QwenImageProcessor`: the real Qwen2.5-VL processor
with its video slot removed (images and text only, which is all this stage sends).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from avg_bench.errors import AvgBenchError
from baselines.answer_parser import ANSWER_FORMAT

PROMPT = (
    "These are {n} keyframes of one short video. {atoms}\n"
    "Where on Earth was it recorded? Cite the evidence, then reason step by step, one line per step: "
    "Step 1, continent -> ...; Step 2, country -> ...; Step 3, region -> ...; Step 4, city -> ....\n"
    + ANSWER_FORMAT
)
NO_FRAMES_PROMPT = PROMPT.replace("These are {n} keyframes of one short video. ", "A short video's soundtrack. ")


def prompt_text(*, n_frames: int, atoms: Sequence[tuple[str, float]] | None) -> str:
    r"""The user turn's text; ``atoms`` ``None`` means the audio is not used (vision ablation).

    >>> print(prompt_text(n_frames=2, atoms=[("rain", 0.4)]).split("\n")[0])
    These are 2 keyframes of one short video. Its soundtrack's acoustic atoms (weight): rain 0.40.
    """
    if atoms is None:
        atom_text = ""
    elif atoms:
        atom_text = "Its soundtrack's acoustic atoms (weight): " + "; ".join(f"{n} {w:.2f}" for n, w in atoms) + "."
    else:
        atom_text = "Its soundtrack has no active acoustic atom."
    template = PROMPT if n_frames else NO_FRAMES_PROMPT
    return template.format(n=n_frames, atoms=atom_text).replace(" \n", "\n")


def messages(text: str, n_images: int) -> list[dict]:
    """One user turn: image placeholders first, then the text (TRL's convention too)."""
    return [{"role": "user", "content": [*({"type": "image"} for _ in range(n_images)), {"type": "text", "text": text}]}]


def _qwen_processor_class():
    from transformers import Qwen2_5_VLProcessor
    from transformers.processing_utils import ProcessorMixin

    class QwenImageProcessor(Qwen2_5_VLProcessor):
        """Qwen2.5-VL's processor for images and text only (no video slot, so no torchvision)."""

        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs) -> None:
            self.image_token, self.video_token = "<|image_pad|>", "<|video_pad|>"
            self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
            self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
            ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    return QwenImageProcessor


def load_processor(name: str, revision: str | None = None, *, max_pixels: int | None = None) -> Any:
    """The model's processor, tokenizer padding on the left (decoder-only batching)."""
    import transformers

    size = {"max_pixels": max_pixels} if max_pixels else {}
    try:
        processor = transformers.AutoProcessor.from_pretrained(name, revision=revision, **size)
    except (ImportError, AttributeError, ValueError) as exc:  # a video slot without torchvision
        image_processor = transformers.AutoImageProcessor.from_pretrained(name, revision=revision, **size)
        if not hasattr(image_processor, "merge_size"):
            raise AvgBenchError(f"cannot build the processor of {name!r} ({exc}); install torchvision "
                                "(pip install torch==2.14.1 torchvision==0.29.1) or use a Qwen2-VL-family model") from exc
        tokenizer = transformers.AutoTokenizer.from_pretrained(name, revision=revision)
        processor = _qwen_processor_class()(image_processor=image_processor, tokenizer=tokenizer,
                                            chat_template=tokenizer.chat_template)
    processor.tokenizer.padding_side = "left"
    return processor


@dataclass
class ClipPrompt:
    """One clip's input to the reasoning stage: keyframes (PIL images, maybe none) and prompt text."""

    images: list
    text: str


def encode(processor: Any, prompts: Sequence[ClipPrompt], completions: Sequence[str] | None = None) -> dict:
    """Batch the prompts (left padded), optionally followed by completions (teacher forcing)."""
    texts = [processor.apply_chat_template(messages(p.text, len(p.images)), add_generation_prompt=True, tokenize=False)
             for p in prompts]
    if completions is not None:
        eos = processor.tokenizer.eos_token or ""
        texts = [t + c + eos for t, c in zip(texts, completions)]
    images = [image for p in prompts for image in p.images]
    if any(len(p.images) != len(prompts[0].images) for p in prompts):
        raise AvgBenchError("every clip in a batch must show the same number of keyframes")
    return dict(processor(text=texts, images=images or None, padding=True, return_tensors="pt"))


def answers(model: Any, processor: Any, prompts: Sequence[ClipPrompt], *, batch_size: int = 16,
            max_new_tokens: int = 256, temperature: float = 0.0, samples: int = 1) -> list[str]:
    """``samples`` answers per clip (clip-major), through the shared left-padded batched generation."""
    from baselines.generation import generate_batched

    repeated = [p for p in prompts for _ in range(samples)]
    return generate_batched(model, processor, [p.text for p in repeated], [p.images for p in repeated],
                            max_new_tokens, batch_size, temperature=temperature)


def pooled_states(model: Any, processor: Any, prompts: Sequence[ClipPrompt], completions: Sequence[str], *,
                  batch_size: int = 16) -> np.ndarray:
    """``(N, hidden)`` mean of the last layer's hidden states over each clip's prompt + answer tokens.

    This is the "pooled hidden state" that conditions the flow head: it carries what the model
    saw and what it concluded, including what its short answer leaves out.
    """
    import torch

    rows = []
    for start in range(0, len(prompts), batch_size):
        inputs = _to(encode(processor, prompts[start:start + batch_size], completions[start:start + batch_size]),
                     model.device)
        with torch.inference_mode():
            hidden = model(**inputs, output_hidden_states=True).hidden_states[-1].float()
        mask = inputs["attention_mask"].unsqueeze(-1).float()
        rows.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).cpu().numpy())
    return np.concatenate(rows).astype(np.float32)


def _to(batch: dict, device: Any) -> dict:
    return {key: value.to(device) if hasattr(value, "to") else value for key, value in batch.items()}
