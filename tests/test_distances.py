"""ganlib.distances: MMD against its closed form for Gaussians and its defining properties."""
import math

import numpy as np
import pytest
import torch
from scipy import integrate

from ganlib import distances


def _gauss(n, d, mean, std, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.as_tensor(mean, dtype=torch.float64) + std * torch.randn(n, d, generator=g, dtype=torch.float64)


def test_mmd_identical_distributions_is_near_zero_and_unbiased():
    vals = [float(distances.mmd2(_gauss(300, 2, [0, 0], 1.0, s), _gauss(300, 2, [0, 0], 1.0, 100 + s)))
            for s in range(20)]
    # unbiased: mean within 3 standard errors of zero, and some values are negative
    assert abs(np.mean(vals)) < 3 * np.std(vals) / math.sqrt(len(vals)) + 1e-4
    assert min(vals) < 0


def test_mmd_matches_closed_form_for_gaussians():
    exact = distances.mmd2_gaussians([0, 0], 1.0, [1.0, 0.5], 0.7, bandwidth=1.0)
    est = np.mean([float(distances.mmd2(_gauss(400, 2, [0, 0], 1.0, s), _gauss(400, 2, [1.0, 0.5], 0.7, 50 + s)))
                   for s in range(10)])
    assert exact > 0.05
    assert est == pytest.approx(exact, rel=0.08)
    # a missing factor 2 in the cross term would give a very different value
    assert abs(est - (exact + distances.mmd2_gaussians([0, 0], 1.0, [1.0, 0.5], 0.7, 1.0))) > 0.05


def test_mmd_biased_is_nonnegative_and_kernel_mixture():
    x, y = _gauss(50, 3, [0, 0, 0], 1.0, 0), _gauss(60, 3, [0, 0, 0], 1.0, 1)
    assert float(distances.mmd2(x, y, [0.5, 1, 2], unbiased=False)) >= 0
    k = distances.gaussian_kernel(x[:4], y[:5], [0.5, 2.0])
    d2 = torch.cdist(x[:4], y[:5]) ** 2
    assert torch.allclose(k, 0.5 * (torch.exp(-d2 / 0.5) + torch.exp(-d2 / 8.0)))


def test_bad_input():
    x = torch.zeros(10, 2)
    with pytest.raises(ValueError, match="same dimension"):
        distances.mmd2(x, torch.zeros(10, 3))
    with pytest.raises(ValueError, match="bandwidths"):
        distances.mmd2(x, x, bandwidths=[1.0, -1.0])
    with pytest.raises(ValueError, match="bandwidths"):
        distances.gaussian_kernel(x, x, bandwidths=[])
    with pytest.raises(ValueError, match="n >= 2"):
        distances.mmd2(x[:1], x)                          # the U-statistic needs two points
    assert float(distances.mmd2(x[:1], x, unbiased=False)) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="bandwidth must be a positive"):
        distances.mmd2_gaussians([0, 0], 1.0, [0, 0], 1.0, bandwidth=0.0)
    with pytest.raises(ValueError, match="same shape"):
        distances.mmd2_gaussians([0, 0], 1.0, [0, 0, 0], 1.0, bandwidth=1.0)
    with pytest.raises(TypeError):
        distances.mmd2(np.zeros((10, 2)), x)


def _expected_kernel_1d(mu, var, h):
    """E exp(-U^2 / (2 h^2)) for U ~ N(mu, var), by quadrature."""
    f = lambda u: math.exp(-u * u / (2 * h * h)) * math.exp(-(u - mu) ** 2 / (2 * var)) / math.sqrt(2 * math.pi * var)  # noqa: E731
    return integrate.quad(f, -40, 40, points=[mu], epsabs=1e-14, epsrel=1e-13)[0]


def test_mmd2_gaussians_against_quadrature():
    # d = 3, unequal stds, h != 1: each expectation is a product of 1-D integrals over coordinates
    mp, mq, sp, sq, h = [0.1, -0.4, 1.2], [0.7, 0.3, -0.2], 0.7, 1.3, 0.8
    def e(delta, var):
        return math.prod(_expected_kernel_1d(dk, var, h) for dk in delta)
    diff = [a - b for a, b in zip(mp, mq)]
    want = e([0, 0, 0], 2 * sp**2) + e([0, 0, 0], 2 * sq**2) - 2 * e(diff, sp**2 + sq**2)
    assert distances.mmd2_gaussians(mp, sp, mq, sq, h) == pytest.approx(want, rel=1e-10)


def test_mmd2_estimators_against_double_loops():
    x, y = _gauss(5, 2, [0, 0], 1.0, 3), _gauss(4, 2, [0.5, 0], 0.8, 4)
    h = 0.7
    k = lambda a, b: math.exp(-float(((a - b) ** 2).sum()) / (2 * h * h))  # noqa: E731
    exx = sum(k(x[i], x[j]) for i in range(5) for j in range(5) if i != j) / 20
    eyy = sum(k(y[i], y[j]) for i in range(4) for j in range(4) if i != j) / 12
    exy = sum(k(a, b) for a in x for b in y) / 20
    assert float(distances.mmd2(x, y, h)) == pytest.approx(exx + eyy - 2 * exy, rel=1e-12)
    vxx = sum(k(a, b) for a in x for b in x) / 25
    vyy = sum(k(a, b) for a in y for b in y) / 16
    assert float(distances.mmd2(x, y, h, unbiased=False)) == pytest.approx(vxx + vyy - 2 * exy, rel=1e-12)
    with pytest.raises(ValueError, match=r"^y must have shape \(n, d\) with n >= 2"):
        distances.mmd2(x, y[:1])


def test_gaussian_kernel_bandwidth_default_and_dtype():
    x, y = _gauss(3, 2, [0, 0], 1.0, 5), _gauss(4, 2, [0, 0], 1.0, 6)
    d2 = torch.cdist(x, y) ** 2
    torch.testing.assert_close(distances.gaussian_kernel(x, y), torch.exp(-d2 / 2))    # h = 1
    torch.testing.assert_close(distances.gaussian_kernel(x, y, 0.5), torch.exp(-d2 / 0.5))
    torch.testing.assert_close(distances.gaussian_kernel(x, y, [0.3]), torch.exp(-d2 / (2 * 0.3**2)),
                               rtol=1e-14, atol=0)     # h in float64, not rounded to float32
    assert distances.gaussian_kernel(x.float(), y.float(), 0.3).dtype == torch.float32
    assert float(distances.mmd2(x, y, 0.3)) == pytest.approx(float(distances.mmd2(x, y, [0.3])), rel=1e-15)
    v = float(distances.mmd2(x, y, [0.3], unbiased=False))
    ref = float(torch.exp(-torch.cdist(x, x) ** 2 / 0.18).mean() + torch.exp(-torch.cdist(y, y) ** 2 / 0.18).mean()
                - 2 * torch.exp(-d2 / 0.18).mean())
    assert v == pytest.approx(ref, rel=1e-12)
    # means given as float lists are used in float64
    a = distances.mmd2_gaussians([0.1, 0.2], 0.9, [0.3, -0.7], 1.1, 0.6)
    b = distances.mmd2_gaussians(np.array([0.1, 0.2]), 0.9, np.array([0.3, -0.7]), 1.1, 0.6)
    assert a == b
