"""Baselines by name, and their options from ``key=value`` strings.

The table names classes by import path, so listing baselines imports nothing heavy; options are
read from each class's constructor (keyword arguments with type hints, defaults and an ``OPTIONS``
help table), converted and checked here, so the CLI and Python share one definition.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from avg_bench.errors import AvgBenchError
from avg_bench.modality import Modality
from baselines.predictor import Predictor


@dataclass(frozen=True)
class BaselineEntry:
    """One baseline: its name, where its class lives, what it reads and the pip extra it needs."""
    name: str
    target: str  # "module:Class"
    summary: str
    modalities: tuple[Modality, ...]
    #: pip extra the baseline needs beyond the core install.
    extra: str

    def load(self) -> type[Predictor]:
        """Import and return the predictor class (lazily: heavy extras load only when used)."""
        module, _, attribute = self.target.partition(":")
        return getattr(importlib.import_module(module), attribute)


BASELINES: dict[str, BaselineEntry] = {
    entry.name: entry
    for entry in (
        BaselineEntry("random-sphere", "baselines.priors:RandomSphere", "a uniform random point on the sphere", (), ""),
        BaselineEntry("train-prior", "baselines.priors:TrainPrior", "the training set's most frequent location (or a draw from its clips)", (), ""),
        BaselineEntry("knn-audio", "baselines.knn:KnnAudio", "nearest training clips by soundtrack (log-mel statistics or an HF audio encoder)",
                    (Modality.AUDIO,), "baselines"),
        BaselineEntry("knn-visual", "baselines.knn:KnnVisual", "nearest training clips by keyframes (colour statistics or an HF image encoder)",
                    (Modality.VISUAL,), "baselines"),
        BaselineEntry("knn-av", "baselines.knn:KnnAudioVisual", "nearest training clips by sound and picture together",
                    (Modality.AUDIO, Modality.VISUAL), "baselines"),
        BaselineEntry("flow-audio", "baselines.flow_baselines:FlowAudio", "the stage-3 flow head on S² over soundtrack embeddings",
                    (Modality.AUDIO,), "reference"),
        BaselineEntry("flow-visual", "baselines.flow_baselines:FlowVisual", "the stage-3 flow head on S² over keyframe embeddings",
                    (Modality.VISUAL,), "reference"),
        BaselineEntry("flow-av", "baselines.flow_baselines:FlowAudioVisual", "the stage-3 flow head on S² over sound and picture",
                    (Modality.AUDIO, Modality.VISUAL), "reference"),
        BaselineEntry("audio-atoms", "baselines.flow_baselines:AudioAtomsBaseline", "acoustic atoms (MAR-SAE) + flow head: the audio-only reference",
                    (Modality.AUDIO,), "reference"),
        BaselineEntry("avg-reference", "baselines.reference.pipeline:ReferencePipeline",
                    "the three-stage reference: acoustic atoms -> GRPO-trained VLM reasoning -> flow on S²",
                    (Modality.AUDIO, Modality.VISUAL), "reasoning"),
        BaselineEntry("avg-reference-vision", "baselines.reference.pipeline:ReferenceVision",
                    "avg-reference without the soundtrack (no atoms): the vision ablation",
                    (Modality.VISUAL,), "reasoning"),
        BaselineEntry("avg-reference-audio", "baselines.reference.pipeline:ReferenceAudio",
                    "avg-reference without the frames (atoms as text only): the audio ablation",
                    (Modality.AUDIO,), "reasoning"),
        BaselineEntry("vlm-zero-shot", "baselines.vlm:VlmZeroShot", "a Hugging Face VLM shown the keyframes, asked for the Chain of Region and coordinates",
                    (Modality.VISUAL,), "encoders"),
    )
}


def get_entry(name: str) -> BaselineEntry:
    """The registry entry of a baseline name, or a user error suggesting the closest name."""
    if name in BASELINES:
        return BASELINES[name]
    close = difflib.get_close_matches(name, BASELINES, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise AvgBenchError(f"unknown baseline {name!r}{hint} (avg-bench baseline list shows them all)")


@dataclass(frozen=True)
class OptionSpec:
    """One constructor option a user can set with ``-o KEY=VALUE``: its type, default and help."""
    name: str
    kind: Any
    default: Any
    help: str

    def parse(self, text: str, baseline: str) -> Any:
        """Convert the option's text to its type, or raise a user error naming the option."""
        return _convert(text, self.kind, f"{baseline} option {self.name}")


def option_specs(cls: type[Predictor]) -> dict[str, OptionSpec]:
    """Keyword options of a predictor's constructor and of the constructors it forwards to."""
    helps: dict[str, str] = getattr(cls, "OPTIONS", {})
    specs: dict[str, OptionSpec] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        hints = typing.get_type_hints(init)
        for parameter in inspect.signature(init).parameters.values():
            if parameter.kind is not inspect.Parameter.KEYWORD_ONLY or parameter.name in specs:
                continue
            if parameter.name in ("seed", "progress"):
                continue  # set by the runner, not by -o
            specs[parameter.name] = OptionSpec(parameter.name, hints.get(parameter.name, str), parameter.default,
                                               helps.get(parameter.name, ""))
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(init).parameters.values()):
            break
    return specs


def parse_options(pairs: list[str] | None) -> dict[str, str]:
    """``["k=5", "method=best"]`` -> ``{"k": "5", "method": "best"}``."""
    options: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise AvgBenchError(f"option {pair!r} is not KEY=VALUE")
        options[key.strip().replace("-", "_")] = value.strip()
    return options


def create(name: str, options: Mapping[str, Any] | None = None, *, seed: int = 0, **fixed: Any) -> Predictor:
    """A predictor by name; string option values are converted by the constructor's type hints."""
    entry = get_entry(name)
    cls = entry.load()
    specs = option_specs(cls)
    kwargs: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if key not in specs:
            close = difflib.get_close_matches(key, specs, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(specs) or "none"
            raise AvgBenchError(f"{name} has no option {key!r}{hint} (its options: {known})")
        kwargs[key] = specs[key].parse(value, name) if isinstance(value, str) else value
    try:
        return cls(seed=seed, **kwargs, **fixed)
    except ValueError as exc:  # constructors check their ranges: report as a user error
        raise AvgBenchError(f"{name}: {exc}") from exc


def _convert(text: str, kind: Any, what: str) -> Any:
    origin = typing.get_origin(kind)
    if origin is typing.Literal:
        choices = typing.get_args(kind)
        if text not in choices:
            raise AvgBenchError(f"{what} must be one of {', '.join(map(str, choices))}, found {text!r}")
        return text
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        arguments = [a for a in typing.get_args(kind) if a is not type(None)]
        if text.lower() in ("none", "null", ""):
            return None
        return _convert(text, arguments[0], what)
    if kind is bool:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise AvgBenchError(f"{what} must be true or false, found {text!r}")
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            raise AvgBenchError(f"{what} must be {'an integer' if kind is int else 'a number'}, found {text!r}") from None
    return text
