"""``FlowLocator``: a stage-3 head that turns any per-clip embedding into coordinates on S².

API (numpy in, numpy out; degrees; rows are clips)::

    config = FlowConfig(hidden=64, depth=2, train_steps=2000)
    model = FlowLocator(config).fit(conditions, lat, lon, seed=0)          # conditions: (N, D) or None
    lat, lon, samples = model.predict(conditions, n_samples=32, steps=64,
                                      guidance=0.0, select="vmf", seed=0)  # samples: (N, S, 2) [lat, lon]
    logp = model.log_likelihood(conditions, lat, lon)                      # (N,) log-density per steradian
    model.save("ckpt/"); same = FlowLocator.load("ckpt/", runtime=Runtime(device="cpu"))
    FlowLocator(FLOW_PRESETS["gpu"], runtime=Runtime(device="cuda:0", dtype="bf16"))     # a GPU run

``conditions=None`` fits an unconditional flow (the training prior on S²); ``predict(None, n=...)``
samples it. Conditions are standardised per feature with the training mean and standard deviation.
A log-density per steradian becomes one per km² by subtracting ``2·log(6371)``.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from numpy.typing import ArrayLike

from baselines.reference.checkpoint import load_checkpoint, save_checkpoint
from baselines.reference.errors import ReferenceModelError
from baselines.reference.precision import flow
from baselines.reference.precision.sphere import latlon_to_unit, unit_to_latlon
from baselines.reference.precision.velocity import VelocityField
from baselines.reference.progress import training_progress
from baselines.reference.runtime import Runtime, cast_floating
from baselines.reference.validation import as_coordinates, as_matrix

CHECKPOINT_KIND = "avg-bench/flow-locator"


@dataclasses.dataclass(frozen=True)
class FlowConfig:
    """Architecture and training settings of a :class:`FlowLocator` (one-to-one with its config.json)."""

    # small by default: sampling 1,000 clips x 32 samples x 64 steps must stay seconds on a CPU
    hidden: int = 64
    depth: int = 2
    mlp_ratio: int = 2
    cond_width: int = 128
    n_fourier: int = 16
    fourier_scale: float = 4.0
    train_steps: int = 2000
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.0
    p_drop: float = 0.1  # condition dropout, what classifier-free guidance needs
    grad_clip: float = 1.0


#: Named configurations: ``cpu`` (the defaults: seconds to sample 1,000 clips on a CPU) and ``gpu``
#: (a wider, deeper field with large batches, for one GPU at real scale).
FLOW_PRESETS: dict[str, FlowConfig] = {
    "cpu": FlowConfig(),
    "gpu": FlowConfig(hidden=512, depth=6, mlp_ratio=4, cond_width=512, n_fourier=64, train_steps=50_000,
                      batch_size=8192, lr=5e-4, weight_decay=0.01),
}


class FlowLocator:
    """A conditional flow on S² fitted to (condition, coordinate) pairs; see the module docstring."""

    def __init__(self, config: FlowConfig | None = None, *, runtime: Runtime | None = None) -> None:
        self.config = config or FlowConfig()
        self.runtime = runtime or Runtime()
        self.field: VelocityField | None = None
        self.cond_dim = 0
        self.cond_mean = torch.zeros(0, device="cpu")
        self.cond_std = torch.ones(0, device="cpu")
        self.history: list[float] = []

    # -- fitting -------------------------------------------------------------------------------
    def _build(self, cond_dim: int, seed: int) -> VelocityField:
        c = self.config
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            field = VelocityField(
                cond_dim, hidden=c.hidden, depth=c.depth, mlp_ratio=c.mlp_ratio, cond_width=c.cond_width,
                n_fourier=c.n_fourier, fourier_scale=c.fourier_scale, seed=seed,
            )
        return field.to(self.runtime.torch_device)

    def fit(
        self, conditions: ArrayLike | None, lat: ArrayLike, lon: ArrayLike, *, seed: int = 0, progress: bool = True
    ) -> FlowLocator:
        """Train by flow matching; returns ``self``. Same data and seed give the same weights."""
        lat, lon = as_coordinates(lat, lon)
        n = lat.shape[0]
        if n == 0:
            raise ReferenceModelError("cannot fit a flow on zero points")
        device = self.runtime.torch_device
        x1 = latlon_to_unit(lat, lon).to(device)
        cond = None
        if conditions is not None:
            array = as_matrix("conditions", conditions, rows=n)
            self.cond_dim = array.shape[1]
            self.cond_mean = torch.from_numpy(array.mean(0))
            std = array.std(0)
            self.cond_std = torch.from_numpy(np.where(std > 1e-6, std, 1.0).astype(np.float32))
            cond = self._standardise(array)
        else:
            self.cond_dim = 0
            self.cond_mean, self.cond_std = torch.zeros(0, device="cpu"), torch.ones(0, device="cpu")
        c = self.config
        self.field = field = self._build(self.cond_dim, seed)
        optimiser = torch.optim.AdamW(field.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        warmup = max(1, c.train_steps // 20)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser,
            lambda s: min(1.0, (s + 1) / warmup) * (0.55 + 0.45 * math.cos(math.pi * min(1.0, s / c.train_steps))),
        )
        generator = self.runtime.generator(seed)  # on the model's device: it draws x0, t and the dropout there
        self.history = []
        field.train()
        with training_progress("flow matching on S²", c.train_steps, enabled=progress) as advance, self.runtime.active():
            for _ in range(c.train_steps):
                idx = torch.randint(n, (c.batch_size,), generator=generator, device=device)
                loss = flow.flow_matching_loss(
                    field, x1[idx], None if cond is None else cond[idx], p_drop=c.p_drop, generator=generator
                )
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(field.parameters(), c.grad_clip)
                optimiser.step()
                schedule.step()
                self.history.append(loss.detach().item())
                advance(loss=self.history[-1])
        field.eval()
        return self

    # -- inference -----------------------------------------------------------------------------
    def _standardise(self, array: np.ndarray) -> torch.Tensor:
        return ((torch.from_numpy(array) - self.cond_mean) / self.cond_std).to(self.runtime.torch_device)

    def _fitted(self) -> VelocityField:
        if self.field is None:
            raise ReferenceModelError("this FlowLocator is not fitted: call fit() or FlowLocator.load() first")
        return self.field

    def _conditions(self, conditions: ArrayLike | None, n: int | None) -> tuple[torch.Tensor | None, int]:
        if self.cond_dim == 0:
            if conditions is not None:
                rows = np.asarray(conditions).shape[0]
                if n is not None and n != rows:
                    raise ReferenceModelError(f"n={n} disagrees with the {rows} rows of conditions")
                return None, rows  # unconditional: only the row count matters
            if n is None:
                raise ReferenceModelError("this flow is unconditional: pass n=<number of rows> (or any conditions)")
            return None, n
        if conditions is None:
            raise ReferenceModelError(f"this flow is conditional: pass conditions of shape (N, {self.cond_dim})")
        array = as_matrix("conditions", conditions, cols=self.cond_dim)
        return self._standardise(array), array.shape[0]

    @torch.no_grad()
    def sample_unit(
        self,
        conditions: ArrayLike | None = None,
        *,
        n: int | None = None,
        n_samples: int = 32,
        steps: int = 64,
        guidance: float = 0.0,
        method: flow.Integrator = "euler",
        seed: int = 0,
        chunk: int = 256,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Samples as unit vectors ``(N, S, 3)``, with the standardised conditions used."""
        field = self._fitted()
        cond, rows = self._conditions(conditions, n)
        if n_samples < 1:
            raise ReferenceModelError(f"n_samples must be >= 1, found {n_samples}")
        generator = self.runtime.generator(seed)
        parts = []
        with self.runtime.active():
            for start in range(0, rows, chunk):
                stop = min(rows, start + chunk)
                parts.append(
                    flow.sample(
                        field, None if cond is None else cond[start:stop], batch=stop - start, n_samples=n_samples,
                        steps=steps, guidance=guidance, method=method, generator=generator,
                    ).float()
                )
        samples = torch.cat(parts) if parts else torch.zeros(0, n_samples, 3, device=self.runtime.torch_device)
        return samples, cond

    def predict(
        self,
        conditions: ArrayLike | None = None,
        *,
        n: int | None = None,
        n_samples: int = 32,
        steps: int = 64,
        guidance: float = 0.0,
        select: Literal["vmf", "likelihood"] = "vmf",
        method: flow.Integrator = "euler",
        bandwidth_km: float = 300.0,
        seed: int = 0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Point predictions ``lat (N,), lon (N,)`` and the samples ``(N, S, 2)`` as ``[lat, lon]`` degrees.

        ``select="vmf"`` takes the sample of highest vMF kernel density among the row's samples;
        ``select="likelihood"`` the sample of highest model log-likelihood (an ODE solve per sample).
        """
        samples, cond = self.sample_unit(
            conditions, n=n, n_samples=n_samples, steps=steps, guidance=guidance, method=method, seed=seed
        )
        if select == "vmf":
            best = flow.vmf_kde_mode(samples, bandwidth_km=bandwidth_km)
        elif select == "likelihood":
            with self.runtime.active():
                best = flow.log_likelihood(self._fitted(), samples, cond, guidance=guidance).argmax(-1)
        else:
            raise ReferenceModelError(f"select must be 'vmf' or 'likelihood', found {select!r}")
        lat, lon = unit_to_latlon(flow.gather_rows(samples, best))
        s_lat, s_lon = unit_to_latlon(samples)
        return lat, lon, np.stack([s_lat, s_lon], axis=-1)

    def log_likelihood(
        self, conditions: ArrayLike | None, lat: ArrayLike, lon: ArrayLike, *, guidance: float = 0.0, rtol: float = 1e-5
    ) -> np.ndarray:
        """Model log-density per steradian at ``(lat[i], lon[i])`` given ``conditions[i]``; shape ``(N,)``."""
        field = self._fitted()
        lat, lon = as_coordinates(lat, lon)
        cond, rows = self._conditions(conditions, lat.shape[0])
        if rows != lat.shape[0]:
            raise ReferenceModelError(f"conditions have {rows} rows but lat/lon have {lat.shape[0]} values")
        x = latlon_to_unit(lat, lon).unsqueeze(1).to(self.runtime.torch_device)
        with self.runtime.active():
            logp = flow.log_likelihood(field, x, cond, guidance=guidance, rtol=rtol, atol=rtol)
        return logp[:, 0].float().cpu().numpy().astype(np.float64)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write ``config.json`` + ``weights.safetensors``; :meth:`load` restores identical outputs."""
        field = self._fitted()
        tensors = cast_floating({f"field.{k}": v for k, v in field.state_dict().items()}, self.runtime.storage_dtype)
        tensors["cond_mean"], tensors["cond_std"] = self.cond_mean, self.cond_std  # statistics stay fp32
        config = {"flow": dataclasses.asdict(self.config), "cond_dim": self.cond_dim, "dtype": self.runtime.dtype}
        return save_checkpoint(directory, CHECKPOINT_KIND, config, tensors)

    @classmethod
    def load(cls, directory: str | Path, *, runtime: Runtime | None = None) -> FlowLocator:
        """Rebuild a locator saved by :meth:`save` on ``runtime``'s device (default: CPU, the saved dtype).

        Tensors are read on the host and upcast to fp32 weights: a checkpoint from either device loads on either.
        """
        config, tensors = load_checkpoint(directory, CHECKPOINT_KIND)
        model = cls(FlowConfig(**config["flow"]), runtime=runtime or Runtime(dtype=config.get("dtype", "fp32")))
        model.cond_dim = int(config["cond_dim"])
        model.cond_mean, model.cond_std = tensors.pop("cond_mean").float(), tensors.pop("cond_std").float()
        model.field = model._build(model.cond_dim, seed=0)
        weights = cast_floating({k.removeprefix("field."): v for k, v in tensors.items()}, torch.float32)
        model.field.load_state_dict(weights)
        model.field.eval()
        return model
