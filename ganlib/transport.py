"""The Wasserstein-1 distance on samples: exact optimal transport (POT) and 1D closed forms.

For probability measures P, Q on R^d,

    W1(P, Q) = min_{pi in Pi(P, Q)} E_{(x, y)~pi} ||x - y||_2,

the minimum over couplings pi with marginals P and Q (Villani 2009, Def. 6.1). Between two
empirical measures (uniform, or with weights ``a``, ``b``) this is a linear program, solved
exactly by the network simplex of POT, ``ot.emd2`` (Flamary et al. 2021).

In one dimension the optimal coupling is monotone, so

    W1(P, Q) = int_0^1 |F^{-1}(u) - G^{-1}(u)| du = int |F(t) - G(t)| dt,

which for two samples of equal size n is (1/n) sum_i |x_(i) - y_(i)| (sorted samples).

:func:`atomic_divergences` gives KL and JS between two empirical measures by their
definitions (for the parallel-lines example of Arjovsky et al. 2017).
"""
from __future__ import annotations

import math

import numpy as np
import ot
import torch


def _as_2d(name: str, x) -> np.ndarray:
    if torch.is_tensor(x):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"{name} must have shape (n,) or (n, d) with n > 0, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    return x


def _weights(name: str, w, n: int) -> np.ndarray:
    if w is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(w.detach().cpu() if torch.is_tensor(w) else w, dtype=np.float64)
    if w.shape != (n,) or np.any(w < 0) or not math.isclose(w.sum(), 1.0, rel_tol=1e-9):
        raise ValueError(f"{name} must be {n} non-negative weights summing to 1, got shape "
                         f"{w.shape} and sum {w.sum() if w.size else 0.0}")
    return w


METRICS = ("euclidean", "cityblock")


def w1_exact(x, y, a=None, b=None, metric: str = "euclidean") -> float:
    """W1 between sum_i a_i delta_{x_i} and sum_j b_j delta_{y_j}: min_pi sum pi_ij ||x_i - y_j||.

    ``x`` (n, d) or (n,), ``y`` (m, d) or (m,); ``a`` (n,), ``b`` (m,) default to uniform.
    ``metric`` is the ground norm: "euclidean" (||.||_2, the default and the book's W1) or
    "cityblock" (||.||_1). Solved exactly with ``ot.emd2`` on the (n, m) cost matrix, so
    memory is O(n m): keep n, m to a few thousand.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
    x, y = _as_2d("x", x), _as_2d("y", y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {x.shape[1]} and {y.shape[1]}")
    a, b = _weights("a", a, len(x)), _weights("b", b, len(y))
    cost = ot.dist(x, y, metric=metric)               # (n, m)
    return float(ot.emd2(a, b, cost, numItermax=10_000_000))


def w1_exact_torch(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """W1 between the uniform empirical measures on x (n, d) and y (m, d), differentiable.

    POT's torch backend returns the optimal cost as a tensor whose gradient with respect to
    the points is that of sum_ij pi*_ij ||x_i - y_j|| at the optimal plan pi* (an envelope
    theorem), so autograd gives d W1 / d theta for points that depend on theta.
    """
    if not torch.is_tensor(x) or not torch.is_tensor(y):
        raise TypeError("x and y must be torch.Tensors")
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1] or len(x) == 0 or len(y) == 0:
        raise ValueError(f"x and y must have shapes (n, d) and (m, d), got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}")
    x, y = x.double(), y.double()
    cost = torch.cdist(x, y)                           # (n, m), differentiable
    a = torch.full((len(x),), 1.0 / len(x), dtype=x.dtype, device=x.device)
    b = torch.full((len(y),), 1.0 / len(y), dtype=y.dtype, device=y.device)
    return ot.emd2(a, b, cost)


def w1_1d_sorted(x, y) -> float:
    """W1 = (1/n) sum_i |x_(i) - y_(i)| for two 1D samples of the same size n (sorted)."""
    x, y = _as_2d("x", x), _as_2d("y", y)
    if x.shape[1] != 1 or y.shape[1] != 1:
        raise ValueError(f"x and y must be 1D samples, got dimensions {x.shape[1]} and {y.shape[1]}")
    if len(x) != len(y):
        raise ValueError(f"sorted-sample formula needs equal sizes, got {len(x)} and {len(y)}; "
                         f"use w1_1d_cdf")
    return float(np.abs(np.sort(x[:, 0]) - np.sort(y[:, 0])).mean())


def w1_1d_cdf(x, y) -> float:
    """W1 = int |F_x(t) - F_y(t)| dt between two 1D empirical measures (any sizes).

    The empirical CDFs are step functions, so the integral is an exact finite sum over the
    intervals between consecutive points of the merged sample.
    """
    x, y = _as_2d("x", x), _as_2d("y", y)
    if x.shape[1] != 1 or y.shape[1] != 1:
        raise ValueError(f"x and y must be 1D samples, got dimensions {x.shape[1]} and {y.shape[1]}")
    xs, ys = np.sort(x[:, 0]), np.sort(y[:, 0])
    t = np.sort(np.concatenate([xs, ys]))              # (n + m,)
    fx = np.searchsorted(xs, t[:-1], side="right") / len(xs)
    fy = np.searchsorted(ys, t[:-1], side="right") / len(ys)
    return float(np.sum(np.abs(fx - fy) * np.diff(t)))


def w1_1d_quantile(cdf_p, cdf_q, lo: float, hi: float, n: int = 200_001) -> float:
    """W1 = int_lo^hi |F(t) - G(t)| dt for two CDFs given as vectorised functions (trapezoid rule).

    [lo, hi] must hold (almost) all the mass of both distributions.
    """
    if not hi > lo:
        raise ValueError(f"need hi > lo, got lo={lo!r}, hi={hi!r}")
    t = np.linspace(lo, hi, int(n))
    return float(np.trapezoid(np.abs(np.asarray(cdf_p(t)) - np.asarray(cdf_q(t))), t))


def atomic_divergences(x, y, decimals: int = 12) -> dict:
    """KL(P || Q), KL(Q || P) and JS(P, Q) (nats) between the uniform empirical measures on x, y.

    Points are merged into atoms after rounding to ``decimals``; p, q are the atom masses.
    KL(P || Q) = sum p log(p / q) (inf when some atom has p > 0 = q), and JS = KL(P || M)/2 +
    KL(Q || M)/2 with M = (P + Q)/2, so JS = log 2 exactly when the supports are disjoint.
    Returns ``{"kl": ..., "reverse_kl": ..., "js": ...}``.
    """
    x, y = _as_2d("x", x), _as_2d("y", y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {x.shape[1]} and {y.shape[1]}")
    pts = np.round(np.concatenate([x, y]), decimals)
    _, idx = np.unique(pts, axis=0, return_inverse=True)
    idx = idx.reshape(-1)
    k = idx.max() + 1
    p = np.bincount(idx[:len(x)], minlength=k) / len(x)
    q = np.bincount(idx[len(x):], minlength=k) / len(y)
    m = 0.5 * (p + q)

    def kl(u, v):
        mask = u > 0
        if np.any(v[mask] == 0):
            return math.inf
        return float(np.sum(u[mask] * np.log(u[mask] / v[mask])))

    return {"kl": kl(p, q), "reverse_kl": kl(q, p), "js": 0.5 * kl(p, m) + 0.5 * kl(q, m)}
