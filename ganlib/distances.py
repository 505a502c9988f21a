"""Sample-based distances that need no adversary: MMD and the sliced Wasserstein distance.

Both are differentiable in the samples, so they serve as generator losses (a generator
*minimizes* them) and as metrics.

* Maximum mean discrepancy (Gretton et al. 2012): for a kernel k with RKHS H,
  MMD(P, Q) = sup_{||f||_H <= 1} E_P[f(X)] - E_Q[f(Y)], and
  MMD^2 = E k(X, X') + E k(Y, Y') - 2 E k(X, Y).
* Sliced Wasserstein distance (Rabin et al. 2011; Bonneel et al. 2015):
  SW_p(P, Q)^p = E_{theta ~ U(S^{d-1})} W_p(theta#P, theta#Q)^p, each 1D W_p computed exactly
  by sorting.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> None:
    for name, t in (("x", x), ("y", y)):
        if not torch.is_tensor(t):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.dim() != 2 or t.shape[0] < 2:
            raise ValueError(f"{name} must have shape (n, d) with n >= 2, got {tuple(t.shape)}")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {x.shape[1]} and {y.shape[1]}")


def _check_bandwidths(bandwidths) -> torch.Tensor:
    h = torch.as_tensor(bandwidths, dtype=torch.float64).reshape(-1)
    if h.numel() == 0 or not bool((h > 0).all()):
        raise ValueError(f"bandwidths must be positive, got {bandwidths!r}")
    return h


def gaussian_kernel(x: torch.Tensor, y: torch.Tensor, bandwidths: Sequence[float] | float = 1.0) -> torch.Tensor:
    """k(x, y) = mean_h exp(-||x - y||^2 / (2 h^2)) for each pair: (n, d), (m, d) -> (n, m).

    A mixture of bandwidths h is itself a characteristic kernel and is less sensitive to the
    choice of scale (Li et al. 2015).
    """
    h = _check_bandwidths(bandwidths).to(device=x.device, dtype=x.dtype)
    d2 = torch.cdist(x, y).pow(2)                                      # (n, m)
    return torch.exp(-d2[None] / (2 * h[:, None, None] ** 2)).mean(0)


def mmd2(x: torch.Tensor, y: torch.Tensor, bandwidths: Sequence[float] | float = 1.0,
         unbiased: bool = True) -> torch.Tensor:
    """MMD^2(P, Q) = E k(X, X') + E k(Y, Y') - 2 E k(X, Y) from samples x ~ P (n, d), y ~ Q (m, d).

    ``unbiased=True`` drops the diagonal terms k(x_i, x_i) (the U-statistic of Gretton et al.
    2012, Lemma 6): its expectation is exactly MMD^2, so it can be slightly negative when
    P = Q. ``unbiased=False`` is the V-statistic, always >= 0. A generator minimizes it.
    """
    _check_pair(x, y)
    n, m = x.shape[0], y.shape[0]
    kxx, kyy, kxy = gaussian_kernel(x, x, bandwidths), gaussian_kernel(y, y, bandwidths), \
        gaussian_kernel(x, y, bandwidths)
    if unbiased:
        exx = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
        eyy = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    else:
        exx, eyy = kxx.mean(), kyy.mean()
    return exx + eyy - 2 * kxy.mean()


def mmd2_gaussians(mean_p, std_p: float, mean_q, std_q: float, bandwidth: float) -> float:
    """Closed-form MMD^2 between N(mean_p, std_p^2 I) and N(mean_q, std_q^2 I), Gaussian kernel.

    Uses E exp(-||U||^2 / (2 h^2)) = (h^2 / (h^2 + s^2))^(d/2) exp(-||mu||^2 / (2 (h^2 + s^2)))
    for U ~ N(mu, s^2 I) in d dimensions, with U = X - X', Y - Y' and X - Y.
    """
    mp = torch.as_tensor(mean_p, dtype=torch.float64).reshape(-1)
    mq = torch.as_tensor(mean_q, dtype=torch.float64).reshape(-1)
    if mp.shape != mq.shape:
        raise ValueError(f"means must have the same shape, got {tuple(mp.shape)} and {tuple(mq.shape)}")
    if std_p <= 0 or std_q <= 0 or bandwidth <= 0:
        raise ValueError(f"stds and bandwidth must be positive, got {std_p}, {std_q}, {bandwidth}")
    d, h2 = mp.numel(), bandwidth**2

    def e(sq_mean: float, var: float) -> float:
        return (h2 / (h2 + var)) ** (d / 2) * math.exp(-sq_mean / (2 * (h2 + var)))

    delta = float(((mp - mq) ** 2).sum())
    return e(0.0, 2 * std_p**2) + e(0.0, 2 * std_q**2) - 2 * e(delta, std_p**2 + std_q**2)


def random_directions(n: int, dim: int, generator: torch.Generator | None = None, device=None,
                      dtype=torch.float32) -> torch.Tensor:
    """n directions drawn uniformly on the unit sphere S^{dim-1}: normalized Gaussians, (n, dim)."""
    if n < 1 or dim < 1:
        raise ValueError(f"need n >= 1 and dim >= 1, got n={n}, dim={dim}")
    dev = device if device is not None else (generator.device if generator is not None else "cpu")
    theta = torch.randn(n, dim, generator=generator, device=dev, dtype=dtype)
    return theta / theta.norm(dim=1, keepdim=True)


def sliced_wasserstein(x: torch.Tensor, y: torch.Tensor, n_projections: int = 128, p: int = 2,
                       generator: torch.Generator | None = None, directions: torch.Tensor | None = None) -> torch.Tensor:
    """SW_p(P, Q) = (E_theta W_p(theta#P, theta#Q)^p)^(1/p), a Monte-Carlo average over directions.

    x (n, d) and y (n, d) must have the same number of samples: each 1D W_p between empirical
    measures of n atoms is (mean_i |x_(i) - y_(i)|^p)^(1/p) with sorted projections.
    ``directions`` (L, d) overrides the ``n_projections`` random ones. A generator minimizes it.
    """
    _check_pair(x, y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y need the same number of samples, got {x.shape[0]} and {y.shape[0]}")
    if p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    if directions is None:
        directions = random_directions(n_projections, x.shape[1], generator, x.device, x.dtype)
    px = torch.sort(x @ directions.T, dim=0).values                     # (n, L)
    py = torch.sort(y @ directions.T, dim=0).values
    return ((px - py).abs() ** p).mean().pow(1.0 / p)
