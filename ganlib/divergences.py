"""Divergences between distributions: closed forms, quadratures, discrete and empirical measures.

Convention used in the whole book: KL(P || Q) = E_P[log(p / q)], natural logarithms (nats), and

    JS(P, Q) = KL(P || M)/2 + KL(Q || M)/2,   M = (P + Q)/2,   0 <= JS <= log 2.

* densities on the line, by adaptive quadrature: :func:`kl_divergence_1d`,
  :func:`js_divergence_1d`, the GAN value :func:`gan_value_1d` and the optimal discriminator
  :func:`optimal_discriminator` (V(D*, G) = 2 JS - log 4);
* Gaussians in closed form: :func:`kl_normal`, :func:`kl_to_standard_normal` (the VAE's KL);
  Bernoulli: :func:`js_bernoulli`;
* probability vectors (K atoms): :func:`kl_discrete`, :func:`js_discrete`,
  :func:`kl_to_uniform` (mode-collapse histograms);
* empirical measures of two samples: :func:`empirical_divergences`.

The f-divergences D_f(P || Q) = E_Q[f(p / q)] and their variational bounds live in
:mod:`ganlib.fdiv`; Wasserstein distances in :mod:`ganlib.transport`.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy import integrate

from . import checks

Density = Callable[[np.ndarray], np.ndarray]


# ----------------------------------------------------------------------------- densities on R
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


def _quad(f: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, points=None) -> float:
    val, _ = integrate.quad(lambda t: float(f(np.array([t]))[0]), lo, hi, limit=500,
                            points=points, epsabs=1e-11, epsrel=1e-10)
    return val


def _xlogy_ratio(a, b):
    """a log(a / b) elementwise with 0 log 0 = 0 (inf where a > 0 = b)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.zeros(np.broadcast(a, b).shape)
    a, b = np.broadcast_to(a, out.shape), np.broadcast_to(b, out.shape)
    mask = a > 0
    with np.errstate(divide="ignore"):
        out[mask] = a[mask] * (np.log(a[mask]) - np.log(b[mask]))
    return out


def kl_divergence_1d(p: Density, q: Density, lo: float, hi: float, points=None) -> float:
    """KL(P || Q) = int_lo^hi p log(p / q) dx by adaptive quadrature (nats).

    ``p``, ``q`` map an array (k,) of points to densities (k,); ``points`` are breakpoints for
    ``scipy.integrate.quad`` (kinks or jumps of the densities); lo, hi may be infinite.
    """
    lo, hi = checks.check_interval("integration interval", lo, hi, finite=False)
    return _quad(lambda x: _xlogy_ratio(p(x), q(x)), lo, hi, points)


def js_divergence_1d(p: Density, q: Density, lo: float, hi: float, points=None) -> float:
    """JS(P, Q) = KL(P || M)/2 + KL(Q || M)/2 with M = (P + Q)/2, in nats; 0 <= JS <= log 2.

    Arguments as in :func:`kl_divergence_1d`.
    """
    lo, hi = checks.check_interval("integration interval", lo, hi, finite=False)

    def integrand(x):
        px, qx = p(x), q(x)
        m = 0.5 * (px + qx)
        return 0.5 * _xlogy_ratio(px, m) + 0.5 * _xlogy_ratio(qx, m)
    return _quad(integrand, lo, hi, points)


def gan_value_1d(d: Density, p: Density, q: Density, lo: float, hi: float, points=None) -> float:
    """V(D, G) = int p log D + q log(1 - D) dx for a discriminator D(x) in [0, 1], data density
    p and model density q (D maximizes it). Arguments as in :func:`kl_divergence_1d`."""
    lo, hi = checks.check_interval("integration interval", lo, hi, finite=False)

    def integrand(x):
        dx = np.clip(np.asarray(d(x), dtype=np.float64), 1e-300, 1 - 1e-16)
        return p(x) * np.log(dx) + q(x) * np.log1p(-dx)
    return _quad(integrand, lo, hi, points)


# ----------------------------------------------------------------------------- closed forms
def kl_normal(mu_p, var_p, mu_q, var_q):
    """KL(N(mu_p, diag var_p) || N(mu_q, diag var_q)), summed over the last axis.

    = 1/2 sum[ log(var_q / var_p) + (var_p + (mu_p - mu_q)^2) / var_q - 1 ].
    Arguments broadcast; shapes (..., d) -> (...) (scalars -> a scalar). Works on torch tensors
    (differentiably) and on NumPy arrays or floats.
    """
    checks.all_positive("var_p", var_p)
    checks.all_positive("var_q", var_q)
    lib = torch if torch.is_tensor(mu_p) else np
    terms = lib.log(var_q / var_p) + (var_p + (mu_p - mu_q) ** 2) / var_q - 1.0
    return 0.5 * terms.sum(-1) if np.ndim(terms) > 0 else 0.5 * terms


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag e^logvar) || N(0, I)) = 1/2 sum_i (mu_i^2 + sigma_i^2 - 1 - log sigma_i^2).

    The VAE's KL term. ``mu`` and ``logvar`` = log sigma^2 are (..., d); the result is (...),
    summed over the last axis, in nats; differentiable. (The source's eq. (5.3) has
    ``+ log sigma_i^2``; that sign is wrong, see the VAE chapter.)
    """
    mu, logvar = checks.check_tensor("mu", mu), checks.check_tensor("logvar", logvar)
    checks.same_shape("mu", mu, "logvar", logvar)
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)


def js_bernoulli(a: float, b: float) -> float:
    """JS between Bernoulli(a) and Bernoulli(b), nats (a closed form used in tests).

    = H((a + b)/2) - (H(a) + H(b))/2 with the binary entropy H; ``a`` and ``b`` lie in [0, 1].
    """
    a, b = checks.check_probability("a", a), checks.check_probability("b", b)

    def h(t):  # binary entropy
        return -sum(x * math.log(x) for x in (t, 1 - t) if x > 0)
    return h(0.5 * (a + b)) - 0.5 * (h(a) + h(b))


# ----------------------------------------------------------------------------- discrete measures
def _kl(p: np.ndarray, q: np.ndarray) -> float:
    """sum_k p_k log(p_k / q_k) for validated probability vectors; inf where p_k > 0 = q_k."""
    return float(_xlogy_ratio(p, q).sum())


def _js(p: np.ndarray, q: np.ndarray) -> float:
    m = 0.5 * (p + q)
    return 0.5 * _kl(p, m) + 0.5 * _kl(q, m)


def kl_discrete(p, q) -> float:
    """KL(p || q) = sum_k p_k log(p_k / q_k) for probability vectors p, q (K,), in nats.

    0 log 0 = 0; the result is inf when some atom has p_k > 0 = q_k. Accepts arrays, lists and
    tensors (a joint table of shape (K1, K2) is passed flattened, ``.reshape(-1)``).
    """
    p = checks.probability_vector("p", p)
    q = checks.probability_vector("q", q, p.size)
    return _kl(p, q)


def js_discrete(p, q) -> float:
    """JS(p, q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2 for probability vectors (K,).

    Always finite, 0 <= JS <= log 2 (log 2 exactly when the supports are disjoint), nats.
    """
    p = checks.probability_vector("p", p)
    q = checks.probability_vector("q", q, p.size)
    return _js(p, q)


def kl_to_uniform(counts) -> float:
    """KL(p || u) = sum_k p_k log(K p_k) in nats for the histogram p = counts / sum(counts) (K,).

    u is the uniform distribution on the K bins: 0 when every bin has the same share, log K
    when everything falls in one bin. The "reverse KL" of the mode-collapse literature
    (VEEGAN, PacGAN), for mixture modes (:func:`ganlib.metrics.mode_stats`) and digit classes
    (:func:`ganlib.metrics.evaluate_images`).
    """
    c = checks.counts("counts", counts)
    return _kl(c / c.sum(), np.full(c.size, 1.0 / c.size))


def empirical_divergences(x, y, decimals: int = 12) -> dict[str, float]:
    """KL(P || Q), KL(Q || P) and JS(P, Q) (nats) between the uniform empirical measures on x, y.

    ``x`` (n, d) or (n,), ``y`` (m, d) or (m,). Points are merged into atoms after rounding to
    ``decimals``; p, q are the atoms' masses and the divergences are those of
    :func:`kl_discrete` and :func:`js_discrete`: KL = inf when some atom has p > 0 = q, and
    JS = log 2 exactly when the supports are disjoint (the parallel lines of Arjovsky et al.
    2017). Returns ``{"kl": KL(P || Q), "reverse_kl": KL(Q || P), "js": JS(P, Q)}``.
    """
    x, y = checks.points("x", x, allow_1d=True), checks.points("y", y, allow_1d=True)
    checks.same_dim("x", x, "y", y)
    decimals = checks.check_int("decimals", decimals, 0)
    pts = np.round(np.concatenate([x, y]), decimals)
    _, idx = np.unique(pts, axis=0, return_inverse=True)
    idx = idx.reshape(-1)
    k = idx.max() + 1
    p = np.bincount(idx[:len(x)], minlength=k) / len(x)          # (k,) atom masses of P
    q = np.bincount(idx[len(x):], minlength=k) / len(y)          # (k,) atom masses of Q
    return {"kl": _kl(p, q), "reverse_kl": _kl(q, p), "js": _js(p, q)}
