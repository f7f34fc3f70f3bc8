"""``vlm-zero-shot``: any Hugging Face vision-language model, asked where a clip's keyframes were filmed.

The model walks the Chain of Region (continent, country, region, city) before coordinates.

The answer is parsed by :func:`baselines.answer_parser.parse_answer` (decimal degrees, DMS,
hemisphere letters, JSON, labelled pairs, refusals); what cannot be parsed is an abstention, and
the raw text is kept as ``reasoning`` in the predictions file. Decoding is greedy unless
``temperature > 0``, so a run is reproducible under its seed.

Loading: ``AutoModelForImageTextToText`` and ``AutoProcessor`` by hub name (pin ``revision``) or
local folder. transformers 5 cannot build processors that have a video slot without torchvision
(Qwen2-VL, Qwen2.5-VL, SmolVLM; TRAPS.md); for the Qwen2-VL family the prompt is then assembled
from the image processor and tokenizer, exactly as its processor would (one ``<|image_pad|>`` per
merged patch): :class:`baselines.generation.ChatPrompter`.

Clips are answered ``batch_size`` at a time (left padding, :func:`baselines.generation.generate_batched`);
greedy answers do not depend on the batch size.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from avg_bench.errors import AvgBenchError
from avg_bench.modality import Modality
from baselines.answer_parser import ANSWER_FORMAT, parse_answer
from baselines.dataset import ClipSplit
from baselines.errors import BaselineInputError
from baselines.features import progress_bar
from baselines.generation import ChatPrompter, generate_batched
from baselines.predictor import Predictions, Predictor

DEFAULT_MODEL = "Qwen/Qwen2.5-VL-3B-Instruct"
PROMPT = (
    "These are {n} frames of one short video. Where on Earth was it recorded? "
    "Reason step by step from what you see (landscape, vegetation, architecture, signs, script, "
    "vehicles, people), narrowing down continent, then country, then region, then city. "
    "Then give your answer in exactly this format:\n" + ANSWER_FORMAT
)


class VlmZeroShot(Predictor):
    """A VLM prompted with the keyframes for the Chain of Region and coordinates."""

    name: ClassVar[str] = "vlm-zero-shot"
    modalities: ClassVar[tuple[Modality, ...]] = (Modality.VISUAL,)
    OPTIONS: ClassVar[dict[str, str]] = {
        "model": "Hugging Face model name or local folder (image-text-to-text)",
        "revision": "hub revision (commit) to pin",
        "device": "cpu, cuda, cuda:1, ...",
        "dtype": "auto, float32, bfloat16, float16",
        "keyframes": "keyframes shown per clip (at most the 4 stored)",
        "max_new_tokens": "generation budget per clip",
        "temperature": "0: greedy decoding; > 0: sampling under the seed",
        "max_pixels": "cap on pixels per frame for processors that resize dynamically (Qwen2-VL family)",
        "batch_size": "clips per generate call (left-padded); 1 answers one clip at a time",
    }

    def __init__(self, *, seed: int = 0, model: str = DEFAULT_MODEL, revision: str | None = None,
                 device: str = "cpu", dtype: str = "auto", keyframes: int = 4, max_new_tokens: int = 512,
                 temperature: float = 0.0, max_pixels: int | None = None, batch_size: int = 8,
                 progress: bool = True) -> None:
        super().__init__(seed=seed, progress=progress)
        if not 1 <= keyframes <= 4:
            raise BaselineInputError(f"keyframes must be between 1 and 4, found {keyframes}")
        if max_new_tokens < 1 or temperature < 0:
            raise BaselineInputError("max_new_tokens must be >= 1 and temperature >= 0")
        if batch_size < 1:
            raise BaselineInputError(f"batch_size must be at least 1, found {batch_size}")
        self.model_name, self.revision, self.device, self.dtype = model, revision, device, dtype
        self.keyframes, self.max_new_tokens, self.temperature = keyframes, max_new_tokens, temperature
        self.max_pixels, self.batch_size = max_pixels, batch_size
        self._prompter: ChatPrompter | None = None
        self._model: Any = None

    def fit(self, train: ClipSplit) -> VlmZeroShot:
        """Learn what the baseline needs from the training split; returns self."""
        return self  # zero-shot: the training split is not looked at

    def predict(self, split: ClipSplit) -> Predictions:
        """One prediction per clip of ``split``, in its clip order."""
        import torch

        self._load()
        torch.manual_seed(self.seed)
        texts: list[str] = []
        with progress_bar(self.progress, f"{self.name} ({split.split})", len(split)) as advance:
            for batch in split.iter_media("keyframes", batch_rows=self.batch_size):
                texts.extend(self.answers([frames[: self.keyframes] for frames in batch]))
                advance(len(batch))
        parsed = [parse_answer(text) for text in texts]
        lat = np.array([np.nan if p.lat is None else p.lat for p in parsed])
        lon = np.array([np.nan if p.lon is None else p.lon for p in parsed])
        return Predictions(split.clip_ids, lat, lon, reasoning=texts, country=[country_code(p.country) for p in parsed])

    def answer(self, frames: list[bytes]) -> str:
        """The model's raw answer for one clip's keyframes (JPEG bytes)."""
        return self.answers([frames])[0]

    def answers(self, clips: list[list[bytes]]) -> list[str]:
        """The model's raw answers for several clips' keyframes, ``batch_size`` clips per generate call."""
        from PIL import Image

        self._load()
        images = [[Image.open(io.BytesIO(frame)).convert("RGB") for frame in frames] for frames in clips]
        prompts = [PROMPT.format(n=len(item)) for item in images]
        return generate_batched(self._model, self._prompter, prompts, images, self.max_new_tokens, self.batch_size,
                                temperature=self.temperature)

    def _load(self) -> None:
        if self._model is not None:
            return
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise AvgBenchError("vlm-zero-shot needs transformers and torch: pip install 'avg-bench[encoders]'") from exc
        from baselines.features.hf_encoders import check_model_name

        check_model_name(self.model_name)
        dtype = "auto" if self.dtype == "auto" else getattr(torch, self.dtype)
        try:
            self._model = transformers.AutoModelForImageTextToText.from_pretrained(
                self.model_name, revision=self.revision, dtype=dtype
            ).eval().to(self.device)
        except OSError as exc:
            raise AvgBenchError(f"cannot load VLM {self.model_name!r}: {exc}") from exc
        self._prompter = ChatPrompter.load(self.model_name, self.revision, self.max_pixels)

    def describe(self) -> dict:
        """The settings recorded beside the predictions, so a run can be repeated."""
        return {**super().describe(), "model": self.model_name, "revision": self.revision,
                "keyframes": self.keyframes, "max_new_tokens": self.max_new_tokens, "temperature": self.temperature,
                "batch_size": self.batch_size}


def country_code(name: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code of a country the model named ("France", "FR", "fr"), else ``None``.

    >>> country_code("France"), country_code("de"), country_code("Atlantis")
    ('FR', 'DE', None)
    """
    if not name:
        return None
    return _country_codes().get(name.strip().casefold())


@lru_cache(maxsize=1)
def _country_codes() -> dict[str, str]:
    from avg_bench.geo.continents import country_names

    codes = {}
    for code, name in country_names().items():
        codes[name.casefold()] = code
        codes[code.casefold()] = code
    return codes


#: The prompter moved to :mod:`baselines.generation`; this name stays for existing imports.
_Prompter = ChatPrompter
