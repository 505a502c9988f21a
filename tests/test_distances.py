"""ganlib.distances: MMD against its closed form for Gaussians and its defining properties."""
import math

import numpy as np
import pytest
import torch

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
