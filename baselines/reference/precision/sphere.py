"""Geometry of the unit sphere S², written out in closed form (torch, batched over leading axes).

Points are unit vectors in Earth-centred coordinates with the axes of
:func:`avg_bench.geo.sphere.to_unit_vectors` (x towards (0°, 0°), y towards (0°, 90°E), z towards
the North Pole), so the conversions here agree with the scorer's to the last bit in float64.
Tangent vectors at ``x`` are ambient 3-vectors orthogonal to ``x``; their length is an angle in
radians (multiply by R = 6371 km for a distance).

Every function is safe at zero length (no 0/0) and near antipodes, where the log map's direction
is undefined: there it returns a length-π vector along a fixed, deterministic tangent direction.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numpy.typing import ArrayLike

from avg_bench.geo.sphere import from_unit_vectors, to_unit_vectors
from avg_bench.spec import AVG_V1

#: Radius of every AVG distance (km), from the benchmark spec.
EARTH_RADIUS_KM = AVG_V1.radius_km

#: Log-density of the uniform distribution on the unit sphere, per steradian: −log(4π).
UNIFORM_LOG_DENSITY = -math.log(4.0 * math.pi)

# Below this angle the Taylor series replace sin(θ)/θ and θ/sin(θ) (their error is ~θ⁴/120).
_SMALL = 1e-4


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(-1, keepdim=True)


def _norm(v: torch.Tensor) -> torch.Tensor:
    # sqrt of a clamped square: finite gradients at zero length
    return (v * v).sum(-1, keepdim=True).clamp_min(1e-30).sqrt()


def normalise(x: torch.Tensor) -> torch.Tensor:
    """Project ambient vectors radially back onto the sphere (the retraction after a step)."""
    return x / _norm(x)


def project_to_tangent(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The component of ``v`` tangent to the sphere at ``x``: ``v − (x·v) x``."""
    return v - _dot(x, v) * x


def exp_map(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Follow the great circle from ``x`` with initial velocity ``v`` (tangent) for unit time."""
    theta = _norm(v)
    small = theta < _SMALL
    sinc = torch.where(small, 1.0 - theta * theta / 6.0, torch.sin(theta) / torch.where(small, 1.0, theta))
    return normalise(torch.cos(theta) * x + sinc * v)


def _fallback_direction(x: torch.Tensor) -> torch.Tensor:
    """A deterministic unit tangent at ``x``: the coordinate axis least aligned with ``x``, projected."""
    axis = torch.nn.functional.one_hot(x.abs().argmin(-1), 3).to(x.dtype)
    return normalise(project_to_tangent(x, axis))


def log_map(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The tangent vector at ``x`` pointing to ``y`` along the shortest great circle, of length d(x, y)."""
    cos_t = _dot(x, y)
    u = y - cos_t * x
    u = u - _dot(x, u) * x  # second projection: near antipodes |u| ~ 0 and rounding dominates the first
    sin_t = (u * u).sum(-1, keepdim=True).sqrt()
    theta = torch.atan2(sin_t, cos_t)
    tiny = sin_t < 1e-12
    factor = torch.where(
        theta < _SMALL, 1.0 + theta * theta / 6.0, theta / torch.where(tiny, 1.0, sin_t)
    )
    v = factor * u
    # Antipodes: every direction is a shortest path; pick a fixed one so the result is finite.
    antipodal = tiny & (cos_t < 0)
    return torch.where(antipodal, math.pi * _fallback_direction(x), v)


def geodesic_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Angle between unit vectors in radians, accurate at 0 and π (atan2 form); shape ``(...)``."""
    return torch.atan2(torch.linalg.vector_norm(torch.linalg.cross(x, y), dim=-1), (x * y).sum(-1))


def geodesic(x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Point ``x_t`` and velocity ``dx_t/dt`` of the constant-speed geodesic from ``x0`` (t=0) to ``x1`` (t=1).

    ``t`` broadcasts against the leading axes (shape ``(..., 1)`` or ``(...)``). The velocity is
    the analytic derivative, tangent at ``x_t`` with constant length d(x0, x1), finite for every t
    (unlike ``log(x_t, x1) / (1 − t)``, which divides by zero at t = 1).
    """
    if t.dim() == x0.dim() - 1:
        t = t.unsqueeze(-1)
    v = log_map(x0, x1)
    theta = _norm(v)
    direction = torch.where(theta < 1e-15, torch.zeros_like(v), v / theta)
    angle = t * theta
    xt = torch.cos(angle) * x0 + torch.sin(angle) * direction
    ut = theta * (torch.cos(angle) * direction - torch.sin(angle) * x0)
    return normalise(xt), ut


def sample_uniform(
    shape: tuple[int, ...] | int, *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Uniform points on S² (normalised Gaussians), shape ``(*shape, 3)``, on the generator's device."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    device = generator.device if generator is not None else device
    g = torch.randn(*shape, 3, generator=generator, dtype=torch.float64, device=device)
    return normalise(g).to(dtype)


def vmf_log_density(x: torch.Tensor, mu: torch.Tensor, kappa: float | torch.Tensor) -> torch.Tensor:
    """Log-density per steradian of the von Mises–Fisher distribution on S², stable for large κ.

    ``κ / (4π sinh κ) · exp(κ μ·x) = κ / (2π (1 − e^(−2κ))) · exp(κ (μ·x − 1))``.
    """
    kappa = torch.as_tensor(kappa, dtype=x.dtype)
    return (
        torch.log(kappa)
        - math.log(2.0 * math.pi)
        - torch.log1p(-torch.exp(-2.0 * kappa))
        + kappa * ((x * mu).sum(-1) - 1.0)
    )


def latlon_to_unit(lat: ArrayLike, lon: ArrayLike, *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Degrees → unit vectors ``(..., 3)``; out-of-range coordinates raise (the scorer's check)."""
    return torch.from_numpy(to_unit_vectors(lat, lon)).to(dtype)


def unit_to_latlon(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Unit (or any non-zero) vectors → ``(lat, lon)`` float64 degrees in the scorer's ranges."""
    return from_unit_vectors(x.detach().to(torch.float64).cpu().numpy())
