"""Synthetic data in code: Gaussian mixtures in 1D and 2D, and the swiss roll.

Nothing is downloaded. The 2D mixtures follow the protocol of the mode-collapse papers
(VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018):

* :func:`ring`: 8 equal-weight isotropic Gaussians with means on the unit circle,
  ``(cos(2 pi k / 8), sin(2 pi k / 8))``, standard deviation 0.01;
* :func:`grid`: 25 equal-weight isotropic Gaussians with means ``{-4, -2, 0, 2, 4}^2``,
  standard deviation 0.05;
* :func:`swiss_roll`: the 2D swiss roll of the WGAN-GP toy experiments.

All samplers take ``n``, an optional ``torch.Generator`` and a ``device``; they return a
``(n, d)`` float32 tensor on that device (:meth:`GaussianMixture.sample_with_labels` also
returns the component of each sample).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from . import checks


def _device_of(generator: torch.Generator | None, device) -> torch.device:
    if device is not None:
        return torch.device(device)
    if generator is not None:
        return generator.device
    return torch.device("cpu")


@dataclass(frozen=True)
class GaussianMixture:
    """Mixture of isotropic Gaussians, p(x) = sum_k w_k N(x; m_k, s_k^2 I).

    ``means`` is (K, d), ``stds`` is (K,), ``weights`` is (K,) and sums to one. Stored as
    float64 NumPy arrays so densities and CDFs can be evaluated exactly for checks; sampling
    returns float32 torch tensors on the requested device.
    """

    means: np.ndarray
    stds: np.ndarray
    weights: np.ndarray

    def __post_init__(self):
        means = np.atleast_2d(np.asarray(self.means, dtype=np.float64))
        if np.asarray(self.means).ndim == 1:  # a list of 1D means
            means = means.reshape(-1, 1)
        k = means.shape[0]
        stds = np.broadcast_to(np.asarray(self.stds, dtype=np.float64), (k,)).copy()
        weights = np.broadcast_to(np.asarray(self.weights, dtype=np.float64), (k,)).copy()
        checks.all_positive("stds", stds)
        checks.probability_vector("weights", weights, k)
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "stds", stds)
        object.__setattr__(self, "weights", weights)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def n_components(self) -> int:
        return self.means.shape[0]

    def sample(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """x = m_k + s_k eps with k ~ Categorical(w), eps ~ N(0, I): ``n`` samples, (n, d) float32."""
        return self.sample_with_labels(n, generator, device)[0]

    def sample_with_labels(self, n: int, generator: torch.Generator | None = None,
                           device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """The samples x (n, d) float32 of :meth:`sample` and their components k (n,) int64.

        Both draw the same random numbers: for equal generator states, ``sample`` returns
        the x that this returns.
        """
        n = checks.check_int("n", n)
        dev = _device_of(generator, device)
        w = torch.as_tensor(self.weights, dtype=torch.float32, device=dev)
        labels = torch.multinomial(w, n, replacement=True, generator=generator)      # (n,)
        m = torch.as_tensor(self.means, dtype=torch.float32, device=dev)[labels]     # (n, d)
        s = torch.as_tensor(self.stds, dtype=torch.float32, device=dev)[labels, None]
        x = m + s * torch.randn(n, self.dim, generator=generator, device=dev)
        return x, labels

    def log_prob(self, x) -> np.ndarray:
        """log p(x) for x of shape (n, d) (or (n,) when d = 1): (n,) float64 NumPy."""
        x = checks.check_shape("x", checks.points("x", x, allow_1d=self.dim == 1), ("n", self.dim))
        d2 = ((x[:, None, :] - self.means[None]) ** 2).sum(-1)  # (n, K)
        log_norm = -0.5 * self.dim * np.log(2 * np.pi * self.stds**2)
        comp = np.log(np.where(self.weights > 0, self.weights, 1e-300)) + log_norm - 0.5 * d2 / self.stds**2
        mx = comp.max(axis=1, keepdims=True)
        return (mx + np.log(np.exp(comp - mx).sum(axis=1, keepdims=True)))[:, 0]

    def pdf(self, x) -> np.ndarray:
        """p(x) for x (n, d) (or (n,) when d = 1): (n,) float64 NumPy."""
        return np.exp(self.log_prob(x))

    def cdf(self, x) -> np.ndarray:
        """P(X <= x) = sum_k w_k Phi((x - m_k) / s_k) for a 1D mixture; x (...) -> (...)."""
        if self.dim != 1:
            raise ValueError(f"cdf is defined for 1D mixtures only; this one has dim {self.dim}")
        x = np.asarray(x, dtype=np.float64)
        return (self.weights * stats.norm.cdf((x[..., None] - self.means[:, 0]) / self.stds)).sum(-1)

    def mean(self) -> np.ndarray:
        """E[X] = sum_k w_k m_k, (d,)."""
        return (self.weights[:, None] * self.means).sum(0)


def mixture_1d(means=(-2.0, 2.0), stds=(0.5, 0.5), weights=None) -> GaussianMixture:
    """A 1D Gaussian mixture; equal weights unless given. Default: N(-2, 0.5^2) and N(2, 0.5^2)."""
    means = np.asarray(means, dtype=np.float64).reshape(-1, 1)
    k = means.shape[0]
    weights = np.full(k, 1.0 / k) if weights is None else weights
    return GaussianMixture(means, stds, weights)


def ring(n_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> GaussianMixture:
    """``n_modes`` Gaussians equally spaced on a circle (VEEGAN/PacGAN: 8, radius 1, std 0.01)."""
    n_modes = checks.check_int("n_modes", n_modes)
    radius = checks.check_positive("radius", radius)
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    means = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return GaussianMixture(means, std, np.full(n_modes, 1.0 / n_modes))


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """``side**2`` Gaussians on a centred square grid (VEEGAN/PacGAN: 5x5 at {-4..4}^2, std 0.05)."""
    side = checks.check_int("side", side)
    spacing = checks.check_positive("spacing", spacing)
    ticks = (np.arange(side) - (side - 1) / 2) * spacing
    means = np.array([(a, b) for a in ticks for b in ticks])
    return GaussianMixture(means, std, np.full(side * side, 1.0 / side**2))


def swiss_roll(n: int, noise: float = 0.25, scale: float = 7.5,
               generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """2D swiss roll: t ~ U(1.5 pi, 4.5 pi), x = (t cos t, t sin t) / scale + noise N(0, I) / scale.

    With the defaults this matches the WGAN-GP toy data (sklearn's ``make_swiss_roll`` with
    noise 0.25, coordinates (x, z), divided by 7.5).
    """
    n = checks.check_int("n", n)
    noise = checks.check_positive("noise", noise, allow_zero=True)
    scale = checks.check_positive("scale", scale)
    dev = _device_of(generator, device)
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator, device=dev))
    x = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1)
    x = x + noise * torch.randn(n, 2, generator=generator, device=dev)
    return x / scale


def latent(n: int, dim: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """Latent codes z ~ N(0, I_dim), shape (n, dim)."""
    n, dim = checks.check_int("n", n), checks.check_int("latent dim", dim)
    return torch.randn(n, dim, generator=generator, device=_device_of(generator, device))
