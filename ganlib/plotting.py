"""Plotting helpers: samples, densities, 2D discriminator/critic contours, loss curves, image grids.

Each function draws on a given ``ax`` (or a new one) and returns the axes, so chapters can
compose figures; none calls ``plt.show()``. :func:`make_grid` returns the tiled array itself.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from . import checks
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
    x = checks.check_shape("samples", _np(samples), ("n", 2))
    ax = _ax(ax)
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
    """A (res^2, 2) float32 grid over extent (xmin, xmax, ymin, ymax) and its meshes (res, res)."""
    xmin, xmax, ymin, ymax = extent
    xmin, xmax = checks.check_interval("extent's x range", xmin, xmax)
    ymin, ymax = checks.check_interval("extent's y range", ymin, ymax)
    resolution = checks.check_int("resolution", resolution, 2)
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


# ----------------------------------------------------------------------------- image grids
def make_grid(images, nrow: int = 8, padding: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """Tile images (B, C, H, W), C = 1 or 3, or (B, H, W), in [-1, 1] into one array for imshow.

    With ncol = min(nrow, B) tiles a row, R = ceil(B / ncol) rows and p = ``padding``, returns
    (R (H + p) + p, ncol (W + p) + p) for C = 1 and (..., ..., 3) for C = 3, values mapped to
    [0, 1]; ``pad_value`` is in the images' scale ([-1, 1]). Tensors or arrays.
    """
    x = images.detach().float().cpu() if torch.is_tensor(images) else torch.as_tensor(
        np.asarray(images), dtype=torch.float32)
    if x.dim() == 3:
        x = x[:, None]
    checks.check_tensor("images", x, dims=4)
    checks.check_option("number of channels", x.shape[1], (1, 3))
    nrow, p = checks.check_int("nrow", nrow), checks.check_int("padding", padding, 0)
    b, c, h, w = x.shape
    ncol = min(nrow, b)
    nrows = math.ceil(b / ncol)
    grid = torch.full((c, nrows * (h + p) + p, ncol * (w + p) + p), float(pad_value))
    for i in range(b):
        r, q = divmod(i, ncol)
        grid[:, p + r * (h + p): p + r * (h + p) + h, p + q * (w + p): p + q * (w + p) + w] = x[i]
    grid = ((grid.clamp(-1, 1) + 1) / 2).numpy()
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def show_images(images, nrow: int = 8, ax=None, title: str | None = None, padding: int = 1,
                cmap: str = "gray_r"):
    """Draw a grid of (B, C, H, W) images in [-1, 1] on ``ax`` (or a new one); return the axes.

    Greyscale uses ``gray_r`` by default: background (-1) white, strokes (+1) black, as the
    digits are written on paper.
    """
    grid = make_grid(images, nrow=nrow, padding=padding, pad_value=0.0)
    if ax is None:
        ax = plt.subplots(figsize=(0.45 * min(nrow, len(images)) + 0.5,
                                   0.45 * math.ceil(len(images) / nrow) + 0.5))[1]
    if grid.ndim == 2:
        ax.imshow(grid, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(grid, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax
