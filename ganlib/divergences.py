"""Closed forms and quadratures for the divergences that the vanilla GAN optimizes.

Convention used in the whole book: KL(P || Q) = E_P[log(p / q)], natural logarithms (nats).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy import integrate

Density = Callable[[np.ndarray], np.ndarray]


def optimal_discriminator(p: Density, q: Density) -> Density:
    """D*(x) = p(x) / (p(x) + q(x)): the best discriminator between data p and model q.

    (Goodfellow et al. 2014, Proposition 1; the book's Proposition 2.1.) Where both densities
    vanish D* is undefined; this returns 1/2 there.
    """
    def d_star(x):
        px, qx = np.asarray(p(x), dtype=np.float64), np.asarray(q(x), dtype=np.float64)
        s = px + qx
        return np.divide(px, s, out=np.full_like(s, 0.5), where=s > 0)
    return d_star


def _quad(f: Callable[[float], float], lo: float, hi: float, points=None) -> float:
    if not hi > lo:
        raise ValueError(f"need hi > lo, got lo={lo!r}, hi={hi!r}")
    val, _ = integrate.quad(lambda t: float(f(np.array([t]))[0]), lo, hi, limit=500,
                            points=points, epsabs=1e-11, epsrel=1e-10)
    return val


def _xlogy_ratio(a, b):
    """a log(a / b) with 0 log 0 = 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.zeros_like(a)
    mask = a > 0
    out[mask] = a[mask] * (np.log(a[mask]) - np.log(b[mask]))
    return out


def kl_divergence_1d(p: Density, q: Density, lo: float, hi: float, points=None) -> float:
    """KL(P || Q) = int p log(p / q) dx over [lo, hi] by adaptive quadrature (nats)."""
    return _quad(lambda x: _xlogy_ratio(p(x), q(x)), lo, hi, points)


def js_divergence_1d(p: Density, q: Density, lo: float, hi: float, points=None) -> float:
    """JSD(P || Q) = KL(P || M)/2 + KL(Q || M)/2 with M = (P + Q)/2, in nats; 0 <= JSD <= log 2."""
    def integrand(x):
        px, qx = p(x), q(x)
        m = 0.5 * (px + qx)
        return 0.5 * _xlogy_ratio(px, m) + 0.5 * _xlogy_ratio(qx, m)
    return _quad(integrand, lo, hi, points)


def gan_value_1d(d: Density, p: Density, q: Density, lo: float, hi: float, points=None) -> float:
    """V(D, G) = int p log D + q log(1 - D) dx for data density p and model density q."""
    def integrand(x):
        dx = np.clip(np.asarray(d(x), dtype=np.float64), 1e-300, 1 - 1e-16)
        return p(x) * np.log(dx) + q(x) * np.log1p(-dx)
    return _quad(integrand, lo, hi, points)


def kl_normal(mu_p, var_p, mu_q, var_q):
    """KL(N(mu_p, diag var_p) || N(mu_q, diag var_q)), summed over the last axis.

    = 1/2 sum[ log(var_q / var_p) + (var_p + (mu_p - mu_q)^2) / var_q - 1 ].
    Works on torch tensors (differentiably) and NumPy arrays/floats.
    """
    is_torch = torch.is_tensor(mu_p)
    lib = torch if is_torch else np
    for name, v in (("var_p", var_p), ("var_q", var_q)):
        positive = bool((v > 0).all()) if torch.is_tensor(v) else bool(np.all(np.asarray(v) > 0))
        if not positive:
            raise ValueError(f"{name} must be positive, got {v!r}")
    terms = lib.log(var_q / var_p) + (var_p + (mu_p - mu_q) ** 2) / var_q - 1.0
    return 0.5 * terms.sum(-1) if np.ndim(terms) > 0 else 0.5 * terms


def js_bernoulli(a: float, b: float) -> float:
    """JSD between Bernoulli(a) and Bernoulli(b), nats (a closed form used in tests).

    = H((a + b)/2) - (H(a) + H(b))/2 with the binary entropy H; ``a`` and ``b`` lie in [0, 1].
    """
    for name, v in (("a", a), ("b", b)):
        if not 0.0 <= float(v) <= 1.0:
            raise ValueError(f"{name} must be a probability in [0, 1], got {v!r}")
    def h(t):  # binary entropy
        return -sum(x * math.log(x) for x in (t, 1 - t) if x > 0)
    return h(0.5 * (a + b)) - 0.5 * (h(a) + h(b))
