"""MMD and sliced Wasserstein against closed forms and POT."""
import math

import numpy as np
import ot
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


def test_sliced_wasserstein_of_a_translation():
    x = _gauss(2000, 2, [0, 0], 1.0, 0)
    t = torch.tensor([3.0, -1.0], dtype=torch.float64)
    g = torch.Generator().manual_seed(1)
    dirs = distances.random_directions(4000, 2, g, dtype=torch.float64)
    sw2 = distances.sliced_wasserstein(x, x + t, p=2, directions=dirs)
    sw1 = distances.sliced_wasserstein(x, x + t, p=1, directions=dirs)
    # SW_2^2 = E (theta.t)^2 = ||t||^2 / d ;  SW_1 = ||t|| E|cos phi| = 2 ||t|| / pi in 2D
    assert float(sw2) ** 2 == pytest.approx(float(t.norm()) ** 2 / 2, rel=0.03)
    assert float(sw1) == pytest.approx(2 * float(t.norm()) / math.pi, rel=0.03)


def test_sliced_wasserstein_agrees_with_pot():
    x, y = _gauss(500, 3, [0, 0, 0], 1.0, 0), _gauss(500, 3, [1, 0, 2], 0.5, 1)
    g = torch.Generator().manual_seed(2)
    ours = float(distances.sliced_wasserstein(x, y, n_projections=3000, generator=g))
    theirs = ot.sliced_wasserstein_distance(x.numpy(), y.numpy(), n_projections=3000, seed=3)
    assert ours == pytest.approx(theirs, rel=0.03)


def test_sliced_wasserstein_is_differentiable():
    x = _gauss(64, 2, [0, 0], 1.0, 0).requires_grad_(True)
    distances.sliced_wasserstein(x, _gauss(64, 2, [2, 0], 1.0, 1), n_projections=16,
                                 generator=torch.Generator().manual_seed(0)).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert float(x.grad[:, 0].sum()) < 0  # moving x toward y (positive first axis) lowers SW


def test_bad_input():
    x = torch.zeros(10, 2)
    with pytest.raises(ValueError, match="same dimension"):
        distances.mmd2(x, torch.zeros(10, 3))
    with pytest.raises(ValueError, match="bandwidths"):
        distances.mmd2(x, x, bandwidths=[1.0, -1.0])
    with pytest.raises(ValueError, match="same number"):
        distances.sliced_wasserstein(x, torch.zeros(11, 2))
    with pytest.raises(ValueError, match="p must be"):
        distances.sliced_wasserstein(x, x, p=3)
    with pytest.raises(TypeError):
        distances.mmd2(np.zeros((10, 2)), x)
