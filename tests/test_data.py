"""Checks of ganlib.data against scipy and the protocol parameters (VEEGAN/PacGAN, WGAN-GP)."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from ganlib import data


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_mixture_1d_log_prob_and_cdf_match_scipy():
    mix = data.mixture_1d(means=(-1.0, 0.5, 3.0), stds=(0.3, 1.0, 0.7), weights=(0.2, 0.5, 0.3))
    x = np.linspace(-4, 6, 101)
    ref_pdf = (0.2 * stats.norm(-1, 0.3).pdf(x) + 0.5 * stats.norm(0.5, 1.0).pdf(x)
               + 0.3 * stats.norm(3, 0.7).pdf(x))
    ref_cdf = (0.2 * stats.norm(-1, 0.3).cdf(x) + 0.5 * stats.norm(0.5, 1.0).cdf(x)
               + 0.3 * stats.norm(3, 0.7).cdf(x))
    np.testing.assert_allclose(mix.log_prob(x), np.log(ref_pdf), rtol=1e-12)
    np.testing.assert_allclose(mix.pdf(torch.as_tensor(x)), ref_pdf, rtol=1e-12)
    np.testing.assert_allclose(mix.cdf(x), ref_cdf, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mix.mean(), [0.2 * -1 + 0.5 * 0.5 + 0.3 * 3])


def test_mixture_2d_log_prob_matches_scipy():
    gm = data.GaussianMixture(means=[[0.0, 0.0], [1.0, 2.0]], stds=[0.5, 2.0], weights=[0.25, 0.75])
    x = np.random.default_rng(0).normal(size=(50, 2))
    ref = np.log(0.25 * stats.multivariate_normal([0, 0], 0.25 * np.eye(2)).pdf(x)
                 + 0.75 * stats.multivariate_normal([1, 2], 4.0 * np.eye(2)).pdf(x))
    np.testing.assert_allclose(gm.log_prob(x), ref, rtol=1e-12)
    # log_prob stays finite far in the tails (log-sum-exp)
    assert np.isfinite(gm.log_prob(np.array([[1e3, -1e3]]))).all()


def test_mixture_sampling_frequencies_and_moments():
    mix = data.mixture_1d(means=(-2.0, 2.0), stds=(0.5, 0.5), weights=(0.3, 0.7))
    x, labels = mix.sample_with_labels(20000, gen(1))
    assert x.shape == (20000, 1) and x.dtype == torch.float32 and labels.shape == (20000,)
    assert labels.dtype == torch.int64 and set(labels.unique().tolist()) == {0, 1}
    assert abs(labels.float().mean().item() - 0.7) < 0.015
    assert abs(x.mean().item() - mix.mean()[0]) < 0.05
    assert stats.kstest(x[:, 0].numpy(), mix.cdf).pvalue > 1e-3


def test_sample_and_sample_with_labels_draw_the_same_points():
    gm = data.GaussianMixture(means=[[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]], stds=[0.5, 1.0, 0.2],
                              weights=[0.2, 0.3, 0.5])
    x, labels = gm.sample_with_labels(5000, gen(6))
    assert torch.equal(gm.sample(5000, gen(6)), x)            # same random numbers, x only
    assert torch.is_tensor(gm.sample(3, gen(0)))              # one return type
    # each point lies near the mean of its own component, at that component's scale
    for k, s in enumerate(gm.stds):
        r = (x[labels == k] - torch.as_tensor(gm.means[k], dtype=torch.float32)).norm(dim=1).numpy()
        # ||x - m_k|| / s_k is chi with 2 degrees of freedom
        assert stats.kstest(r / s, stats.chi(2).cdf).pvalue > 1e-3
    freq = torch.bincount(labels, minlength=3).double() / 5000
    assert torch.allclose(freq, torch.tensor(gm.weights), atol=0.025)


def test_ring_parameters_and_shapes():
    r = data.ring()
    assert r.n_components == 8 and r.dim == 2
    np.testing.assert_allclose(np.linalg.norm(r.means, axis=1), 1.0)
    np.testing.assert_allclose(r.means[2], [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(r.stds, 0.01)
    np.testing.assert_allclose(r.weights, 1 / 8)
    x = r.sample(4000, gen(2))
    assert x.shape == (4000, 2)
    assert np.abs(np.linalg.norm(x.numpy(), axis=1) - 1).max() < 0.06
    r2 = data.ring(n_modes=5, radius=2.0, std=0.1)
    np.testing.assert_allclose(np.linalg.norm(r2.means, axis=1), 2.0)


def test_grid_parameters_and_shapes():
    g = data.grid()
    assert g.n_components == 25 and g.dim == 2
    assert set(np.unique(g.means)) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    np.testing.assert_allclose(g.stds, 0.05)
    x = g.sample(1000, gen(3))
    assert x.shape == (1000, 2)
    assert np.abs(x.numpy() - np.round(x.numpy() / 2) * 2).max() < 0.4


def test_swiss_roll_shape_and_radius_range():
    x = data.swiss_roll(5000, noise=0.0, generator=gen(4))
    assert x.shape == (5000, 2) and x.dtype == torch.float32
    radius = np.linalg.norm(x.numpy(), axis=1) * 7.5          # = t in [1.5 pi, 4.5 pi]
    assert radius.min() >= 1.5 * math.pi - 1e-4 and radius.max() <= 4.5 * math.pi + 1e-4


def test_latent_shape():
    z = data.latent(10, 3, gen(5))
    assert z.shape == (10, 3)


@pytest.mark.parametrize("bad", [
    lambda: data.GaussianMixture(means=[0.0, 1.0], stds=[1.0, -1.0], weights=[0.5, 0.5]),
    lambda: data.GaussianMixture(means=[0.0, 1.0], stds=1.0, weights=[0.5, 0.6]),
    lambda: data.mixture_1d().sample(0),
    lambda: data.mixture_1d().sample(2.5),
    lambda: data.mixture_1d().sample_with_labels(-1),
    lambda: data.GaussianMixture(means=[0.0, 1.0], stds=[1.0, np.inf], weights=[0.5, 0.5]),
    lambda: data.GaussianMixture(means=[0.0, 1.0], stds=1.0, weights=[0.5, 0.5, 0.0]),
    lambda: data.mixture_1d().log_prob(np.array([np.nan])),
    lambda: data.swiss_roll(10, scale=0.0),
    lambda: data.mixture_1d().log_prob(np.zeros((3, 2))),
    lambda: data.ring().cdf(np.zeros(3)),
    lambda: data.ring(n_modes=0),
    lambda: data.ring(radius=-1.0),
    lambda: data.grid(side=0),
    lambda: data.grid(spacing=0.0),
    lambda: data.swiss_roll(10, noise=-0.1),
    lambda: data.latent(10, 0),
])
def test_bad_input_raises_value_error(bad):
    with pytest.raises(ValueError):
        bad()
