"""Closed-form checks of ganlib.pushforward: samplers, change of variables, goodness-of-fit tests."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from ganlib import pushforward as pf
from ganlib.data import mixture_1d


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def std_normal_log_prob(z):
    return -0.5 * (z**2).sum(-1) - 0.5 * z.shape[-1] * math.log(2 * math.pi)


# --- change of variables ---------------------------------------------------------------------

@pytest.mark.parametrize("a,b", [(2.0, 1.0), (-0.5, 3.0), (0.1, -2.0)])
def test_affine_pushforward_is_gaussian(a, b):
    y = torch.linspace(-5, 5, 101, dtype=torch.float64)
    lp = pf.pushforward_log_density(std_normal_log_prob, lambda x: (x - b) / a, y)
    assert lp.shape == (101,)
    np.testing.assert_allclose(lp.numpy(), stats.norm(b, abs(a)).logpdf(y.numpy()), atol=1e-12)


def test_lognormal_and_missing_jacobian_differ():
    y = torch.linspace(0.1, 5, 50, dtype=torch.float64)
    lp = pf.pushforward_log_density(std_normal_log_prob, torch.log, y)
    np.testing.assert_allclose(lp.numpy(), stats.lognorm(s=1).logpdf(y.numpy()), atol=1e-12)
    # dropping the Jacobian is off by exactly log x
    np.testing.assert_allclose((stats.norm.logpdf(np.log(y.numpy())) - lp.numpy()), np.log(y.numpy()), atol=1e-12)


def test_linear_map_in_2d_uses_determinant():
    A = torch.tensor([[2.0, 1.0], [0.5, 3.0]], dtype=torch.float64)
    mu = torch.tensor([1.0, -1.0], dtype=torch.float64)
    Ainv = torch.linalg.inv(A)
    y = torch.randn(20, 2, generator=gen(1), dtype=torch.float64)
    lp = pf.pushforward_log_density(std_normal_log_prob, lambda v: Ainv @ (v - mu), y)
    ref = stats.multivariate_normal(mu.numpy(), (A @ A.T).numpy()).logpdf(y.numpy())
    np.testing.assert_allclose(lp.numpy(), ref, atol=1e-10)


def test_box_muller_inverse_gives_standard_normal_density():
    def inv(v):
        u1 = torch.exp(-0.5 * (v**2).sum())
        u2 = torch.remainder(torch.atan2(v[1], v[0]) / (2 * math.pi), 1.0)
        return torch.stack([u1, u2])
    y = torch.randn(100, 2, generator=gen(2), dtype=torch.float64)
    lp = pf.pushforward_log_density(lambda u: torch.zeros(u.shape[0], dtype=u.dtype), inv, y)
    np.testing.assert_allclose(lp.numpy(), std_normal_log_prob(y).numpy(), atol=1e-12)


def test_pushforward_log_density_rejects_bad_input():
    with pytest.raises(ValueError):
        pf.pushforward_log_density(std_normal_log_prob, lambda x: x, torch.zeros(2, 2, 2))
    with pytest.raises(TypeError):
        pf.pushforward_log_density(std_normal_log_prob, lambda x: x, np.zeros((3, 2)))
    # a base_log_prob with the wrong output shape would broadcast silently: it must raise
    with pytest.raises(ValueError, match="base_log_prob"):
        pf.pushforward_log_density(lambda z: z, lambda x: x, torch.zeros(4, 2))


# --- samplers ---------------------------------------------------------------------------------

def test_uniform_range_and_dtype():
    u = pf.uniform(1000, gen(), eps=0.1)
    assert u.dtype == torch.float64 and u.shape == (1000,)
    assert u.min() >= 0.1 and u.max() <= 0.9
    with pytest.raises(ValueError):
        pf.uniform(0)


def test_inverse_cdf_sample_exponential_ks():
    x = pf.inverse_cdf_sample(lambda u: -torch.log1p(-u) / 2.0, 5000, gen(3)).numpy()
    assert stats.kstest(x, stats.expon(scale=0.5).cdf).pvalue > 1e-3
    x_bad = pf.inverse_cdf_sample(lambda u: -torch.log1p(-u) * 2.0, 5000, gen(3)).numpy()
    assert stats.kstest(x_bad, stats.expon(scale=0.5).cdf).pvalue < 1e-10


def test_bisection_icdf_inverts_known_cdf():
    icdf = pf.bisection_icdf(lambda t: torch.special.ndtr(t), -10.0, 10.0, iters=60)
    u = torch.linspace(0.001, 0.999, 101, dtype=torch.float64)
    np.testing.assert_allclose(icdf(u).numpy(), stats.norm.ppf(u.numpy()), atol=1e-9)
    # error bound (hi - lo) / 2**iters
    coarse = pf.bisection_icdf(lambda t: torch.special.ndtr(t), -10.0, 10.0, iters=10)
    assert np.abs(coarse(u).numpy() - stats.norm.ppf(u.numpy())).max() <= 20 / 2**10
    with pytest.raises(ValueError, match="bracket needs finite lo < hi"):
        pf.bisection_icdf(lambda t: t, 1.0, 0.0)
    with pytest.raises(ValueError):
        pf.bisection_icdf(lambda t: t, 0.0, 1.0, iters=0)


def test_box_muller_moments_and_ks():
    xy = pf.box_muller(20000, gen(4)).numpy()
    assert xy.shape == (20000, 2) and xy.dtype == np.float64
    np.testing.assert_allclose(xy.mean(0), 0.0, atol=0.03)
    np.testing.assert_allclose(xy.var(0), 1.0, atol=0.04)
    assert abs(np.corrcoef(xy.T)[0, 1]) < 0.03
    assert stats.kstest(xy[:, 0], "norm").pvalue > 1e-3
    assert stats.kstest(xy[:, 1], "norm").pvalue > 1e-3
    assert stats.kstest((xy**2).sum(1), stats.expon(scale=2).cdf).pvalue > 1e-3


def test_gumbel_noise_ks():
    g = pf.gumbel((10000,), gen(5)).numpy()
    assert stats.kstest(g, stats.gumbel_r.cdf).pvalue > 1e-3
    assert abs(g.mean() - np.euler_gamma) < 0.05


def test_gumbel_max_matches_softmax_chi2():
    logits = torch.tensor([1.0, 0.0, -1.0, 0.5])
    probs = torch.softmax(logits.double(), 0).numpy()
    k = pf.gumbel_max(logits, 20000, gen(6))
    assert k.dtype == torch.int64 and k.min() >= 0 and k.max() < 4
    _, p = pf.categorical_chi2_test(k, probs)
    assert p > 1e-3
    # wrong sign of the noise is rejected by the same test
    noise = pf.gumbel((20000, 4), gen(7))
    _, p_bad = pf.categorical_chi2_test(torch.argmax(logits.double() - noise, 1), probs)
    assert p_bad < 1e-10


def test_gumbel_max_rejects_bad_logits():
    with pytest.raises(ValueError):
        pf.gumbel_max(torch.zeros(2, 2), 10)
    with pytest.raises(ValueError):
        pf.gumbel_max(torch.tensor([0.0, float("nan")]), 10)
    with pytest.raises(TypeError):
        pf.gumbel_max([0.0, 1.0], 10)
    with pytest.raises(ValueError, match="NaN or inf"):
        pf.gumbel_max(torch.tensor([0.0, float("inf")]), 10)
    with pytest.raises(ValueError):
        pf.gumbel_max(torch.zeros(3), 0)


# --- goodness-of-fit tests --------------------------------------------------------------------

def test_binned_chi2_test_accepts_truth_rejects_wrong():
    x = np.random.default_rng(0).normal(size=5000)
    edges = np.linspace(-2, 2, 11)
    stat, p = pf.binned_chi2_test(x, stats.norm.cdf, edges)
    assert p > 1e-3 and stat >= 0
    _, p_bad = pf.binned_chi2_test(x, stats.norm(0, 1.2).cdf, edges)
    assert p_bad < 1e-6
    # statistic by hand
    counts = np.histogram(x, np.r_[-np.inf, edges, np.inf])[0]
    expected = 5000 * np.diff(np.r_[0.0, stats.norm.cdf(edges), 1.0])
    assert np.isclose(stat, ((counts - expected) ** 2 / expected).sum())
    with pytest.raises(ValueError):
        pf.binned_chi2_test(x, stats.norm.cdf, [1.0, 0.0])
    with pytest.raises(ValueError):
        pf.binned_chi2_test([], stats.norm.cdf, edges)


def test_categorical_chi2_test_values_and_errors():
    stat, p = pf.categorical_chi2_test(np.array([0, 0, 1, 1]), [0.5, 0.5])
    assert stat == 0.0 and p == 1.0
    stat, _ = pf.categorical_chi2_test(np.array([0, 0, 0, 1]), [0.5, 0.5])
    assert np.isclose(stat, 1.0)     # (3-2)^2/2 + (1-2)^2/2
    with pytest.raises(ValueError):
        pf.categorical_chi2_test(np.array([0, 2]), [0.5, 0.5])
    with pytest.raises(ValueError):
        pf.categorical_chi2_test(np.array([0, 1]), [0.6, 0.6])
    with pytest.raises(ValueError, match="probs must be positive"):
        pf.categorical_chi2_test(np.array([0, 1]), [1.0, 0.0])
    with pytest.raises(ValueError, match="number of categories"):
        pf.categorical_chi2_test(np.array([0, 0]), [1.0])


# --- the monotone flow ------------------------------------------------------------------------

def test_affine_flow_is_gaussian_and_mle_is_mean_and_biased_std():
    x = 1.5 + 0.7 * torch.randn(40, generator=gen(8), dtype=torch.float64)
    flow = pf.MonotoneFlow1d(n_tanh=0)
    hist = pf.fit_by_mle(flow, x, max_iter=200)
    assert hist[-1] < hist[0]
    a, b = flow.log_a.exp().item(), flow.b.item()
    assert abs(-b / a - x.mean().item()) < 1e-6
    assert abs(1 / a - x.std(unbiased=False).item()) < 1e-6
    t = torch.linspace(-3, 5, 17, dtype=torch.float64)
    np.testing.assert_allclose(flow.log_prob(t).detach().numpy(),
                               stats.norm(-b / a, 1 / a).logpdf(t.numpy()), atol=1e-10)


def test_flow_density_integrates_to_one_and_matches_autograd_jacobian():
    flow = pf.MonotoneFlow1d(n_tanh=5, centers=torch.linspace(-2, 2, 5), slope=2.0)
    with torch.no_grad():
        flow.log_w.copy_(torch.tensor([0.1, -0.5, 0.3, -1.0, 0.0], dtype=torch.float64))
        flow.log_u.copy_(torch.tensor([0.2, -0.3], dtype=torch.float64))
        flow.b.fill_(0.4)
    x = torch.linspace(-30, 30, 200_001, dtype=torch.float64)
    with torch.no_grad():
        dens = flow.log_prob(x).exp().numpy()
    assert abs(np.trapezoid(dens, x.numpy()) - 1) < 1e-6
    xs = torch.linspace(-4, 4, 33, dtype=torch.float64)
    lp_auto = pf.pushforward_log_density(std_normal_log_prob, lambda v: flow.g_inverse(v), xs)
    np.testing.assert_allclose(flow.log_prob(xs).detach().numpy(), lp_auto.detach().numpy(), atol=1e-10)
    # cdf = Phi(f) is the integral of the density
    cdf_num = np.concatenate([[0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(x.numpy()))])
    np.testing.assert_allclose(flow.cdf(xs).detach().numpy(), np.interp(xs.numpy(), x.numpy(), cdf_num),
                               atol=1e-6)


def test_fit_by_mle_rejects_bad_max_iter():
    with pytest.raises(ValueError, match="max_iter"):
        pf.fit_by_mle(pf.MonotoneFlow1d(n_tanh=0), torch.zeros(3, dtype=torch.float64), max_iter=0)


def test_flow_sampling_inverts_g_inverse():
    flow = pf.MonotoneFlow1d(n_tanh=3, centers=[-1.0, 0.0, 1.0])
    z = torch.randn(500, generator=gen(9), dtype=torch.float64)
    x = flow(z)
    np.testing.assert_allclose(flow.g_inverse(x).detach().numpy(), z.numpy(), atol=1e-9)
    s = flow.sample(4000, gen(10))
    p = stats.kstest(s.numpy(), lambda t: flow.cdf(torch.as_tensor(t)).detach().numpy()).pvalue
    assert p > 1e-3


def test_flow_fits_bimodal_mixture():
    mix = mixture_1d()
    x = mix.sample(1000, gen(11))[:, 0].double()
    flow = pf.MonotoneFlow1d(8, centers=torch.quantile(x, torch.linspace(0.03, 0.97, 8, dtype=torch.float64)))
    pf.fit_by_mle(flow, x, max_iter=300)
    grid = torch.linspace(-9, 9, 10001, dtype=torch.float64)
    lp = mix.log_prob(grid.numpy())
    with torch.no_grad():
        lq = flow.log_prob(grid).numpy()
    kl = np.trapezoid(np.exp(lp) * (lp - lq), grid.numpy())
    assert 0 <= kl < 0.03


def test_flow_rejects_bad_arguments():
    with pytest.raises(ValueError):
        pf.MonotoneFlow1d(n_tanh=-1)
    with pytest.raises(ValueError):
        pf.MonotoneFlow1d(n_tanh=2, centers=[0.0])
    with pytest.raises(ValueError):
        pf.MonotoneFlow1d(n_tanh=2, slope=0.0)
    with pytest.raises(ValueError):
        pf.MonotoneFlow1d(n_tanh=2).log_prob(torch.zeros(3, 1))
