"""Training steps, a small training loop with a progress bar, and a divergence guard.

The chapters write their loops out when the loop is the lesson; they call :func:`d_step`
and :func:`g_step`, or :func:`train` when it is not. Every loss passed here is something its
player *minimizes* (see :mod:`ganlib.losses`).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from . import losses
from .checks import check_int


class DivergenceError(RuntimeError):
    """Raised when a training quantity becomes NaN/inf or explodes; the message names the step."""


def check_finite(step: int, max_abs: float = 1e6, **values) -> None:
    """Raise :class:`DivergenceError` if any value is NaN/inf or larger than ``max_abs`` in size."""
    for name, v in values.items():
        x = float(v)
        if not math.isfinite(x):
            raise DivergenceError(f"training diverged at step {step}: {name} = {x}")
        if abs(x) > max_abs:
            raise DivergenceError(f"training diverged at step {step}: |{name}| = {abs(x):.3g} "
                                  f"exceeds {max_abs:.3g}")


@dataclass
class History:
    """Logged values: ``history["d_loss"]`` is a NumPy array aligned with ``history["step"]``."""

    records: dict[str, list[float]] = field(default_factory=dict)

    def log(self, step: int, **values) -> None:
        self.records.setdefault("step", []).append(int(step))
        for k, v in values.items():
            self.records.setdefault(k, []).append(float(v))

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.records:
            raise KeyError(f"history has no {key!r}; it has: {', '.join(self.records)}")
        return np.asarray(self.records[key])

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def keys(self):
        return self.records.keys()

    def last(self, key: str) -> float:
        return self.records[key][-1]


def d_step(D: nn.Module, G: nn.Module, opt_d: torch.optim.Optimizer, real: torch.Tensor,
           z: torch.Tensor, loss_fn: Callable = losses.discriminator_loss,
           penalty: Callable | None = None) -> torch.Tensor:
    """One discriminator/critic update: minimize ``loss_fn(D(real), D(G(z)))`` (+ ``penalty``).

    ``penalty(D, real, fake)`` returns a scalar added to the discriminator's loss only (e.g. a
    gradient penalty). G is not updated: its output is detached. Returns the detached loss.
    """
    with torch.no_grad():
        fake = G(z)
    loss = loss_fn(D(real), D(fake))
    if penalty is not None:
        loss = loss + penalty(D, real, fake)
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    return loss.detach()


def g_step(D: nn.Module, G: nn.Module, opt_g: torch.optim.Optimizer, z: torch.Tensor,
           loss_fn: Callable = losses.generator_loss_nonsaturating) -> torch.Tensor:
    """One generator update: minimize ``loss_fn(D(G(z)))``. D's parameters are not stepped.

    D's gradients are switched off for the pass so they are neither computed nor left behind.
    """
    flags = [p.requires_grad for p in D.parameters()]
    for p in D.parameters():
        p.requires_grad_(False)
    try:
        loss = loss_fn(D(G(z)))
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
    finally:
        for p, f in zip(D.parameters(), flags):
            p.requires_grad_(f)
    return loss.detach()


def train(D: nn.Module, G: nn.Module, opt_d: torch.optim.Optimizer, opt_g: torch.optim.Optimizer,
          sample_real: Callable[[int], torch.Tensor], sample_latent: Callable[[int], torch.Tensor],
          steps: int, batch_size: int = 128, d_steps: int = 1,
          d_loss: Callable = losses.discriminator_loss,
          g_loss: Callable = losses.generator_loss_nonsaturating,
          penalty: Callable | None = None, after_d_step: Callable | None = None,
          log_every: int = 50, callback: Callable[[int], dict] | None = None,
          max_abs: float = 1e6, progress: bool = True, desc: str = "train") -> History:
    """Alternate ``d_steps`` discriminator updates and one generator update, ``steps`` times.

    ``sample_real(n)`` returns n data points, ``sample_latent(n)`` n latent codes, both on the
    models' device. ``after_d_step(D)`` runs after each critic update (e.g. weight clipping).
    Every ``log_every`` steps the mean losses since the last log are recorded, checked for
    NaN/explosion (raising :class:`DivergenceError` naming the step) and, if given,
    ``callback(step)`` adds its dict of metrics. Losses stay on the device between logs so the
    loop does not synchronize with the host at every step.
    """
    for name, v in (("steps", steps), ("batch_size", batch_size), ("d_steps", d_steps),
                    ("log_every", log_every)):
        check_int(name, v)
    history = History()
    d_buf, g_buf = [], []
    bar = tqdm(range(1, steps + 1), desc=desc, disable=not progress, mininterval=1.0)
    for step in bar:
        for _ in range(d_steps):
            d_buf.append(d_step(D, G, opt_d, sample_real(batch_size), sample_latent(batch_size),
                                d_loss, penalty))
            if after_d_step is not None:
                after_d_step(D)
        g_buf.append(g_step(D, G, opt_g, sample_latent(batch_size), g_loss))
        if step % log_every == 0 or step == steps:
            d_hist = torch.stack(d_buf).cpu()
            g_hist = torch.stack(g_buf).cpu()
            for i, (dl, gl) in enumerate(zip(d_hist.view(-1, d_steps).mean(1), g_hist)):
                check_finite(step - len(g_hist) + 1 + i, max_abs, d_loss=dl, g_loss=gl)
            extra = callback(step) if callback is not None else {}
            history.log(step, d_loss=d_hist.mean(), g_loss=g_hist.mean(), **extra)
            bar.set_postfix(d=f"{d_hist.mean():.3f}", g=f"{g_hist.mean():.3f}")
            d_buf, g_buf = [], []
    return history
