"""Sample-quality metrics for the 2D mixtures (VEEGAN/PacGAN protocol)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data import GaussianMixture
from .checks import check_int


@dataclass(frozen=True)
class ModeStats:
    """Mode coverage of generated samples on a Gaussian mixture."""

    modes: int              # modes with at least ``min_count`` high-quality samples
    n_modes: int            # modes of the target
    high_quality: float     # share of samples within ``n_std`` stds of their nearest mode
    reverse_kl: float       # KL(mode histogram of HQ samples || uniform), nats; inf if none
    counts: np.ndarray      # (K,) high-quality samples per mode

    def __str__(self):
        return (f"modes {self.modes}/{self.n_modes}, high-quality {100 * self.high_quality:.1f}%, "
                f"reverse KL {self.reverse_kl:.3f}")


def mode_stats(samples, mixture: GaussianMixture, n_std: float = 3.0, min_count: int = 1) -> ModeStats:
    """Assign each sample to its nearest mode; count high-quality samples and covered modes.

    A sample is *high quality* when it lies within ``n_std`` standard deviations of its
    nearest mode (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018 use 3). A mode is
    *covered* when at least ``min_count`` high-quality samples fall in it (VEEGAN: one).
    The reverse KL compares the histogram of high-quality samples over modes with the
    uniform histogram of the target: sum_k p_k log(p_k K), 0 when every mode gets the same
    share, log K when all fall in one mode.
    """
    x = samples.detach().cpu().numpy() if torch.is_tensor(samples) else np.asarray(samples)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != mixture.dim or len(x) == 0:
        raise ValueError(f"samples must have shape (n, {mixture.dim}) with n > 0, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples contain NaN or inf")
    if not (isinstance(n_std, (int, float, np.integer, np.floating)) and np.isfinite(n_std)
            and n_std > 0) or isinstance(n_std, bool):
        raise ValueError(f"n_std must be a positive finite number, got {n_std!r}")
    check_int("min_count", min_count, 1)
    d2 = ((x[:, None, :] - mixture.means[None]) ** 2).sum(-1)        # (n, K)
    nearest = d2.argmin(1)
    dist = np.sqrt(d2[np.arange(len(x)), nearest])
    hq = dist <= n_std * mixture.stds[nearest]
    k = mixture.n_components
    counts = np.bincount(nearest[hq], minlength=k)
    if counts.sum() == 0:
        rkl = float("inf")
    else:
        p = counts / counts.sum()
        nz = p > 0
        rkl = float((p[nz] * np.log(p[nz] * k)).sum())
    return ModeStats(modes=int((counts >= min_count).sum()), n_modes=k,
                     high_quality=float(hq.mean()), reverse_kl=rkl, counts=counts)
