"""Tests for ganlib.transport: exact W1 (POT), 1D closed forms, atomic KL/JS."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from ganlib import data, transport


def test_translation_gives_shift():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    shift = np.array([0.3, -0.4])                    # ||shift|| = 0.5
    assert transport.w1_exact(x, x + shift) == pytest.approx(0.5, abs=1e-9)
    assert transport.w1_exact(x, x + shift, metric="cityblock") == pytest.approx(0.7, abs=1e-9)
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
        div = transport.atomic_divergences(p0, pt.detach())
        assert div["js"] == pytest.approx(math.log(2), abs=1e-12)
        assert div["kl"] == math.inf and div["reverse_kl"] == math.inf
    same = transport.atomic_divergences(p0, p0)
    assert same["js"] == pytest.approx(0.0, abs=1e-12) and same["kl"] == pytest.approx(0.0, abs=1e-12)


def test_atomic_divergences_known_values():
    # P uniform on {0, 1}, Q uniform on {0, 1, 2, 3}: KL(P||Q) = log 2, KL(Q||P) = inf
    d = transport.atomic_divergences([0.0, 1.0], [0.0, 1.0, 2.0, 3.0])
    assert d["kl"] == pytest.approx(math.log(2))
    assert d["reverse_kl"] == math.inf
    m = np.array([3 / 8, 3 / 8, 1 / 8, 1 / 8])
    js = 0.5 * np.sum([0.5, 0.5] * np.log(np.array([0.5, 0.5]) / m[:2])) + \
        0.5 * np.sum(0.25 * np.log(0.25 / m))
    assert d["js"] == pytest.approx(js)


def test_1d_formulas_agree_with_emd():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=300), rng.normal(1.0, 2.0, size=300)
    exact = transport.w1_exact(x, y)
    assert transport.w1_1d_sorted(x, y) == pytest.approx(exact, rel=1e-9)
    assert transport.w1_1d_cdf(x, y) == pytest.approx(exact, rel=1e-9)
    assert transport.w1_1d_cdf(x, y[:170]) == pytest.approx(transport.w1_exact(x, y[:170]), rel=1e-9)


def test_1d_weighted_and_quantile():
    # W1(N(0,1), N(2,1)) = 2 by the CDF integral
    w = transport.w1_1d_quantile(stats.norm(0, 1).cdf, stats.norm(2, 1).cdf, -10, 12)
    assert w == pytest.approx(2.0, abs=1e-6)
    # weighted: all mass of x at 0 vs y = {1 (w 0.25), 3 (w 0.75)}: W1 = 0.25 + 2.25 = 2.5
    assert transport.w1_exact([0.0, 5.0], [1.0, 3.0], a=[1.0, 0.0], b=[0.25, 0.75]) == pytest.approx(2.5)


def test_mixture_w1_against_cdf_integral():
    mix = data.mixture_1d((-1.0, 1.0), (0.3, 0.3))
    single = data.mixture_1d((0.0,), (0.3,))
    shifted = data.mixture_1d((-0.5, 1.5), (0.3, 0.3))
    assert transport.w1_1d_quantile(mix.cdf, shifted.cdf, -5, 5) == pytest.approx(0.5, abs=1e-6)
    exact = transport.w1_1d_quantile(mix.cdf, single.cdf, -5, 5)
    assert 0.5 < exact < 1.0     # less than moving each half by 1 (the monotone map does better)
    g = torch.Generator().manual_seed(0)
    xs, ys = mix.sample(4000, g)[:, 0], single.sample(4000, g)[:, 0]
    assert transport.w1_1d_sorted(xs, ys) == pytest.approx(exact, abs=0.05)


def test_bad_input():
    with pytest.raises(ValueError):
        transport.w1_exact(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError):
        transport.w1_1d_sorted(np.ones(3), np.ones(4))
    with pytest.raises(ValueError):
        transport.w1_1d_cdf(np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError):
        transport.w1_exact(np.ones(3), np.ones(3), a=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError):
        transport.w1_exact(np.array([np.nan]), np.ones(1))
    with pytest.raises(TypeError):
        transport.w1_exact_torch(np.ones((2, 2)), torch.ones(2, 2))
    with pytest.raises(ValueError):
        transport.w1_1d_quantile(np.sin, np.cos, 1.0, 0.0)
