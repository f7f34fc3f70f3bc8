"""Where and how the numerical stages (1 and 3) run: device, precision and CPU threads.

* **device**: ``cpu``, ``cuda`` or ``cuda:N``. Modules are built on the CPU (so a seed gives the same
  initial weights on every device) and then moved; every tensor the training and sampling loops
  create is made on the model's device, and every ``torch.Generator`` too (a CPU generator cannot
  sample CUDA tensors).
* **dtype**: ``fp32``, or ``bf16``: mixed precision (autocast: matmuls in bfloat16, fp32 master
  weights and optimiser state) and checkpoints stored in bfloat16 (half the size; loading upcasts).
* **threads**: torch CPU threads while fitting and predicting (restored afterwards). The rule:
  **1 by default**. These models' matmuls are small (a few hundred rows by d <= 512), and with 2+
  threads OpenMP workers spin-wait: on a shared 2-core machine a short ``audio-atoms`` fit took
  200-301 s with the default threads and 27-34 s with one (issue 12; measured again here: 52-58 s
  vs 5 s). Pass ``threads=N`` (at most the physical cores) for the larger presets on an idle machine;
  GPU runs need no more than one host thread. Results are bitwise reproducible for a fixed thread
  count (no atomic adds in any backward pass).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator

import torch

from baselines.reference.errors import ReferenceModelError

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
_DEVICE = re.compile(r"cpu|cuda(:\d+)?")


@dataclasses.dataclass(frozen=True)
class Runtime:
    """Device, precision and CPU threads of one model; see the module docstring."""

    device: str = "cpu"
    dtype: str = "fp32"
    threads: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.device, str) or not _DEVICE.fullmatch(self.device):
            raise ReferenceModelError(f"device must be cpu, cuda or cuda:N, found {self.device!r}")
        if self.dtype not in DTYPES:
            raise ReferenceModelError(f"dtype must be one of {', '.join(DTYPES)}, found {self.dtype!r}")
        if not isinstance(self.threads, int) or self.threads < 1:
            raise ReferenceModelError(f"threads must be an integer >= 1, found {self.threads!r}")

    @property
    def torch_device(self) -> torch.device:
        """The device, checked to exist (a clear error instead of a CUDA stack trace)."""
        device = torch.device(self.device)
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise ReferenceModelError(f"device {self.device!r} asked for, but torch sees no CUDA GPU")
            if device.index is not None and device.index >= torch.cuda.device_count():
                raise ReferenceModelError(f"device {self.device!r} asked for, but torch sees {torch.cuda.device_count()} GPU(s)")
        return device

    @property
    def storage_dtype(self) -> torch.dtype:
        """The dtype floating tensors are saved in."""
        return DTYPES[self.dtype]

    def generator(self, seed: int) -> torch.Generator:
        """A seeded generator on this runtime's device."""
        return torch.Generator(device=self.torch_device).manual_seed(seed)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Run the body with this runtime's thread count and (for bf16) autocast; restore afterwards."""
        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with torch.autocast(self.torch_device.type, dtype=torch.bfloat16, enabled=self.dtype == "bf16"):
                yield
        finally:
            torch.set_num_threads(previous)


def runtime_config(runtime: Runtime) -> dict:
    """What a checkpoint records about the runtime that wrote it (the dtype of its tensors)."""
    return {"dtype": runtime.dtype}


def cast_floating(tensors: dict[str, torch.Tensor], dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Floating tensors cast to ``dtype``; integer buffers (counters) kept as they are."""
    return {name: t.to(dtype) if t.is_floating_point() else t for name, t in tensors.items()}


__all__ = ["DTYPES", "Runtime", "cast_floating", "runtime_config"]
