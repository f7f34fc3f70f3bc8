"""Checkpoint folders: ``config.json`` (what to build) beside ``weights.safetensors`` (the tensors).

safetensors holds no code, so loading a checkpoint cannot execute anything; the JSON says which
model wrote it, so loading one model's folder into another fails with a clear message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from baselines.reference.errors import CheckpointError

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "weights.safetensors"


def save_checkpoint(directory: str | Path, kind: str, config: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Path:
    """Write ``config.json`` and ``weights.safetensors`` into ``directory`` (created if needed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    flat = {name: t.detach().cpu().contiguous().clone() for name, t in tensors.items()}
    tmp = directory / (WEIGHTS_NAME + ".tmp")
    save_file(flat, str(tmp), metadata={"kind": kind})
    tmp.replace(directory / WEIGHTS_NAME)
    text = json.dumps({"kind": kind, "config": config}, indent=2, sort_keys=True)
    (directory / (CONFIG_NAME + ".tmp")).write_text(text + "\n", encoding="utf-8")
    (directory / (CONFIG_NAME + ".tmp")).replace(directory / CONFIG_NAME)
    return directory


def load_checkpoint(directory: str | Path, kind: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Read a folder written by :func:`save_checkpoint` for a model of this ``kind``."""
    directory = Path(directory)
    config_path, weights_path = directory / CONFIG_NAME, directory / WEIGHTS_NAME
    for path in (config_path, weights_path):
        if not path.is_file():
            raise CheckpointError(f"{directory}: not a {kind} checkpoint (missing {path.name})")
    try:
        meta = json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{config_path}: invalid JSON ({exc})") from exc
    if meta.get("kind") != kind:
        raise CheckpointError(f"{directory}: holds a {meta.get('kind')!r} checkpoint, expected {kind!r}")
    return meta["config"], load_file(str(weights_path))
