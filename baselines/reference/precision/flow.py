"""Flow matching on S² as plain functions over a :class:`VelocityField`: loss, sampling, likelihood, selection.

* **Training target** (conditional flow matching with geodesic paths): draw ``x0`` from the uniform
  prior, ``t ~ U(0, 1)``, and regress the field at ``x_t = exp_{x0}(t log_{x0} x1)`` onto the path's
  velocity; the marginal field then carries the prior to the data distribution.
* **Sampling**: integrate from t = 0 to 1 with Euler or midpoint steps taken along great circles
  (exp map), so every iterate is renormalised onto the sphere.
* **Guidance**: ``v = v_cond + w (v_cond − v_null)``; ``w = 0`` is the plain conditional field
  (one network pass, no extra cost).
* **Log-likelihood** (exact up to the ODE tolerance): integrate ``(x, ∫div v)`` from t = 1 back to 0
  with an adaptive solver (torchdiffeq); ``log p(x1) = −log 4π − ∫₀¹ div v(x_t, t) dt``. The
  divergence on the sphere is ``tr(J) − xᵀJx`` with ``J`` the 3×3 Jacobian of the field, three
  autograd passes: exact, no Hutchinson noise.
* **Point selection** among a clip's samples: the highest model likelihood, or the mode of a von
  Mises–Fisher kernel density over the samples (an S×S matrix product, far cheaper).
"""

from __future__ import annotations

from typing import Literal

import torch
from torchdiffeq import odeint

from baselines.reference.errors import ReferenceModelError
from baselines.reference.precision.sphere import (
    EARTH_RADIUS_KM,
    UNIFORM_LOG_DENSITY,
    exp_map,
    geodesic,
    normalise,
    project_to_tangent,
    sample_uniform,
)
from baselines.reference.precision.velocity import VelocityField

Integrator = Literal["euler", "midpoint"]


def flow_matching_loss(
    field: VelocityField,
    x1: torch.Tensor,
    cond: torch.Tensor | None,
    *,
    p_drop: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Mean squared error between the field and the geodesic path velocity, for a batch of data points."""
    n = x1.shape[0]
    x0 = sample_uniform(n, generator=generator, dtype=x1.dtype)  # on the generator's device: the model's
    t = torch.rand(n, generator=generator, dtype=x1.dtype, device=generator.device)
    xt, ut = geodesic(x0, x1, t)
    null = (torch.rand(n, generator=generator, device=generator.device) < p_drop) if cond is not None and p_drop > 0 else None
    v = field(xt.unsqueeze(1), t, cond, null).squeeze(1)
    return ((v - ut) ** 2).sum(-1).mean()


def guided_field(field: VelocityField, cond: torch.Tensor | None, t: torch.Tensor, batch: int, guidance: float):
    """Return ``f(x (B, S, 3)) -> v`` at time ``t``: the (guided) field with its per-row context precomputed."""
    if cond is None or guidance == 0.0 or field.cond is None:
        ctx = field.context(t, cond, None, batch)
        return lambda x: field.evaluate(x, ctx)
    both = torch.cat([cond, cond])
    null = torch.arange(2 * batch, device=cond.device) >= batch
    ctx = field.context(t, both, null, 2 * batch)

    def f(x: torch.Tensor) -> torch.Tensor:
        v = field.evaluate(torch.cat([x, x]), ctx)
        v_cond, v_null = v[:batch], v[batch:]
        return v_cond + guidance * (v_cond - v_null)

    return f


@torch.no_grad()
def sample(
    field: VelocityField,
    cond: torch.Tensor | None,
    *,
    batch: int,
    n_samples: int,
    steps: int = 64,
    guidance: float = 0.0,
    method: Integrator = "euler",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw ``n_samples`` points per row: unit vectors of shape ``(batch, n_samples, 3)``."""
    if steps < 1:
        raise ReferenceModelError(f"steps must be >= 1, found {steps}")
    dtype, device = field.null.dtype, field.null.device
    x = sample_uniform((batch, n_samples), generator=generator, dtype=dtype, device=device)
    dt = 1.0 / steps
    for i in range(steps):
        t = torch.tensor(i * dt, dtype=dtype, device=device)
        v = guided_field(field, cond, t, batch, guidance)(x)
        if method == "midpoint":
            xm = exp_map(x, 0.5 * dt * v)
            vm = guided_field(field, cond, t + 0.5 * dt, batch, guidance)(xm)
            v = project_to_tangent(x, vm)
        elif method != "euler":
            raise ReferenceModelError(f"method must be 'euler' or 'midpoint', found {method!r}")
        x = exp_map(x, dt * v)
    return x


def log_likelihood(
    field: VelocityField,
    x1: torch.Tensor,
    cond: torch.Tensor | None,
    *,
    guidance: float = 0.0,
    rtol: float = 1e-5,
    atol: float = 1e-5,
    method: str = "dopri5",
) -> torch.Tensor:
    """Log-density per steradian of the model at points ``x1`` (B, S, 3) given ``cond`` (B, D); shape ``(B, S)``.

    Multiply by ``exp`` and divide by R² for a density per km².
    """
    batch = x1.shape[0]

    def dynamics(t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        x = state[0]
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            xn = normalise(x)
            v = guided_field(field, cond, t, batch, guidance)(xn)
            rows = [torch.autograd.grad(v[..., i].sum(), x, retain_graph=i < 2)[0] for i in range(3)]
        jac = torch.stack(rows, dim=-2)  # jac[..., i, j] = d v_i / d x_j
        xd = xn.detach()
        div = jac.diagonal(dim1=-2, dim2=-1).sum(-1) - torch.einsum("...i,...ij,...j->...", xd, jac, xd)
        return v.detach(), div

    state0 = (x1.detach(), x1.new_zeros(x1.shape[:-1]))
    times = torch.tensor([1.0, 0.0], dtype=x1.dtype, device=x1.device)
    _, integral = odeint(dynamics, state0, times, rtol=rtol, atol=atol, method=method)
    return UNIFORM_LOG_DENSITY + integral[-1]


def vmf_kde_mode(samples: torch.Tensor, *, bandwidth_km: float = 300.0) -> torch.Tensor:
    """Index of the sample with the highest von Mises–Fisher kernel density among its row's samples.

    The kernel is ``exp(κ (x·y − 1))`` with ``κ = (R / bandwidth)²`` (a Gaussian of that standard
    deviation at small angles). Shape ``(B, S, 3) -> (B,)``; ties go to the lower index.
    """
    if bandwidth_km <= 0:
        raise ReferenceModelError(f"bandwidth_km must be > 0, found {bandwidth_km}")
    kappa = (EARTH_RADIUS_KM / bandwidth_km) ** 2
    gram = samples @ samples.transpose(-1, -2)
    density = torch.exp(kappa * (gram - 1.0)).sum(-1)
    return density.argmax(-1)


def gather_rows(samples: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``samples[b, index[b]]`` for every row: ``(B, S, 3), (B,) -> (B, 3)``."""
    return samples[torch.arange(samples.shape[0], device=samples.device), index]


__all__ = [
    "flow_matching_loss",
    "gather_rows",
    "guided_field",
    "log_likelihood",
    "sample",
    "vmf_kde_mode",
]
