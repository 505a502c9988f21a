"""Tests for ganlib.transport: exact W1 and W2 (POT), 1D closed forms, W2 between Gaussians,
sliced Wasserstein."""
import math

import numpy as np
import ot
import pytest
import torch
from scipy import linalg, stats

from ganlib import data, transport


def _gauss(n, d, mean, std, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.as_tensor(mean, dtype=torch.float64) + std * torch.randn(n, d, generator=g, dtype=torch.float64)


def test_translation_gives_shift():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    shift = np.array([0.3, -0.4])                    # ||shift|| = 0.5
    assert transport.w1_exact(x, x + shift) == pytest.approx(0.5, abs=1e-9)
    assert transport.w1_exact(x, x + shift, metric="cityblock") == pytest.approx(0.7, abs=1e-9)
    assert transport.w2_exact(x, x + shift) == pytest.approx(0.5, abs=1e-9)
    with pytest.raises(ValueError, match="euclidean, cityblock"):
        transport.w1_exact(x, x, metric="l3")


def test_parallel_lines_and_gradient():
    u = torch.linspace(0, 1, 101)[:, None]
    for th in (-0.7, 0.25):
        theta = torch.tensor(th, requires_grad=True)
        p0 = torch.cat([torch.zeros_like(u), u], 1)
        pt = torch.cat([theta.expand(101, 1), u], 1)
        w = transport.w1_exact_torch(p0, pt)
        w.backward()
        assert w.item() == pytest.approx(abs(th), abs=1e-6)
        assert theta.grad.item() == pytest.approx(math.copysign(1.0, th), abs=1e-6)


def test_w2_exact_against_w1_and_closed_forms():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(150, 3)), rng.normal(size=(120, 3)) * 1.5 + 0.2
    w1, w2 = transport.w1_exact(x, y), transport.w2_exact(x, y)
    assert w1 <= w2 + 1e-12                                  # Jensen: W1 <= W2
    assert w2 == pytest.approx(math.sqrt(ot.emd2(np.full(150, 1 / 150), np.full(120, 1 / 120),
                                                 ot.dist(x, y))), rel=1e-12)
    # on the line with equal sizes the optimal plan is the sorted matching
    a, b = rng.normal(size=400), rng.normal(1.0, 2.0, size=400)
    assert transport.w2_exact(a, b) == pytest.approx(
        math.sqrt(np.mean((np.sort(a) - np.sort(b)) ** 2)), rel=1e-9)
    # weighted: all mass at 0 vs {1 (w 0.25), 3 (w 0.75)}: W2^2 = 0.25 + 6.75 = 7
    assert transport.w2_exact([0.0, 5.0], [1.0, 3.0], a=[1.0, 0.0], b=[0.25, 0.75]) == pytest.approx(math.sqrt(7))


def test_1d_formulas_agree_with_emd():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=300), rng.normal(1.0, 2.0, size=300)
    exact = transport.w1_exact(x, y)
    assert transport.w1_1d_sorted(x, y) == pytest.approx(exact, rel=1e-9)
    assert transport.w1_1d_cdf(x, y) == pytest.approx(exact, rel=1e-9)
    assert transport.w1_1d_cdf(x, y[:170]) == pytest.approx(transport.w1_exact(x, y[:170]), rel=1e-9)
    # the number scipy.stats.wasserstein_distance gives (the chapters' former call)
    assert transport.w1_1d_cdf(x, y[:170]) == pytest.approx(stats.wasserstein_distance(x, y[:170]), rel=1e-12)
    assert transport.w1_1d_cdf(x[:, None], y[:170, None]) == transport.w1_1d_cdf(x, y[:170])


def test_1d_weighted_and_cdfs():
    # W1(N(0,1), N(2,1)) = 2 by the CDF integral
    w = transport.w1_from_cdfs(stats.norm(0, 1).cdf, stats.norm(2, 1).cdf, -10, 12)
    assert w == pytest.approx(2.0, abs=1e-6)
    # weighted: all mass of x at 0 vs y = {1 (w 0.25), 3 (w 0.75)}: W1 = 0.25 + 2.25 = 2.5
    assert transport.w1_exact([0.0, 5.0], [1.0, 3.0], a=[1.0, 0.0], b=[0.25, 0.75]) == pytest.approx(2.5)


def test_mixture_w1_against_cdf_integral():
    mix = data.mixture_1d((-1.0, 1.0), (0.3, 0.3))
    single = data.mixture_1d((0.0,), (0.3,))
    shifted = data.mixture_1d((-0.5, 1.5), (0.3, 0.3))
    assert transport.w1_from_cdfs(mix.cdf, shifted.cdf, -5, 5) == pytest.approx(0.5, abs=1e-6)
    exact = transport.w1_from_cdfs(mix.cdf, single.cdf, -5, 5)
    assert 0.5 < exact < 1.0     # less than moving each half by 1 (the monotone map does better)
    g = torch.Generator().manual_seed(0)
    xs, ys = mix.sample(4000, g)[:, 0], single.sample(4000, g)[:, 0]
    assert transport.w1_1d_sorted(xs, ys) == pytest.approx(exact, abs=0.05)


# ----------------------------------------------------------------------------- W2 of Gaussians
def test_w2_gaussians_1d_closed_form():
    # W2^2(N(m1, s1^2), N(m2, s2^2)) = (m1 - m2)^2 + (s1 - s2)^2
    w2 = transport.w2_squared_gaussians([1.0], [[4.0]], [-0.5], [[0.25]])
    assert w2 == pytest.approx(1.5 ** 2 + (2.0 - 0.5) ** 2, rel=1e-10)
    assert transport.w2_squared_gaussians(1.0, 4.0, -0.5, 0.25) == pytest.approx(w2, rel=1e-12)


def test_w2_gaussians_diagonal_rotated_and_non_commuting():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 3, 5), rng.uniform(0.1, 3, 5)
    mu_a, mu_b = rng.normal(size=5), rng.normal(size=5)
    want = ((mu_a - mu_b) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert transport.w2_squared_gaussians(mu_a, np.diag(a), mu_b, np.diag(b)) == pytest.approx(want)
    # a rotation of both Gaussians changes nothing
    q = stats.ortho_group.rvs(5, random_state=1)
    got = transport.w2_squared_gaussians(q @ mu_a, q @ np.diag(a) @ q.T, q @ mu_b, q @ np.diag(b) @ q.T)
    assert got == pytest.approx(want, rel=1e-8)
    # non-commuting covariances: the symmetric form Tr(A + B - 2 (A^1/2 B A^1/2)^1/2)
    A = np.cov(rng.normal(size=(5, 50)))
    B = np.cov(rng.normal(size=(5, 50)) * np.arange(1, 6)[:, None])
    ra = linalg.sqrtm(A).real
    sym = np.trace(A + B - 2 * linalg.sqrtm(ra @ B @ ra).real)
    assert transport.w2_squared_gaussians(np.zeros(5), A, np.zeros(5), B) == pytest.approx(sym, rel=1e-6)
    # an independent implementation: POT's Bures-Wasserstein distance
    pot = ot.gaussian.bures_wasserstein_distance(mu_a, mu_b, A, B) ** 2
    assert transport.w2_squared_gaussians(mu_a, A, mu_b, B) == pytest.approx(float(pot), rel=1e-6)


# ----------------------------------------------------------------------------- sliced W
def test_sliced_wasserstein_of_a_translation():
    x = _gauss(2000, 2, [0, 0], 1.0, 0)
    t = torch.tensor([3.0, -1.0], dtype=torch.float64)
    g = torch.Generator().manual_seed(1)
    dirs = transport.random_directions(4000, 2, g, dtype=torch.float64)
    assert torch.allclose(dirs.norm(dim=1), torch.ones(4000, dtype=torch.float64))
    sw2 = transport.sliced_wasserstein(x, x + t, p=2, directions=dirs)
    sw1 = transport.sliced_wasserstein(x, x + t, p=1, directions=dirs)
    # SW_2^2 = E (theta.t)^2 = ||t||^2 / d ;  SW_1 = ||t|| E|cos phi| = 2 ||t|| / pi in 2D
    assert float(sw2) ** 2 == pytest.approx(float(t.norm()) ** 2 / 2, rel=0.03)
    assert float(sw1) == pytest.approx(2 * float(t.norm()) / math.pi, rel=0.03)


def test_sliced_wasserstein_agrees_with_pot():
    x, y = _gauss(500, 3, [0, 0, 0], 1.0, 0), _gauss(500, 3, [1, 0, 2], 0.5, 1)
    g = torch.Generator().manual_seed(2)
    ours = float(transport.sliced_wasserstein(x, y, n_projections=3000, generator=g))
    theirs = ot.sliced_wasserstein_distance(x.numpy(), y.numpy(), n_projections=3000, seed=3)
    assert ours == pytest.approx(theirs, rel=0.03)


def test_sliced_wasserstein_is_differentiable():
    x = _gauss(64, 2, [0, 0], 1.0, 0).requires_grad_(True)
    transport.sliced_wasserstein(x, _gauss(64, 2, [2, 0], 1.0, 1), n_projections=16,
                                 generator=torch.Generator().manual_seed(0)).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert float(x.grad[:, 0].sum()) < 0  # moving x toward y (positive first axis) lowers SW


def test_bad_input():
    with pytest.raises(ValueError, match="same dimension"):
        transport.w1_exact(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="same shape"):
        transport.w1_1d_sorted(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match=r"x must have shape \(n, 1\)"):
        transport.w1_1d_cdf(np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="a must be 3 non-negative numbers summing to 1"):
        transport.w1_exact(np.ones(3), np.ones(3), a=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="b must be 2"):
        transport.w2_exact(np.ones(3), np.ones(2), b=[1.0])
    with pytest.raises(ValueError, match="NaN"):
        transport.w1_exact(np.array([np.nan]), np.ones(1))
    with pytest.raises(TypeError):
        transport.w1_exact_torch(np.ones((2, 2)), torch.ones(2, 2))
    with pytest.raises(ValueError, match="lo < hi"):
        transport.w1_from_cdfs(np.sin, np.cos, 1.0, 0.0)
    with pytest.raises(ValueError, match=r"cov_b must have shape \(2, 2\)"):
        transport.w2_squared_gaussians(np.zeros(2), np.eye(2), np.zeros(2), np.eye(3))
    x = torch.zeros(10, 2)
    with pytest.raises(ValueError, match="same shape"):
        transport.sliced_wasserstein(x, torch.zeros(11, 2))
    with pytest.raises(ValueError, match="choose one of: 1, 2"):
        transport.sliced_wasserstein(x, x, p=3)
    with pytest.raises(ValueError, match="same dimension"):
        transport.sliced_wasserstein(x, x, directions=torch.ones(5, 3))
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        transport.random_directions(4, 0)


# ----------------------------------------------------------------------------- killed mutants
def test_weights_are_normalized_not_rescaled():
    # a sums to 1 + 9e-7 (accepted: within 1e-6); W1 uses a / a.sum(), not a * a.sum()
    a = np.array([0.25, 0.75 + 9e-7])
    want = (0.75 + 9e-7) * 1000.0 / (1 + 9e-7)
    assert transport.w1_exact([0.0, 1000.0], [0.0], a=a) == pytest.approx(want, rel=1e-12)
    assert transport.w1_exact([0.0], [0.0, 1000.0], b=a) == pytest.approx(want, rel=1e-12)
    assert transport.w2_exact([0.0, 1000.0], [0.0], a=a) == pytest.approx(math.sqrt(1000.0 * want), rel=1e-12)
    with pytest.raises(ValueError, match="^b must be 3 non-negative"):
        transport.w1_exact(np.ones(3), np.ones(3), b=[0.5, 0.5])
    with pytest.raises(ValueError, match="^a must be 3 non-negative"):
        transport.w2_exact(np.ones(3), np.ones(3), a=[0.5, 0.5])


def test_w1_exact_torch_small_case_exact():
    # x = {0, 1, 3} (mass 1/3 each) vs y = {0}: W1 = (0 + 1 + 3) / 3, in float64
    x = torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64)
    w = transport.w1_exact_torch(x, torch.zeros(1, 1, dtype=torch.float64))
    assert w.dtype == torch.float64 and float(w) == pytest.approx(4 / 3, rel=1e-14)
    w = transport.w1_exact_torch(torch.zeros(1, 1), x.float())
    assert float(w) == pytest.approx(4 / 3, rel=1e-14)


def test_w1_from_cdfs_grid():
    step = lambda c: (lambda t: (t >= c).astype(float))   # noqa: E731  CDF of delta_c
    # the default n = 200_001 on [-1, 1] puts the jumps 0 and 0.5 on grid points: exact
    assert transport.w1_from_cdfs(step(0.0), step(0.5), -1, 1) == pytest.approx(0.5, abs=1e-12)
    # n = 2 is the plain trapezoid (hi - lo) (|F - G|(lo) + |F - G|(hi)) / 2
    lin = lambda t: np.clip(t, 0, 1)                       # noqa: E731  CDF of U(0, 1)
    assert transport.w1_from_cdfs(lin, step(0.0), 0.0, 2.0, n=2) == pytest.approx(1.0, abs=1e-15)
    with pytest.raises(ValueError, match="^n must be an integer >= 2, got 1"):
        transport.w1_from_cdfs(lin, lin, 0.0, 1.0, n=1)


def test_w2_gaussians_small_values_and_float32_input():
    assert transport.w2_squared_gaussians(0.0, 1.0, 0.0, 1.0) == pytest.approx(0.0, abs=1e-12)
    assert transport.w2_squared_gaussians(0.0, 1.0, 0.1, 1.0) == pytest.approx(0.01, rel=1e-9)
    # the inputs are converted to float64 whatever their dtype
    mu = np.array([0.1, 0.7], dtype=np.float32)
    cov_a = np.array([[1.3, 0.2], [0.2, 0.7]], dtype=np.float32)
    cov_b = np.array([[0.6, -0.1], [-0.1, 1.9]], dtype=np.float32)
    got = transport.w2_squared_gaussians(mu, cov_a, -mu, cov_b)
    want = transport.w2_squared_gaussians(*(a.astype(np.float64) for a in (mu, cov_a, -mu, cov_b)))
    assert got == pytest.approx(want, rel=1e-13)


def test_random_directions_reproducible_and_on_requested_device():
    g = torch.Generator().manual_seed(5)
    theta = torch.randn(6, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    got = transport.random_directions(6, 3, g, dtype=torch.float64)
    torch.testing.assert_close(got, theta / theta.norm(dim=1, keepdim=True), rtol=0, atol=0)
    assert transport.random_directions(3, 2).shape == (3, 2)          # no generator, no device
    assert transport.random_directions(3, 2, device="meta").device.type == "meta"
    assert transport.random_directions(3, 2, torch.Generator(), device="meta").device.type == "meta"
    x = torch.zeros(5, 2, device="meta")
    assert transport.sliced_wasserstein(x, x, n_projections=4).device.type == "meta"


def test_sliced_wasserstein_default_projections_from_generator():
    x, y = _gauss(50, 3, [0, 0, 0], 1.0, 0), _gauss(50, 3, [1, 0, 0], 1.0, 1)
    got = transport.sliced_wasserstein(x, y, generator=torch.Generator().manual_seed(3))
    dirs = transport.random_directions(128, 3, torch.Generator().manual_seed(3), dtype=torch.float64)
    px, py = (torch.sort(v @ dirs.T, dim=0).values for v in (x, y))
    assert float(got) == pytest.approx(float(((px - py) ** 2).mean().sqrt()), rel=1e-12)
