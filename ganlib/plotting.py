"""Plotting helpers: samples, densities, 2D discriminator/critic contours, loss curves.

Each function draws on a given ``ax`` (or a new one) and returns the axes, so chapters can
compose figures; none calls ``plt.show()``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .data import GaussianMixture


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if torch.is_tensor(x) else np.asarray(x)


def _ax(ax):
    return plt.subplots(figsize=(4.5, 4.5))[1] if ax is None else ax


def _finish_2d(ax, title: str | None):
    """Equal aspect, axis labels x_1, x_2 and an optional title for a 2D plot."""
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def plot_samples_2d(samples, ax=None, target: GaussianMixture | None = None, title: str | None = None,
                    s: float = 3.0, alpha: float = 0.4, color: str = "C0", label: str | None = None):
    """Scatter (n, 2) samples; mark the target's modes with crosses if given."""
    ax = _ax(ax)
    x = _np(samples)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"samples must have shape (n, 2), got {x.shape}")
    ax.scatter(x[:, 0], x[:, 1], s=s, alpha=alpha, color=color, label=label, rasterized=True)
    if target is not None:
        ax.scatter(target.means[:, 0], target.means[:, 1], marker="x", color="k", s=30,
                   label="modes")
    return _finish_2d(ax, title)


def plot_density_1d(xs, densities: dict[str, np.ndarray], samples=None, ax=None, bins: int = 80,
                    title: str | None = None):
    """Curves ``densities[label]`` over the grid ``xs``; optional histogram of ``samples``."""
    ax = plt.subplots(figsize=(6, 3.5))[1] if ax is None else ax
    xs = _np(xs)
    if samples is not None:
        ax.hist(_np(samples).ravel(), bins=bins, density=True, alpha=0.35, color="gray",
                label="samples")
    for i, (label, y) in enumerate(densities.items()):
        ax.plot(xs, _np(y), color=f"C{i}", label=label)
    ax.set_xlabel("$x$")
    ax.set_ylabel("density")
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return ax


def grid_2d(extent: Sequence[float], resolution: int = 120):
    """A (res*res, 2) float32 grid over extent = (xmin, xmax, ymin, ymax) and its meshes."""
    xmin, xmax, ymin, ymax = extent
    if not (xmax > xmin and ymax > ymin):
        raise ValueError(f"extent must be (xmin, xmax, ymin, ymax) with max > min, got {extent}")
    gx, gy = np.meshgrid(np.linspace(xmin, xmax, resolution), np.linspace(ymin, ymax, resolution))
    pts = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    return pts, gx, gy


def plot_contour_2d(fn: Callable[[torch.Tensor], torch.Tensor], extent: Sequence[float], ax=None,
                    samples: dict[str, object] | None = None, resolution: int = 120, device=None,
                    levels: int = 20, cmap: str = "RdBu_r", colorbar_label: str = "",
                    title: str | None = None):
    """Filled contours of a scalar field ``fn`` ((m, 2) -> (m,) or (m, 1)), e.g. D(x) or a critic.

    ``samples`` maps a legend label to an (n, 2) array drawn on top.
    """
    ax = plt.subplots(figsize=(5.2, 4.5))[1] if ax is None else ax
    pts, gx, gy = grid_2d(extent, resolution)
    with torch.no_grad():
        vals = _np(fn(torch.as_tensor(pts, device=device))).reshape(gx.shape)
    cs = ax.contourf(gx, gy, vals, levels=levels, cmap=cmap)
    plt.colorbar(cs, ax=ax, label=colorbar_label)
    for i, (label, x) in enumerate((samples or {}).items()):
        x = _np(x)
        ax.scatter(x[:, 0], x[:, 1], s=3, alpha=0.5, color=["k", "C2", "C1"][i % 3], label=label,
                   rasterized=True)
    if samples:
        ax.legend(loc="upper right", frameon=True, markerscale=3)
    return _finish_2d(ax, title)


def plot_history(history, keys: Sequence[str] = ("d_loss", "g_loss"), ax=None,
                 title: str | None = None, hlines: dict[str, float] | None = None):
    """Curves of logged values against the step; ``hlines`` marks reference values."""
    ax = plt.subplots(figsize=(6, 3.5))[1] if ax is None else ax
    steps = history["step"]
    for k in keys:
        ax.plot(steps, history[k], label=k)
    for label, y in (hlines or {}).items():
        ax.axhline(y, color="k", ls="--", lw=1, label=label)
    ax.set_xlabel("step")
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return ax
