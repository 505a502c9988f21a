"""Pushforward samplers and the change-of-variables density.

A generator is a map g pushing a simple base distribution mu forward to g#mu, defined by
(g#mu)(A) = mu(g^{-1}(A)). The samplers below are classical pushforwards:

* :func:`inverse_cdf_sample`: X = F^{-1}(U), U ~ U(0, 1) has CDF F;
* :func:`box_muller`: two uniforms to two independent standard normals;
* :func:`gumbel_max`: argmax_k (logits_k + Gumbel noise) ~ Categorical(softmax(logits)).

:func:`pushforward_log_density` evaluates log q(y) = log p(g^{-1}(y)) + log|det J_{g^{-1}}(y)|
for an invertible g.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .data import _check_n, _device_of


def uniform(n: int, generator: torch.Generator | None = None, device=None, eps: float = 0.0) -> torch.Tensor:
    """U(eps, 1 - eps) samples of shape (n,), float64 for accurate tails."""
    n = _check_n(n)
    u = torch.rand(n, generator=generator, device=_device_of(generator, device), dtype=torch.float64)
    return u.clamp(eps, 1 - eps) if eps > 0 else u


def inverse_cdf_sample(icdf: Callable[[torch.Tensor], torch.Tensor], n: int,
                       generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """X = F^{-1}(U) with U ~ U(0, 1): samples with CDF F. ``icdf`` maps (n,) -> (n,)."""
    u = uniform(n, generator, device, eps=1e-12)
    return icdf(u)


def bisection_icdf(cdf: Callable[[torch.Tensor], torch.Tensor], lo: float, hi: float,
                   iters: int = 60) -> Callable[[torch.Tensor], torch.Tensor]:
    """Numerical F^{-1} for a continuous increasing CDF on [lo, hi], by vectorized bisection.

    After ``iters`` halvings the error is at most (hi - lo) / 2**iters.
    """
    if not hi > lo:
        raise ValueError(f"need hi > lo, got lo={lo!r}, hi={hi!r}")

    def icdf(u: torch.Tensor) -> torch.Tensor:
        a = torch.full_like(u, float(lo))
        b = torch.full_like(u, float(hi))
        for _ in range(iters):
            m = 0.5 * (a + b)
            below = cdf(m) < u
            a = torch.where(below, m, a)
            b = torch.where(below, b, m)
        return 0.5 * (a + b)

    return icdf


def box_muller(n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """(n, 2) independent N(0, 1) draws from 2n uniforms (Box and Muller 1958).

    R = sqrt(-2 log U1) and Theta = 2 pi U2; (R cos Theta, R sin Theta) is standard normal.
    """
    n = _check_n(n)
    dev = _device_of(generator, device)
    u1 = 1.0 - torch.rand(n, generator=generator, device=dev, dtype=torch.float64)  # in (0, 1]
    u2 = torch.rand(n, generator=generator, device=dev, dtype=torch.float64)
    r = torch.sqrt(-2.0 * torch.log(u1))
    theta = 2.0 * math.pi * u2
    return torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=1)


def gumbel(shape, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """Standard Gumbel noise G = -log(-log U), float64."""
    dev = _device_of(generator, device)
    u = torch.rand(shape, generator=generator, device=dev, dtype=torch.float64)
    u = u.clamp(1e-300, 1.0 - 1e-16)
    return -torch.log(-torch.log(u))


def gumbel_max(logits: torch.Tensor, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """n draws from Categorical(softmax(logits)) as argmax_k (logits_k + G_k), G_k iid Gumbel.

    ``logits`` has shape (K,); returns (n,) int64 indices in [0, K).
    """
    if not torch.is_tensor(logits) or logits.dim() != 1 or logits.numel() < 1:
        raise ValueError(f"logits must be a non-empty 1D tensor, got {logits!r}")
    if not torch.isfinite(logits).all():
        raise ValueError("logits must be finite")
    n = _check_n(n)
    g = gumbel((n, logits.numel()), generator, logits.device)
    return torch.argmax(logits.to(torch.float64)[None, :] + g, dim=1)


def pushforward_log_density(base_log_prob: Callable[[torch.Tensor], torch.Tensor],
                            g_inverse: Callable[[torch.Tensor], torch.Tensor],
                            y: torch.Tensor) -> torch.Tensor:
    """log q(y) = log p(g^{-1}(y)) + log |det J_{g^{-1}}(y)| for an invertible, differentiable g.

    ``y`` has shape (n, d) (or (n,) for d = 1); ``g_inverse`` maps (d,) -> (d,) per sample
    (vectorized with torch.func.vmap); ``base_log_prob`` maps (n, d) -> (n,). Returns (n,).
    """
    squeeze = y.dim() == 1
    yy = y[:, None] if squeeze else y
    if yy.dim() != 2:
        raise ValueError(f"y must have shape (n,) or (n, d), got {tuple(y.shape)}")
    jac = torch.func.vmap(torch.func.jacrev(g_inverse))(yy)          # (n, d, d)
    _, logabsdet = torch.linalg.slogdet(jac)
    return base_log_prob(g_inverse(yy)) + logabsdet
