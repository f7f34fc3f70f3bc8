"""Closed-form sphere geometry: round trips, geodesics, tangency, stability, the uniform prior."""

import math

import numpy as np
import pytest
import torch

from avg_bench.geo.sphere import haversine_km, to_unit_vectors
from baselines.reference.precision import sphere


def _random_points(n: int, seed: int, dtype=torch.float64) -> torch.Tensor:
    return sphere.sample_uniform(n, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_exp_of_log_returns_the_target():
    x, y = _random_points(5000, 0), _random_points(5000, 1)
    assert torch.allclose(sphere.exp_map(x, sphere.log_map(x, y)), y, atol=1e-12)


def test_log_of_exp_returns_the_velocity_below_pi():
    x = _random_points(5000, 2)
    v = sphere.project_to_tangent(x, torch.randn(5000, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64))
    v = v / v.norm(dim=-1, keepdim=True) * torch.rand(5000, 1, dtype=torch.float64) * 3.1  # lengths < pi
    assert torch.allclose(sphere.log_map(x, sphere.exp_map(x, v)), v, atol=1e-10)


def test_log_length_is_the_great_circle_distance_of_the_scorer():
    rng = np.random.default_rng(4)
    lat, lon = np.degrees(np.arcsin(rng.uniform(-1, 1, (2, 1000)))), rng.uniform(-180, 180, (2, 1000))
    x = sphere.latlon_to_unit(lat[0], lon[0], dtype=torch.float64)
    y = sphere.latlon_to_unit(lat[1], lon[1], dtype=torch.float64)
    km = sphere.log_map(x, y).norm(dim=-1).numpy() * sphere.EARTH_RADIUS_KM
    np.testing.assert_allclose(km, haversine_km(lat[0], lon[0], lat[1], lon[1]), atol=1e-6)


def test_maps_are_finite_and_exact_at_zero_length():
    x = _random_points(10, 5)
    assert sphere.log_map(x, x).abs().max() < 1e-15  # rounding of y − (x·y)x only
    assert torch.allclose(sphere.exp_map(x, torch.zeros_like(x)), x, atol=1e-15)
    tiny = sphere.project_to_tangent(x, torch.full_like(x, 1e-9))
    assert torch.allclose(sphere.log_map(x, sphere.exp_map(x, tiny)), tiny, atol=1e-16)


@pytest.mark.parametrize("offset", [0.0, 1e-9, 1e-5])
def test_log_map_near_the_antipode_has_length_pi_and_is_tangent(offset):
    x = _random_points(50, 6)
    y = sphere.normalise(-x + offset * sphere._fallback_direction(x))
    v = sphere.log_map(x, y)
    assert torch.isfinite(v).all()
    np.testing.assert_allclose(v.norm(dim=-1).numpy(), math.pi - offset, atol=1e-7)
    assert (x * v).sum(-1).abs().max() < 1e-12
    assert torch.allclose(sphere.exp_map(x, v), y, atol=1e-7)


def test_geodesic_endpoints_constant_speed_and_tangent_velocity():
    x0, x1 = _random_points(200, 7), _random_points(200, 8)
    ts = torch.linspace(0, 1, 101, dtype=torch.float64)
    dist = sphere.geodesic_distance(x0, x1)
    points, speeds = [], []
    for t in ts:
        xt, ut = sphere.geodesic(x0, x1, t.expand(200))
        points.append(xt)
        speeds.append(ut.norm(dim=-1))
        assert (xt * ut).sum(-1).abs().max() < 1e-12  # velocity tangent at x_t
        # after time t the point has covered t·d and has (1 − t)·d to go
        assert torch.allclose(sphere.geodesic_distance(x0, xt), t * dist, atol=1e-9)
        assert torch.allclose(sphere.geodesic_distance(xt, x1), (1 - t) * dist, atol=1e-9)
    assert torch.allclose(points[0], x0, atol=1e-15) and torch.allclose(points[-1], x1, atol=1e-12)
    assert torch.allclose(torch.stack(speeds), dist.expand(101, 200), atol=1e-12)  # constant speed = d
    # the analytic velocity matches a finite difference of the path
    h = 1e-6
    xa, _ = sphere.geodesic(x0, x1, torch.full((200,), 0.3 - h, dtype=torch.float64))
    xb, _ = sphere.geodesic(x0, x1, torch.full((200,), 0.3 + h, dtype=torch.float64))
    _, u = sphere.geodesic(x0, x1, torch.full((200,), 0.3, dtype=torch.float64))
    assert torch.allclose((xb - xa) / (2 * h), u, atol=1e-7)


def test_unit_vector_conversions_agree_with_the_scorer():
    lat, lon = np.array([90.0, -90.0, 0.0, 48.8566, -33.9]), np.array([0.0, 0.0, 180.0, 2.3522, -70.6])
    x = sphere.latlon_to_unit(lat, lon, dtype=torch.float64)
    np.testing.assert_array_equal(x.numpy(), to_unit_vectors(lat, lon))
    back_lat, back_lon = sphere.unit_to_latlon(x)
    np.testing.assert_allclose(back_lat, lat, atol=1e-12)
    assert haversine_km(back_lat, back_lon, lat, lon).max() < 1e-9
    with pytest.raises(ValueError, match="lat must be"):
        sphere.latlon_to_unit([91.0], [0.0])


def _ks_statistic_uniform(values: np.ndarray, low: float, high: float) -> float:
    u = np.sort((values - low) / (high - low))
    n = len(u)
    return float(max((np.arange(1, n + 1) / n - u).max(), (u - np.arange(n) / n).max()))


def test_uniform_prior_passes_kolmogorov_smirnov_on_height_and_longitude():
    """On a uniform sphere z = sin(lat) ~ U(−1, 1) and lon ~ U(−180, 180) (Archimedes)."""
    x = _random_points(20_000, 9)
    lat, lon = sphere.unit_to_latlon(x)
    critical = 1.63 / math.sqrt(20_000)  # alpha = 0.01
    assert _ks_statistic_uniform(x[:, 2].numpy(), -1, 1) < critical
    assert _ks_statistic_uniform(lon, -180, 180) < critical
    # and the mean resultant is near zero (|mean| ~ 1/sqrt(3n) = 0.004)
    assert x.mean(0).norm() < 0.02
    assert torch.allclose(x.norm(dim=-1), torch.ones(20_000, dtype=torch.float64), atol=1e-15)


def test_vmf_log_density_integrates_to_one():
    x = _random_points(400_000, 10)
    mu = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    # Monte Carlo under the uniform prior: E_u[p / u] = 1
    for kappa in (1.0, 10.0):
        ratio = torch.exp(sphere.vmf_log_density(x, mu, kappa) - sphere.UNIFORM_LOG_DENSITY).mean()
        assert abs(float(ratio) - 1.0) < 0.02
    assert math.isfinite(float(sphere.vmf_log_density(-mu, mu, 5000.0)))
