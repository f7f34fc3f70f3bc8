"""Training the MAR-SAE, and the metrics that say how good a fitted one is."""

from __future__ import annotations

import dataclasses
import math

import torch

from baselines.reference.perception.data import ClipWindows
from baselines.reference.perception.sae import MarSAE, SAEOutput
from baselines.reference.progress import training_progress
from baselines.reference.runtime import Runtime


@dataclasses.dataclass(frozen=True)
class SAEMetrics:
    """Quality of a fitted SAE on some clips.

    ``fvu``: fraction of variance unexplained, Σ‖x − x̂‖² / Σ‖x − x̄‖²; ``l0``: mean non-zeros of the
    full code per window (``l0_novel``: of its novel part); ``dead_fraction``: atoms never active on
    these clips; ``expert_load``: share of windows routed to each expert.
    """

    fvu: float
    l0: float
    l0_novel: float
    dead_fraction: float
    expert_load: tuple[float, ...]
    n_windows: int


def losses(model: MarSAE, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, dict[str, float], SAEOutput]:
    """Total loss = reconstruction + aux_weight · AuxK + balance_weight · load balance; and its parts."""
    c = model.config
    out = model(x, mask, with_aux=True)
    m = mask[..., None].to(x.dtype)
    n = mask.sum().clamp_min(1)
    err = (x - out.recon) * m
    recon = (err**2).sum() / n  # inputs have mean squared norm 1: this is about the FVU
    total = recon
    parts = {"recon": recon.item()}
    if out.aux_recon is not None:
        target = err.detach()
        aux = (((target - out.aux_recon) * m) ** 2).sum() / (target**2).sum().clamp_min(1e-12)
        total = total + c.aux_weight * aux
        parts["aux"] = aux.item()
    if out.router_probs is not None:
        valid = mask.reshape(-1)
        # masked mean, not probs[valid]: boolean indexing's backward is an accumulating index_put
        # (atomic adds with 2+ threads or on CUDA), which made seeded runs differ
        weights = valid.to(x.dtype)[:, None]
        mean_probs = (out.router_probs.reshape(-1, c.n_experts) * weights).sum(0) / weights.sum()
        share = torch.bincount(out.experts.reshape(-1)[valid], minlength=c.n_experts).to(x.dtype) / weights.sum()
        balance = c.n_experts * (share * mean_probs).sum()
        total = total + c.balance_weight * balance
        parts["balance"] = balance.item()
    return total, parts, out


def fit_sae(model: MarSAE, data: ClipWindows, *, seed: int = 0, progress: bool = True,
            runtime: Runtime | None = None) -> list[dict[str, float]]:
    """Train ``model`` (already on the runtime's device) on normalised clip windows (host memory).

    Returns the per-step loss parts. The clips of each batch are drawn by a host generator (they
    index host memory); the batch then moves to the model's device.
    """
    c = model.config
    runtime = runtime or Runtime()
    device = model.device
    generator = torch.Generator(device="cpu").manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=c.lr)
    warmup = max(1, c.train_steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * (0.55 + 0.45 * math.cos(math.pi * min(1.0, s / c.train_steps)))
    )
    history = []
    model.train()
    with training_progress("MAR-SAE", c.train_steps, enabled=progress) as advance, runtime.active():
        for _ in range(c.train_steps):
            idx = torch.randint(len(data), (c.batch_clips,), generator=generator, device="cpu").numpy()
            x, mask = (t.to(device) for t in data.batch(idx))
            total, parts, out = losses(model, x, mask)
            optimiser.zero_grad(set_to_none=True)
            total.backward()
            model.remove_parallel_gradient()
            optimiser.step()
            schedule.step()
            model.normalise_decoder()
            with torch.no_grad():
                fired = ((out.codes > 0) & mask[..., None]).any(dim=(0, 1))
                model.since_fired.add_(int(mask.sum())).masked_fill_(fired, 0)
            history.append(parts)
            advance(**parts)
    model.eval()
    return history


@torch.no_grad()
def evaluate_sae(model: MarSAE, data: ClipWindows, *, chunk: int = 256) -> SAEMetrics:
    """Metrics over every window of ``data`` (normalised windows)."""
    c = model.config
    sq_err = 0.0
    n = 0
    l0 = l0_novel = 0.0
    device = model.device
    active = torch.zeros(c.n_atoms, dtype=torch.bool, device=device)
    load = torch.zeros(c.n_experts, device=device)
    total = data.windows.double()
    variance = float(((total - total.mean(0)) ** 2).sum())
    for _, x, mask in data.chunks(chunk):
        x, mask = x.to(device), mask.to(device)
        out = model(x, mask)
        valid = mask
        sq_err += float((((x - out.recon) ** 2).sum(-1) * valid).sum())
        nz = out.codes > 0
        l0 += float((nz.sum(-1) * valid).sum())
        l0_novel += float(((out.novel != 0).sum(-1) * valid).sum())
        active |= (nz & valid[..., None]).any(dim=(0, 1))
        load += torch.bincount(out.experts[valid], minlength=c.n_experts)
        n += int(valid.sum())
    return SAEMetrics(
        fvu=sq_err / max(variance, 1e-30),
        l0=l0 / n,
        l0_novel=l0_novel / n,
        dead_fraction=float((~active).float().mean()),
        expert_load=tuple((load / n).cpu().tolist()),
        n_windows=n,
    )


def normalised(model: MarSAE, data: ClipWindows) -> ClipWindows:
    """A copy of ``data`` with the model's input centring and scaling applied."""
    out = ClipWindows.__new__(ClipWindows)
    out.d, out.lengths, out.offsets = data.d, data.lengths, data.offsets
    out.windows = model.normalise_input(data.windows)
    return out


__all__ = ["SAEMetrics", "evaluate_sae", "fit_sae", "losses", "normalised"]
