"""Watch a 2D GAN train: snapshots of the samples and of D's field, played as an animation.

A training loop calls :func:`snapshot_2d` every few steps (for instance from the
``callback`` of :func:`ganlib.train.train`) and keeps the frames; :func:`animate_2d` turns one
or more such runs into a matplotlib animation embedded as HTML and JavaScript, so it plays in
the static book with no kernel. Frames are small PNGs: 30 frames of two panels come to
about 1-2 MB of page.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import animation

from .checks import check_int, check_tensor


@dataclass(frozen=True)
class Frame:
    """One snapshot of a 2D run: the step, generated samples (n, 2) and D's field on a grid."""

    step: int
    samples: np.ndarray     # (n, 2) generated points
    field: np.ndarray       # (r, r) D's output on the grid (a probability or a critic value)


def _grid(extent: Sequence[float], resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xmin, xmax, ymin, ymax = (float(v) for v in extent)
    if not (xmax > xmin and ymax > ymin):
        raise ValueError(f"extent must be (xmin, xmax, ymin, ymax) with max > min, got {extent}")
    gx, gy = np.meshgrid(np.linspace(xmin, xmax, resolution), np.linspace(ymin, ymax, resolution))
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32), gx, gy


@torch.no_grad()
def snapshot_2d(step: int, G: Callable, D: Callable, z: torch.Tensor, extent: Sequence[float],
                resolution: int = 60, transform: Callable | None = torch.sigmoid) -> Frame:
    """A :class:`Frame` of the run at ``step``: G(z) for a FIXED batch ``z`` and D on a grid.

    ``z`` (n, k) is the same at every snapshot, so a frame-to-frame change is the
    generator's doing. ``transform`` maps D's raw output to what is drawn: ``torch.sigmoid``
    (the default) shows D(x) = sigmoid(logit) in [0, 1]; ``None`` shows a critic's raw values.
    """
    check_int("step", step, 0)
    check_int("resolution", resolution, 2)
    z = check_tensor("z", z, dims=2)
    pts, gx, _ = _grid(extent, resolution)
    field = D(torch.as_tensor(pts, device=z.device)).reshape(-1)
    if transform is not None:
        field = transform(field)
    return Frame(int(step), G(z).detach().cpu().numpy(), field.cpu().numpy().reshape(gx.shape))


def animate_2d(runs: dict[str, Sequence[Frame]], extent: Sequence[float], modes=None,
               field_label: str = "$D(x)$", cmap: str = "RdBu_r", interval: int = 200,
               panel_size: float = 3.6, dpi: int = 80, symmetric: bool = False):
    """Animate one panel per run (``runs[title]`` is its list of frames, all of equal length).

    Each panel shows D's field as filled contours, the generated samples on top and, if
    given, the target's ``modes`` (K, 2) as rings. The colour scale of a panel is fixed over
    its frames (``symmetric=True`` centres it at 0, for a critic). Returns an
    ``IPython.display.HTML`` holding the JavaScript player.
    """
    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs must be a non-empty dict {title: list of Frame}")
    lengths = {len(f) for f in runs.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"every run needs the same, positive number of frames, got {sorted(lengths)}")
    n_frames = lengths.pop()
    res = next(iter(runs.values()))[0].field.shape[0]
    _, gx, gy = _grid(extent, res)
    fig, axes = plt.subplots(1, len(runs), figsize=(panel_size * len(runs), panel_size),
                             dpi=dpi, squeeze=False, constrained_layout=True)
    axes = axes[0]
    levels = {}
    for title, frames in runs.items():
        lo = min(float(f.field.min()) for f in frames)
        hi = max(float(f.field.max()) for f in frames)
        if symmetric:
            lo, hi = -max(abs(lo), abs(hi)), max(abs(lo), abs(hi))
        levels[title] = np.linspace(lo, hi if hi > lo else lo + 1e-6, 16)
    for ax, title in zip(axes, runs):
        norm = plt.Normalize(levels[title][0], levels[title][-1])
        fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=field_label,
                     shrink=0.8)

    def draw(i: int):
        for ax, (title, frames) in zip(axes, runs.items()):
            ax.clear()
            f = frames[i]
            ax.contourf(gx, gy, f.field, levels=levels[title], cmap=cmap, alpha=0.8)
            ax.scatter(f.samples[:, 0], f.samples[:, 1], s=2, color="k", alpha=0.5)
            if modes is not None:
                m = np.asarray(modes)
                ax.scatter(m[:, 0], m[:, 1], s=40, facecolors="none", edgecolors="C2", lw=1.2)
            ax.set_xlim(extent[0], extent[1])
            ax.set_ylim(extent[2], extent[3])
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{title}\nstep {f.step}", fontsize=10)
        return []

    anim = animation.FuncAnimation(fig, draw, frames=n_frames, interval=interval, blit=False)
    from IPython.display import HTML
    html = HTML(anim.to_jshtml(default_mode="once"))
    plt.close(fig)
    return html
