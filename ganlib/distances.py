"""The kernel distance MMD between samples (Gretton et al. 2012): it needs no adversary.

For a characteristic kernel k with RKHS H (here Gaussian kernels),

    MMD(P, Q) = sup_{||f||_H <= 1} E_P[f(X)] - E_Q[f(Y)],
    MMD^2(P, Q) = E k(X, X') + E k(Y, Y') - 2 E k(X, Y),

with X, X' ~ P and Y, Y' ~ Q independent. :func:`mmd2` estimates it from samples and is
differentiable in them, so it serves as a generator loss (a generator *minimizes* it) and as a
metric; :func:`mmd2_gaussians` is the closed form between isotropic Gaussians.

The other sample-based distance of the book, the sliced Wasserstein distance, lives with the
Wasserstein distances in :mod:`ganlib.transport`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from . import checks


def _kernel(x: torch.Tensor, y: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """The Gaussian kernel matrix (n, m) of :func:`gaussian_kernel` for bandwidths h (L,)."""
    d2 = torch.cdist(x, y).pow(2)                                      # (n, m)
    h = h.to(device=x.device, dtype=x.dtype)
    return torch.exp(-d2[None] / (2 * h[:, None, None] ** 2)).mean(0)  # (L, n, m) -> (n, m)


def gaussian_kernel(x: torch.Tensor, y: torch.Tensor, bandwidths: Sequence[float] | float = 1.0) -> torch.Tensor:
    """k(x, y) = mean_h exp(-||x - y||^2 / (2 h^2)) for each pair: x (n, d), y (m, d) -> (n, m).

    ``bandwidths`` is one h > 0 or several (L,): a mixture of bandwidths is itself a
    characteristic kernel and is less sensitive to the choice of scale (Li et al. 2015).
    """
    x, y = checks.tensor_points("x", x), checks.tensor_points("y", y)
    checks.same_dim("x", x, "y", y)
    h = torch.as_tensor(checks.all_positive("bandwidths", bandwidths), dtype=torch.float64)
    return _kernel(x, y, h.reshape(-1))


def mmd2(x: torch.Tensor, y: torch.Tensor, bandwidths: Sequence[float] | float = 1.0,
         unbiased: bool = True) -> torch.Tensor:
    """MMD^2(P, Q) = E k(X, X') + E k(Y, Y') - 2 E k(X, Y) from samples x ~ P (n, d), y ~ Q (m, d).

    ``unbiased=True`` drops the diagonal terms k(x_i, x_i) (the U-statistic of Gretton et al.
    2012, Lemma 6; n, m >= 2): its expectation is exactly MMD^2, so it can be slightly negative
    when P = Q. ``unbiased=False`` is the V-statistic, always >= 0. A generator minimizes it.
    Returns a scalar tensor, differentiable in x and y; the kernel is :func:`gaussian_kernel`.
    """
    min_n = 2 if unbiased else 1
    x, y = checks.tensor_points("x", x, min_n), checks.tensor_points("y", y, min_n)
    checks.same_dim("x", x, "y", y)
    h = torch.as_tensor(checks.all_positive("bandwidths", bandwidths), dtype=torch.float64)
    h, n, m = h.reshape(-1), x.shape[0], y.shape[0]
    kxx, kyy, kxy = _kernel(x, x, h), _kernel(y, y, h), _kernel(x, y, h)   # (n, n), (m, m), (n, m)
    if unbiased:
        exx = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
        eyy = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    else:
        exx, eyy = kxx.mean(), kyy.mean()
    return exx + eyy - 2 * kxy.mean()


def mmd2_gaussians(mean_p, std_p: float, mean_q, std_q: float, bandwidth: float) -> float:
    """Closed-form MMD^2 between N(mean_p, std_p^2 I) and N(mean_q, std_q^2 I), Gaussian kernel.

    ``mean_p``, ``mean_q`` (d,). Uses E exp(-||U||^2 / (2 h^2)) = (h^2 / (h^2 + s^2))^(d/2)
    exp(-||mu||^2 / (2 (h^2 + s^2))) for U ~ N(mu, s^2 I) in d dimensions, with U = X - X',
    Y - Y' and X - Y.
    """
    mp = torch.as_tensor(mean_p, dtype=torch.float64).reshape(-1)
    mq = torch.as_tensor(mean_q, dtype=torch.float64).reshape(-1)
    checks.same_shape("mean_p", mp, "mean_q", mq)
    std_p, std_q = checks.check_positive("std_p", std_p), checks.check_positive("std_q", std_q)
    bandwidth = checks.check_positive("bandwidth", bandwidth)
    d, h2 = mp.numel(), bandwidth**2

    def e(sq_mean: float, var: float) -> float:
        return (h2 / (h2 + var)) ** (d / 2) * math.exp(-sq_mean / (2 * (h2 + var)))

    delta = float(((mp - mq) ** 2).sum())
    return e(0.0, 2 * std_p**2) + e(0.0, 2 * std_q**2) - 2 * e(delta, std_p**2 + std_q**2)
