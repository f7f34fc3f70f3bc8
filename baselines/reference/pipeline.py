"""``avg-reference``: the three stages joined, and its ablations ``-vision`` and ``-audio``.

1. **Perception**: the MAR-SAE over the soundtrack's windows; each clip's pooled atom code and its
   top named atoms (names from the training clips' continent/country/city labels).
2. **Reasoning**: a VLM shown K keyframes and the named atoms with weights, warmed up on
   Chain-of-Region targets built from the ground truth, then trained with GRPO on hard clips.
   Its outputs per clip: the answer text (parsed by the project's answer parser) and the mean
   last-layer hidden state over prompt + answer.
3. **Precision**: the flow head on S², conditioned on the pooled state, the parsed answer (unit
   vector, zero for an abstention), the atom code and the visual embedding; its samples and their
   vMF mode are the prediction, the answer text is written as ``reasoning``.

``avg-reference-vision`` drops the soundtrack (no atoms in prompt, targets or condition);
``avg-reference-audio`` drops the frames (a text-only prompt, no visual embedding).

The flow head is fitted on stage 2's outputs for the training clips, which the VLM was fine-tuned
on; at real scale cross-fitting (stage 2 outputs from a model that did not train on the clip)
would remove that optimism: not done yet (README, stage 2).
"""

from __future__ import annotations

import dataclasses
import io
import json
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from avg_bench.errors import AvgBenchError
from avg_bench.modality import Modality
from baselines.dataset import ClipSplit
from baselines.errors import NotFittedError
from baselines.features import clip_embeddings
from baselines.flow_baselines import _naming_labels
from baselines.knn import FEATURE_OPTIONS, EmbeddingPredictor, _Standardiser
from baselines.predictor import Predictions
from baselines.reference.configs import FIELD_HELP, FIELDS, PRESETS, ReferenceConfig
from baselines.reference.errors import ReferenceModelError
from baselines.retrieval import l2_normalise


class ReferencePipeline(EmbeddingPredictor):
    """Atoms -> reasoning VLM -> flow on S²; see the module docstring."""

    name: ClassVar[str] = "avg-reference"
    modalities: ClassVar[tuple[Modality, ...]] = (Modality.AUDIO, Modality.VISUAL)
    OPTIONS: ClassVar[dict[str, str]] = {
        "preset": f"configuration to start from: {', '.join(PRESETS)} (other options override its fields)",
        "checkpoint": "folder: load the trained pipeline from it if present, else train and save it there",
        **FIELD_HELP,
        **FEATURE_OPTIONS,
    }

    def __init__(self, *, preset: str = "tiny-cpu", checkpoint: str | None = None, model: str | None = None,
                 revision: str | None = None, max_pixels: int | None = None, keyframes: int | None = None,
                 top_atoms: int | None = None, audio_features: str | None = None, visual_features: str | None = None,
                 n_atoms: int | None = None, k: int | None = None, n_experts: int | None = None,
                 sae_steps: int | None = None, reasoning_clips: int | None = None, warmup_steps: int | None = None,
                 warmup_lr: float | None = None, warmup_batch: int | None = None, lora: bool | None = None,
                 lora_rank: int | None = None, grpo_steps: int | None = None, grpo_clips: int | None = None,
                 num_generations: int | None = None, grpo_lr: float | None = None, max_new_tokens: int | None = None,
                 generation_batch: int | None = None, flow_steps: int | None = None, n_samples: int | None = None,
                 sample_steps: int | None = None, dtype: Literal["fp32", "bf16"] | None = None,
                 threads: int | None = None, **options) -> None:
        if preset not in PRESETS:
            raise ReferenceModelError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
        given = {key: value for key, value in locals().items() if key in FIELDS and value is not None}
        if "device" in options:
            given["device"] = options["device"]
        self.config: ReferenceConfig = dataclasses.replace(PRESETS[preset], **given)
        options.setdefault("device", self.config.device)
        super().__init__(**options)
        c = self.config
        if not 1 <= c.keyframes <= 4 or min(c.n_atoms, c.k, c.sae_steps, c.flow_steps, c.num_generations) < 1:
            raise ReferenceModelError("keyframes must be in 1..4; n_atoms, k, sae_steps, flow_steps, num_generations >= 1")
        self.preset, self.checkpoint = preset, checkpoint
        from baselines.reference.runtime import Runtime

        self.runtime = Runtime(device=self.device, dtype=c.dtype, threads=c.threads)
        self.atoms: Any = None
        self.flow: Any = None
        self.vlm: Any = None
        self.processor: Any = None
        self.log: dict[str, Any] = {}

    @property
    def use_audio(self) -> bool:
        """Whether the configuration reads the audio track."""
        return Modality.AUDIO in self.modalities

    @property
    def use_frames(self) -> bool:
        """Whether the configuration reads the keyframes."""
        return Modality.VISUAL in self.modalities

    def feature_specs(self) -> dict[Modality, str]:
        """The cached clip features this baseline reads, by modality."""
        specs: dict[Modality, str] = {}
        if self.use_audio:
            specs[Modality.AUDIO] = self.config.audio_features
        if self.use_frames:
            specs[Modality.VISUAL] = self.config.visual_features
        return specs

    # Stage inputs.

    def _stage_inputs(self, split: ClipSplit, *, fitting: bool) -> dict[str, Any]:
        """Atom codes and summaries, visual embeddings, keyframe images and prompts for a split."""
        from PIL import Image

        from baselines.reference.reasoning.prompting import ClipPrompt, prompt_text
        from baselines.reference.reasoning.targets import describe_frames

        n, c = len(split), self.config
        out: dict[str, Any] = {"codes": None, "visual": None, "atoms": [None] * n, "frames": [None] * n}
        if self.use_audio:
            windows = list(self.windows(split, Modality.AUDIO))
            if fitting:
                from baselines.reference.perception import AudioAtoms, SAEConfig

                sae = SAEConfig(n_atoms=c.n_atoms, k=c.k, n_experts=c.n_experts, predictor=True, train_steps=c.sae_steps)
                self.atoms = AudioAtoms(sae, runtime=self.runtime).fit(windows, labels=_naming_labels(split), seed=self.seed,
                                                 progress=self.progress)
            out["codes"] = self.atoms.pooled(windows)
            out["atoms"] = [[(a.name, a.weight) for a in s.atoms if a.named]
                            for s in self.atoms.summaries(windows, top=c.top_atoms)]
        images: list[list] = [[] for _ in range(n)]
        if self.use_frames:
            out["visual"] = clip_embeddings(self.windows(split, Modality.VISUAL))
            i = 0
            for batch in split.iter_media("keyframes", batch_rows=64):
                for frames in batch:
                    frames = frames[: c.keyframes]
                    images[i] = [Image.open(io.BytesIO(f)).convert("RGB") for f in frames]
                    out["frames"][i] = describe_frames(frames)
                    i += 1
            counts = {len(x) for x in images}
            if len(counts) > 1:
                raise AvgBenchError(f"{self.name}: clips of {split.split} have different keyframe counts {sorted(counts)}")
        out["prompts"] = [ClipPrompt(images[i], prompt_text(n_frames=len(images[i]), atoms=out["atoms"][i]))
                          for i in range(n)]
        return out

    # Fit and predict.

    def fit(self, train: ClipSplit) -> ReferencePipeline:
        """Learn what the baseline needs from the training split; returns self."""
        with self.runtime.active():  # the thread policy of stages 1 and 3 holds for the VLM too
            return self._fit(train)

    def predict(self, split: ClipSplit) -> Predictions:
        """One prediction per clip of ``split``, in its clip order."""
        with self.runtime.active():
            return self._predict(split)

    def _fit(self, train: ClipSplit) -> ReferencePipeline:
        if self.checkpoint and (Path(self.checkpoint) / "pipeline.json").exists():
            return self.load(self.checkpoint)
        from baselines.reference.precision.locator import FlowConfig, FlowLocator
        from baselines.reference.reasoning.targets import chains_of_region, reasoning_target
        from baselines.reference.reasoning.training import ClipTruth, grpo, hard_clips, warm_up

        lat, lon = train.require_labels(self.name)
        c = self.config
        clock = _Clock(self.log.setdefault("seconds", {}))
        inputs = self._stage_inputs(train, fitting=True)
        clock("stage 1 and inputs")
        chains = chains_of_region(lat, lon)
        targets = [reasoning_target(chain, atoms=inputs["atoms"][i] or (), frames=inputs["frames"][i])
                   for i, chain in enumerate(chains)]
        truths = [ClipTruth(ch.lat, ch.lon, ch.continent, ch.country, ch.region, ch.city,
                            tuple(name for name, _ in inputs["atoms"][i] or ())) for i, ch in enumerate(chains)]
        prompts = inputs["prompts"]
        self._load_vlm(corpus=targets + [p.text for p in prompts])

        rng = np.random.default_rng(self.seed)
        subset = np.sort(rng.permutation(len(train))[: c.reasoning_clips or len(train)])
        sub_prompts, sub_truths = [prompts[i] for i in subset], [truths[i] for i in subset]
        self.vlm, losses = warm_up(self.vlm, self.processor, sub_prompts, [targets[i] for i in subset],
                                   steps=c.warmup_steps, batch_size=c.warmup_batch, lr=c.warmup_lr, lora=c.lora,
                                   lora_rank=c.lora_rank, device=self.device, seed=self.seed)
        self.log["warmup_loss"] = [round(x, 4) for x in losses]
        clock("warm-up")
        if c.grpo_steps:
            hard = hard_clips(self.vlm, self.processor, sub_prompts, sub_truths, c.grpo_clips,
                              samples=c.num_generations, max_new_tokens=c.max_new_tokens,
                              batch_size=c.generation_batch)
            self.log["hard_clips"] = len(hard)
            clock("hard clips")
            if len(hard) == 0:  # every group agrees: GRPO has no signal anywhere; train on the subset anyway
                hard = np.arange(min(c.grpo_clips, len(subset)))
            with tempfile.TemporaryDirectory() as scratch:
                self.vlm, history = grpo(
                    self.vlm, self.processor, [sub_prompts[i] for i in hard], [sub_truths[i] for i in hard],
                    output_dir=scratch, steps=c.grpo_steps, num_generations=c.num_generations,
                    max_completion_length=c.max_new_tokens, lr=c.grpo_lr, evidence=self.use_audio, lora=c.lora,
                    lora_rank=c.lora_rank, device=self.device, bf16=c.dtype == "bf16", seed=self.seed)
            self.log["grpo"] = [{k: v for k, v in row.items() if k.startswith(("reward", "rewards/"))}
                                for row in history if "reward" in row]
            clock("grpo")
        texts, states = self._reason(prompts)
        clock("stage 2 on the training clips")
        self._standardisers = {}
        conditions = self._conditions(texts, states, inputs, fitting=True)
        self.flow = FlowLocator(FlowConfig(train_steps=c.flow_steps), runtime=self.runtime).fit(conditions, lat, lon, seed=self.seed,
                                                                           progress=self.progress)
        clock("flow")
        if self.checkpoint:
            self.save(self.checkpoint)
        return self

    def _predict(self, split: ClipSplit) -> Predictions:
        if self.flow is None:
            raise NotFittedError(f"{self.name} is not fitted: call fit(train) first")
        from baselines.answer_parser import parse_answer
        from baselines.vlm import country_code

        inputs = self._stage_inputs(split, fitting=False)
        texts, states = self._reason(inputs["prompts"])
        c = self.config
        lat, lon, samples = self.flow.predict(self._conditions(texts, states, inputs, fitting=False),
                                              n_samples=c.n_samples, steps=c.sample_steps, select="vmf", seed=self.seed)
        countries = [country_code(parse_answer(t).country) for t in texts]
        return Predictions(split.clip_ids, lat, lon, samples=samples, reasoning=texts, country=countries)

    def _reason(self, prompts: list) -> tuple[list[str], np.ndarray]:
        from baselines.reference.reasoning.prompting import answers, pooled_states

        c = self.config
        texts = answers(self.vlm, self.processor, prompts, batch_size=c.generation_batch, max_new_tokens=c.max_new_tokens)
        return texts, pooled_states(self.vlm, self.processor, prompts, texts, batch_size=c.generation_batch)

    def _conditions(self, texts: list[str], states: np.ndarray, inputs: dict, *, fitting: bool) -> np.ndarray:
        """Pooled state, parsed answer, atom code and visual embedding, each standardised and unit-scaled."""
        from avg_bench.geo.sphere import to_unit_vectors
        from baselines.answer_parser import parse_answer

        parsed = [parse_answer(t) for t in texts]
        answer = np.zeros((len(texts), 3), dtype=np.float32)
        for i, p in enumerate(parsed):
            if not p.abstained:
                answer[i] = to_unit_vectors(np.array([p.lat]), np.array([p.lon]))[0]
        parts = {"state": states, "codes": inputs["codes"], "visual": inputs["visual"]}
        out = [answer]
        for key, value in parts.items():
            if value is None:
                continue
            value = np.asarray(value, dtype=np.float32)
            if fitting:
                self._standardisers[key] = _Standardiser().fit(value)
            out.append(l2_normalise(self._standardisers[key](value)))
        return np.concatenate(out, axis=1)

    def _load_vlm(self, corpus: list[str]) -> None:
        import torch
        import transformers

        from baselines.reference.reasoning.prompting import load_processor

        c = self.config
        name = c.model
        if name == "tiny":
            from baselines.reference.reasoning.tiny import build_tiny_qwen_vl

            self._tiny_dir = tempfile.TemporaryDirectory()
            name = str(build_tiny_qwen_vl(self._tiny_dir.name, corpus, seed=self.seed))
        else:
            from baselines.features.hf_encoders import check_model_name

            check_model_name(name)
        dtype = getattr(torch, _TORCH_DTYPES[c.dtype])
        try:
            self.vlm = transformers.AutoModelForImageTextToText.from_pretrained(
                name, revision=None if c.model == "tiny" else c.revision, dtype=dtype).to(self.device)
        except OSError as exc:
            raise AvgBenchError(f"cannot load VLM {name!r}: {exc}") from exc
        self.processor = load_processor(name, None if c.model == "tiny" else c.revision, max_pixels=c.max_pixels)

    # Checkpoints: atoms/, vlm/, flow/, standardisers.npz, pipeline.json.

    def save(self, directory: str | Path) -> Path:
        """Write the fitted pipeline to ``directory``; returns the folder written."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.atoms is not None:
            self.atoms.save(directory / "atoms")
        self.flow.save(directory / "flow")
        self.vlm.save_pretrained(directory / "vlm")
        self.processor.tokenizer.save_pretrained(directory / "vlm")
        self.processor.image_processor.save_pretrained(directory / "vlm")
        arrays = {f"{key}.{part}": getattr(s, part) for key, s in self._standardisers.items() for part in ("mean", "scale")}
        np.savez(directory / "standardisers.npz", **arrays)
        meta = {"name": self.name, "preset": self.preset, "config": dataclasses.asdict(self.config), "log": self.log}
        (directory / "pipeline.json").write_text(json.dumps(meta, indent=2))  # last: its presence means complete
        return directory

    def load(self, directory: str | Path) -> ReferencePipeline:
        """Read a fitted pipeline written by :meth:`save`; returns self."""
        import torch
        import transformers

        from baselines.reference.perception import AudioAtoms
        from baselines.reference.precision.locator import FlowLocator
        from baselines.reference.reasoning.prompting import load_processor

        directory = Path(directory)
        meta = json.loads((directory / "pipeline.json").read_text())
        if meta["name"] != self.name:
            raise AvgBenchError(f"{directory} holds a {meta['name']} checkpoint, not {self.name}")
        saved = {k: v for k, v in meta["config"].items() if k not in ("device", "threads", "n_samples", "sample_steps",
                                                                       "generation_batch")}
        self.config = dataclasses.replace(self.config, **saved)
        self.log = meta.get("log", {})
        self.atoms = AudioAtoms.load(directory / "atoms", runtime=self.runtime) if (directory / "atoms").exists() else None
        self.flow = FlowLocator.load(directory / "flow", runtime=self.runtime)
        self.vlm = transformers.AutoModelForImageTextToText.from_pretrained(
            directory / "vlm", dtype=getattr(torch, _TORCH_DTYPES[self.config.dtype])).to(self.device).eval()
        self.processor = load_processor(str(directory / "vlm"))
        with np.load(directory / "standardisers.npz", allow_pickle=False) as arrays:
            self._standardisers = {}
            for key in {name.split(".")[0] for name in arrays.files}:
                standardiser = _Standardiser()
                standardiser.mean, standardiser.scale = arrays[f"{key}.mean"], arrays[f"{key}.scale"]
                self._standardisers[key] = standardiser
        return self

    def describe(self) -> dict:
        """The settings recorded beside the predictions, so a run can be repeated."""
        config = {k: v for k, v in dataclasses.asdict(self.config).items() if k not in ("gpus", "expected_hours")}
        return {**super().describe(), "preset": self.preset, "config": config, "training_log": self.log}


_TORCH_DTYPES = {"fp32": "float32", "bf16": "bfloat16"}


class _Clock:
    """Wall seconds per stage, recorded in the run's training log."""

    def __init__(self, into: dict[str, float]) -> None:
        self.into, self.last = into, time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.into[stage] = round(now - self.last, 2)
        self.last = now


class ReferenceVision(ReferencePipeline):
    """The ablation without the soundtrack: no atoms in prompts, targets or the flow's condition."""

    name: ClassVar[str] = "avg-reference-vision"
    modalities: ClassVar[tuple[Modality, ...]] = (Modality.VISUAL,)


class ReferenceAudio(ReferencePipeline):
    """The ablation without the frames: a text-only prompt of atoms, no visual embedding."""

    name: ClassVar[str] = "avg-reference-audio"
    modalities: ClassVar[tuple[Modality, ...]] = (Modality.AUDIO,)
