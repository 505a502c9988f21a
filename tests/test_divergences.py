"""ganlib.divergences: closed forms and the identity V(D*, G) = 2 JSD - log 4."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

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
    with pytest.raises(ValueError, match="hi > lo"):
        dv.js_divergence_1d(normal(0, 1), normal(0, 1), 1.0, -1.0)
