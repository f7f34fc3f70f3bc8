"""Exact von Mises–Fisher sampling and mixture densities on S²: the known truth the flow tests fit."""

from __future__ import annotations

import math

import numpy as np

from avg_bench.geo.sphere import to_unit_vectors

#: Three well-separated cities and the weights of their mixture components.
CITIES = {"Paris": (48.8566, 2.3522), "Tokyo": (35.6762, 139.6503), "Sao Paulo": (-23.5505, -46.6333)}
WEIGHTS = np.array([0.5, 0.3, 0.2])


def sample_vmf(mu: np.ndarray, kappa: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unit vectors from vMF(mu, kappa) by the exact inverse CDF of ``w = mu·x`` (Wood 1994, p=3)."""
    u = rng.random(n)
    w = 1.0 + np.log(u + (1.0 - u) * np.exp(-2.0 * kappa)) / kappa
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    a = np.cross(mu, [0.0, 0.0, 1.0] if abs(mu[2]) < 0.9 else [1.0, 0.0, 0.0])
    a /= np.linalg.norm(a)
    b = np.cross(mu, a)
    r = np.sqrt(np.clip(1.0 - w * w, 0.0, None))
    return w[:, None] * mu + r[:, None] * (np.cos(phi)[:, None] * a + np.sin(phi)[:, None] * b)


def centres() -> np.ndarray:
    lat, lon = np.array(list(CITIES.values())).T
    return to_unit_vectors(lat, lon)


def sample_mixture(kappa: float, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points and their component index."""
    comp = rng.choice(len(WEIGHTS), size=n, p=WEIGHTS)
    mus = centres()
    x = np.empty((n, 3))
    for k in range(len(WEIGHTS)):
        sel = comp == k
        x[sel] = sample_vmf(mus[k], kappa, int(sel.sum()), rng)
    return x, comp


def mixture_log_density(x: np.ndarray, kappa: float) -> np.ndarray:
    """True log-density per steradian of the mixture."""
    log_norm = math.log(kappa) - math.log(2 * math.pi) - math.log1p(-math.exp(-2 * kappa))
    comps = np.log(WEIGHTS) + log_norm + kappa * (x @ centres().T - 1.0)
    m = comps.max(-1, keepdims=True)
    return (m + np.log(np.exp(comps - m).sum(-1, keepdims=True)))[:, 0]
