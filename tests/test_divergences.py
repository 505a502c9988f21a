"""ganlib.divergences: closed forms, the identity V(D*, G) = 2 JSD - log 4, discrete and
empirical measures."""
import math

import numpy as np
import pytest
import torch
from scipy import special, stats
from torch.distributions import Normal, kl_divergence

from ganlib import divergences as dv
from ganlib import data

LO, HI = -15.0, 15.0


def normal(mu, s):
    return lambda x: stats.norm.pdf(x, mu, s)


def uniform(a, b):
    return lambda x: np.where((x >= a) & (x <= b), 1.0 / (b - a), 0.0)


def test_optimal_discriminator_formula_and_half_where_both_vanish():
    p, q = uniform(0, 1), uniform(0.5, 2.5)
    d = dv.optimal_discriminator(p, q)
    x = np.array([0.25, 0.75, 2.0, 5.0])
    # p = 1, q = 0 -> 1;  p = 1, q = 1/2 -> 2/3;  p = 0 -> 0;  both 0 -> 1/2
    assert np.allclose(d(x), [1.0, 2 / 3, 0.0, 0.5])


def test_optimal_discriminator_maximizes_value():
    p, q = normal(0, 1), normal(1.5, 0.7)
    d_star = dv.optimal_discriminator(p, q)
    v_star = dv.gan_value_1d(d_star, p, q, LO, HI)
    for other in (lambda x: 0.5 + 0 * x, dv.optimal_discriminator(q, p),
                  lambda x: np.clip(d_star(x) + 0.05, 0, 1), lambda x: 0.9 * d_star(x)):
        assert dv.gan_value_1d(other, p, q, LO, HI) < v_star - 1e-4


@pytest.mark.parametrize("mu,s", [(0.0, 1.0), (1.0, 1.0), (3.0, 0.5), (-2.0, 2.0)])
def test_value_at_optimum_is_2jsd_minus_log4(mu, s):
    p, q = normal(0, 1), normal(mu, s)
    v = dv.gan_value_1d(dv.optimal_discriminator(p, q), p, q, LO, HI)
    jsd = dv.js_divergence_1d(p, q, LO, HI)
    assert math.isclose(v, 2 * jsd - math.log(4), abs_tol=1e-7)
    assert -1e-12 <= jsd <= math.log(2) + 1e-12


def test_jsd_zero_iff_equal_and_symmetric():
    p, q = normal(0, 1), normal(0.3, 1)
    assert abs(dv.js_divergence_1d(p, p, LO, HI)) < 1e-10
    assert dv.js_divergence_1d(p, q, LO, HI) > 1e-3
    assert math.isclose(dv.js_divergence_1d(p, q, LO, HI), dv.js_divergence_1d(q, p, LO, HI),
                        rel_tol=1e-8)


def test_jsd_disjoint_supports_is_log2():
    p, q = uniform(0, 1), uniform(2, 4)
    jsd = dv.js_divergence_1d(p, q, -1, 5, points=[0, 1, 2, 4])
    assert math.isclose(jsd, math.log(2), rel_tol=1e-8)
    v = dv.gan_value_1d(dv.optimal_discriminator(p, q), p, q, -1, 5, points=[0, 1, 2, 4])
    assert abs(v) < 1e-8  # 2 log 2 - log 4 = 0


def test_jsd_of_uniforms_matches_bernoulli_closed_form():
    # U(0,1) vs U(0,2): on [0,1] p=1, q=1/2; on [1,2] p=0, q=1/2
    p, q = uniform(0, 1), uniform(0, 2)
    jsd = dv.js_divergence_1d(p, q, -1, 3, points=[0, 1, 2])
    exact = 0.5 * math.log(4 / 3) + 0.25 * math.log(2 / 3) + 0.25 * math.log(2)
    assert math.isclose(jsd, exact, rel_tol=1e-8)


@pytest.mark.parametrize("a,b", [(0.5, 0.5), (0.1, 0.9), (0.0, 1.0), (0.3, 0.6)])
def test_js_bernoulli(a, b):
    def kl(u, v):
        return sum(x * math.log(x / y) for x, y in ((u, v), (1 - u, 1 - v)) if x > 0)
    m = 0.5 * (a + b)
    assert math.isclose(dv.js_bernoulli(a, b), 0.5 * kl(a, m) + 0.5 * kl(b, m), abs_tol=1e-12)
    if (a, b) == (0.0, 1.0):
        assert math.isclose(dv.js_bernoulli(a, b), math.log(2))


@pytest.mark.parametrize("a,b", [(-0.1, 0.5), (0.5, 1.5)])
def test_js_bernoulli_bad_input(a, b):
    with pytest.raises(ValueError, match="probability"):
        dv.js_bernoulli(a, b)


def test_kl_1d_matches_kl_normal():
    p, q = normal(0.5, 1.2), normal(-1, 0.8)
    kl = dv.kl_divergence_1d(p, q, -20, 20)
    exact = math.log(0.8 / 1.2) + (1.2**2 + 1.5**2) / (2 * 0.8**2) - 0.5
    assert math.isclose(kl, exact, rel_tol=1e-7)
    assert math.isclose(float(dv.kl_normal(0.5, 1.2**2, -1.0, 0.8**2)), exact, rel_tol=1e-12)


def test_kl_normal_vector_torch_and_zero():
    mu_p, var_p = np.array([0.0, 1.0]), np.array([1.0, 4.0])
    mu_q, var_q = np.array([1.0, 1.0]), np.array([2.0, 4.0])
    exact = 0.5 * (math.log(2) + (1 + 1) / 2 - 1) + 0.0
    assert math.isclose(dv.kl_normal(mu_p, var_p, mu_q, var_q), exact, rel_tol=1e-12)
    t = dv.kl_normal(torch.tensor(mu_p), torch.tensor(var_p), torch.tensor(mu_q), torch.tensor(var_q))
    assert torch.is_tensor(t) and math.isclose(t.item(), exact, rel_tol=1e-12)
    assert dv.kl_normal(mu_p, var_p, mu_p, var_p) == 0.0
    with pytest.raises(ValueError, match="var_q"):
        dv.kl_normal(0.0, 1.0, 0.0, -1.0)


def test_mixture_densities_plug_in():
    p = data.mixture_1d()
    q = data.mixture_1d(means=(0.0,), stds=(1.0,))
    v = dv.gan_value_1d(dv.optimal_discriminator(p.pdf, q.pdf), p.pdf, q.pdf, LO, HI)
    assert math.isclose(v, 2 * dv.js_divergence_1d(p.pdf, q.pdf, LO, HI) - math.log(4), abs_tol=1e-7)


def test_bad_interval_raises():
    for f in (dv.js_divergence_1d, dv.kl_divergence_1d):
        with pytest.raises(ValueError, match="lo < hi"):
            f(normal(0, 1), normal(0, 1), 1.0, -1.0)
    with pytest.raises(ValueError, match="lo < hi"):
        dv.gan_value_1d(lambda x: 0.5 + 0 * x, normal(0, 1), normal(0, 1), 0.0, float("nan"))
    # infinite limits are allowed for the quadratures (where q does not underflow before p)
    kl = dv.kl_divergence_1d(normal(0, 1), normal(0, 2), -np.inf, np.inf)
    assert math.isclose(kl, math.log(2) + 1 / 8 - 1 / 2, rel_tol=1e-8)


# ----------------------------------------------------------------------------- the VAE's KL
def test_kl_to_standard_normal_matches_torch_and_kl_normal():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(7, 3, generator=g, dtype=torch.float64)
    logvar = torch.randn(7, 3, generator=g, dtype=torch.float64)
    ours = dv.kl_to_standard_normal(mu, logvar)
    ref = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(ours, dv.kl_normal(mu, logvar.exp(), torch.zeros_like(mu),
                                                  torch.ones_like(mu)))
    # the source's sign (+ log sigma^2) does not match unless log sigma^2 = 0
    wrong = 0.5 * (mu**2 + logvar.exp() - 1 + logvar).sum(-1)
    assert (wrong - ref).abs().max() > 0.1
    assert dv.kl_to_standard_normal(torch.zeros(4), torch.zeros(4)).item() == 0.0


def test_kl_to_standard_normal_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        dv.kl_to_standard_normal(torch.zeros(2, 3), torch.zeros(2, 2))
    with pytest.raises(TypeError):
        dv.kl_to_standard_normal([0.0], [0.0])


# ----------------------------------------------------------------------------- discrete measures
def test_kl_and_js_discrete_against_scipy_and_closed_forms():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    assert math.isclose(dv.kl_discrete(p, q), special.rel_entr(p, q).sum(), rel_tol=1e-12)
    m = 0.5 * (p + q)
    js = 0.5 * special.rel_entr(p, m).sum() + 0.5 * special.rel_entr(q, m).sum()
    assert math.isclose(dv.js_discrete(p, q), js, rel_tol=1e-12)
    assert math.isclose(dv.js_discrete(p, q), dv.js_discrete(q, p), rel_tol=1e-12)
    assert dv.kl_discrete(p, p) == 0.0 and dv.js_discrete(p, p) == 0.0
    # Bernoulli(a) vs Bernoulli(b) as vectors (a, 1 - a): the closed form of js_bernoulli
    assert math.isclose(dv.js_discrete([0.1, 0.9], [0.6, 0.4]), dv.js_bernoulli(0.1, 0.6), rel_tol=1e-12)
    # 0 log 0 = 0; p > 0 = q gives inf; disjoint supports give JS = log 2
    assert math.isclose(dv.kl_discrete([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]), math.log(2), rel_tol=1e-12)
    assert dv.kl_discrete([0.5, 0.5, 0.0], [1.0, 0.0, 0.0]) == math.inf
    assert math.isclose(dv.js_discrete([0.3, 0.7, 0, 0], [0, 0, 0.5, 0.5]), math.log(2), rel_tol=1e-12)
    # tensors are accepted
    assert math.isclose(dv.kl_discrete(torch.tensor(p), torch.tensor(q)), dv.kl_discrete(p, q))


def test_kl_to_uniform():
    assert dv.kl_to_uniform(np.full(10, 7)) == pytest.approx(0.0, abs=1e-12)
    one = np.eye(10)[3] * 50
    assert dv.kl_to_uniform(one) == pytest.approx(math.log(10))
    assert dv.kl_to_uniform([1, 1, 0, 0]) == pytest.approx(math.log(2))
    c = np.array([3.0, 1.0, 0.0])
    assert dv.kl_to_uniform(c) == pytest.approx(dv.kl_discrete(c / 4, np.full(3, 1 / 3)), rel=1e-12)
    assert dv.kl_to_uniform(c) == pytest.approx(0.75 * math.log(2.25) + 0.25 * math.log(0.75), rel=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: dv.kl_discrete([0.5, 0.6], [0.5, 0.5]), "p must be K non-negative numbers summing to 1"),
    (lambda: dv.js_discrete([0.5, 0.5], [1.0, 0.0, 0.0]), "q must be 2 non-negative"),
    (lambda: dv.kl_discrete([1.5, -0.5], [0.5, 0.5]), "p must be"),
    (lambda: dv.kl_discrete([[0.5, 0.5]], [[0.5, 0.5]]), "1-D"),
    (lambda: dv.kl_discrete([np.nan, 1.0], [0.5, 0.5]), "finite"),
    (lambda: dv.kl_to_uniform([0, 0]), "counts must be non-negative with a positive sum"),
    (lambda: dv.kl_to_uniform([2, -1]), "counts"),
    (lambda: dv.empirical_divergences(np.zeros((3, 2)), np.zeros((3, 3))), "same dimension"),
    (lambda: dv.empirical_divergences([0.0], [0.0], decimals=-1), "decimals"),
])
def test_discrete_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------- empirical measures
def test_empirical_divergences_parallel_lines():
    u = torch.linspace(0, 1, 101)[:, None]
    p0 = torch.cat([torch.zeros_like(u), u], 1)
    for th in (-0.7, 0.25):
        div = dv.empirical_divergences(p0, torch.cat([torch.full_like(u, th), u], 1))
        assert div["js"] == pytest.approx(math.log(2), abs=1e-12)
        assert div["kl"] == math.inf and div["reverse_kl"] == math.inf
    same = dv.empirical_divergences(p0, p0)
    assert same["js"] == pytest.approx(0.0, abs=1e-12) and same["kl"] == pytest.approx(0.0, abs=1e-12)


def test_empirical_divergences_known_values():
    # P uniform on {0, 1}, Q uniform on {0, 1, 2, 3}: KL(P||Q) = log 2, KL(Q||P) = inf
    d = dv.empirical_divergences([0.0, 1.0], [0.0, 1.0, 2.0, 3.0])
    assert d["kl"] == pytest.approx(math.log(2))
    assert d["reverse_kl"] == math.inf
    m = np.array([3 / 8, 3 / 8, 1 / 8, 1 / 8])
    js = 0.5 * np.sum([0.5, 0.5] * np.log(np.array([0.5, 0.5]) / m[:2])) + \
        0.5 * np.sum(0.25 * np.log(0.25 / m))
    assert d["js"] == pytest.approx(js)
    # repeated points are one atom with more mass; rounding merges points closer than 10^-decimals
    d2 = dv.empirical_divergences([0.0, 0.0, 1.0], [0.0, 1.0 + 1e-14])
    assert d2["kl"] == pytest.approx(dv.kl_discrete([2 / 3, 1 / 3], [0.5, 0.5]), rel=1e-12)
    assert d2["js"] == pytest.approx(dv.js_discrete([2 / 3, 1 / 3], [0.5, 0.5]), rel=1e-12)


# ----------------------------------------------------------------------------- edge cases
def test_integer_valued_densities_and_infinite_limits():
    # densities returned as integer arrays (indicators) are used as floats
    p = lambda x: (np.abs(x) <= 0.5).astype(int)           # noqa: E731  U(-1/2, 1/2)
    q = lambda x: 2 * (np.abs(x) <= 0.25).astype(int)      # noqa: E731  U(-1/4, 1/4)
    assert np.allclose(dv.optimal_discriminator(p, q)(np.array([0.0, 0.4, 3.0])), [1 / 3, 1.0, 0.5])
    assert np.allclose(dv.optimal_discriminator(q, p)(np.array([0.0, 0.4])), [2 / 3, 0.0])
    d_int = lambda x: (x > 0).astype(int)                  # noqa: E731  a 0/1 discriminator
    v = dv.gan_value_1d(d_int, uniform(0, 1), uniform(-1, 0), -2, 2, points=[-1, 0, 1])
    assert v == pytest.approx(-2 * 1e-16, abs=1e-15)        # log(1 - 1e-16) twice: the clipping
    # the quadratures accept infinite limits
    js = dv.js_divergence_1d(normal(0, 1), normal(1, 1), -np.inf, np.inf)
    assert js == pytest.approx(dv.js_divergence_1d(normal(0, 1), normal(1, 1), LO, HI), rel=1e-8)
    p, q = normal(0, 1), normal(0.5, 1)
    v = dv.gan_value_1d(dv.optimal_discriminator(p, q), p, q, -np.inf, np.inf)
    assert v == pytest.approx(2 * dv.js_divergence_1d(p, q, LO, HI) - math.log(4), abs=1e-7)


def test_breakpoints_are_used():
    # P = U(3, 3.001) is a spike the quadrature only finds through its breakpoints
    p, q = uniform(3, 3.001), normal(0, 1)
    pts = [3, 3.001]
    kl = dv.kl_divergence_1d(p, q, -20, 20, points=pts)
    want = math.log(1000) + 0.5 * math.log(2 * math.pi) + (3.0005**2 + 0.001**2 / 12) / 2
    assert kl == pytest.approx(want, rel=1e-9)
    js = dv.js_divergence_1d(p, q, -20, 20, points=pts)
    assert 0.6 < js <= math.log(2)
    assert dv.gan_value_1d(lambda x: 0.5 + 0 * x, p, q, -20, 20, points=pts) == pytest.approx(-math.log(4), rel=1e-9)


def test_kl_normal_is_differentiable_for_tensors():
    mu = torch.tensor([0.3, -1.0], dtype=torch.float64, requires_grad=True)
    var = torch.tensor([0.5, 2.0], dtype=torch.float64)
    kl = dv.kl_normal(mu, var, torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64))
    kl.backward()
    torch.testing.assert_close(mu.grad, mu.detach())        # d/dmu (mu^2 / 2) = mu for var_q = 1


def test_discrete_and_empirical_edge_cases():
    with pytest.raises(ValueError, match="^q must be 2 non-negative"):
        dv.kl_discrete([0.5, 0.5], [1.0, 0.0, 0.0])
    # decimals = 12 by default: 4e-13 apart is the same atom; decimals = 13 separates them
    assert dv.empirical_divergences([0.0], [4e-13])["js"] == 0.0
    assert dv.empirical_divergences([0.0], [4e-13], decimals=13)["js"] == pytest.approx(math.log(2))
    # decimals = 0 is allowed: 0.2 and 0.4 both round to 0
    assert dv.empirical_divergences([0.2], [0.4], decimals=0)["kl"] == 0.0
