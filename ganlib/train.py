"""Training steps, a small training loop with a progress bar, and a divergence guard.

The chapters write their loops out when the loop is the lesson; they call :func:`d_step`
and :func:`g_step`, or :func:`train` when it is not. Every loss passed here is something its
player *minimizes* (see :mod:`ganlib.losses`); a penalty is *added* to D's loss and a
projection is applied to D after its update (see :mod:`ganlib.wgan`). The same two steps
train one model or S seeds batched as one (:mod:`ganlib.batched`).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from . import batched, losses, nets
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


def _n_models(D, G) -> int:
    n_d, n_g = batched.n_models(D), batched.n_models(G)
    if n_d != n_g:
        raise ValueError(f"D and G must hold the same number of models, got {n_d} and {n_g}")
    return n_d


def _scores(D, d_out: torch.Tensor) -> torch.Tensor:
    """D's output as the losses take it: (B,) or (B, 1); a batched D's (S, B, 1) flattened."""
    return d_out.reshape(-1) if batched.is_batched(D) else d_out


def d_step(D: nn.Module, G: nn.Module, opt_d: torch.optim.Optimizer, real: torch.Tensor,
           z: torch.Tensor, d_loss: Callable = losses.gan_d_loss,
           penalty: Callable | None = None, project: Callable | None = None) -> torch.Tensor:
    """One update of D: minimize d_loss(D(real), D(G(z))) + penalty(D, real, G(z)); project(D).

    ``d_loss(d_real, d_fake)`` is D's loss (:mod:`ganlib.losses`); ``penalty(D, real, fake)``
    returns a scalar added to it (e.g. ``wgan.gradient_penalty``); ``project(D)`` changes D's
    weights in place after the optimizer step (e.g. ``wgan.clip_weights``). G is not updated:
    G(z) is computed without a graph. Returns D's whole loss, penalty included, detached.

    ``real`` is (B, ...), ``z`` (B, k); for a batched pair (:mod:`ganlib.batched`, S seeds)
    (S, B, ...) and (S, B, k): the scores are flattened to (S B,), so the loss and the penalty
    are means over all S B samples, and the step backpropagates ``n_models(D) * loss``, the
    sum of the S per-seed losses (each seed gets the gradient of its own loss). The returned
    value is then the mean of the per-seed losses.
    """
    n = _n_models(D, G)
    with torch.no_grad():
        fake = G(z)
    loss = d_loss(_scores(D, D(real)), _scores(D, D(fake)))
    if penalty is not None:
        loss = loss + penalty(D, real, fake)
    opt_d.zero_grad(set_to_none=True)
    (n * loss).backward()
    opt_d.step()
    if project is not None:
        project(D)
    return loss.detach()


def g_step(D: nn.Module, G: nn.Module, opt_g: torch.optim.Optimizer, z: torch.Tensor,
           g_loss: Callable = losses.nonsaturating_g_loss) -> torch.Tensor:
    """One update of G: minimize ``g_loss(D(G(z)))``. D's parameters are not stepped.

    D is :func:`ganlib.nets.frozen` for the pass, so its gradients are neither computed nor
    left behind, and its ``requires_grad`` flags are restored afterwards. ``z`` is (B, k), or
    (S, B, k) for a batched pair; as in :func:`d_step` the step then backpropagates
    ``n_models(G) * loss``, the sum of the per-seed losses, and returns the mean (detached).
    """
    n = _n_models(D, G)
    with nets.frozen(D):
        loss = g_loss(_scores(D, D(G(z))))
        opt_g.zero_grad(set_to_none=True)
        (n * loss).backward()
        opt_g.step()
    return loss.detach()


def train(D: nn.Module, G: nn.Module, opt_d: torch.optim.Optimizer, opt_g: torch.optim.Optimizer,
          sample_real: Callable[[int], torch.Tensor], sample_latent: Callable[[int], torch.Tensor],
          steps: int, batch_size: int = 128, d_steps: int = 1,
          d_loss: Callable = losses.gan_d_loss,
          g_loss: Callable = losses.nonsaturating_g_loss,
          penalty: Callable | None = None, project: Callable | None = None,
          log_every: int = 50, callback: Callable[[int], dict] | None = None,
          max_abs: float = 1e6, progress: bool = True, desc: str = "train") -> History:
    """``steps`` times: ``d_steps`` updates of D (:func:`d_step`), then one of G (:func:`g_step`).

    ``sample_real(n)`` returns n data points, ``sample_latent(n)`` n latent codes, both on the
    models' device. ``d_loss``, ``penalty`` and ``project`` are passed to :func:`d_step`
    (``project(D)``, e.g. weight clipping, runs after each update of D), ``g_loss`` to
    :func:`g_step`. Every ``log_every`` steps the mean losses since the last log are recorded,
    checked for NaN/explosion (raising :class:`DivergenceError` naming the step) and, if given,
    ``callback(step)`` adds its dict of metrics. Losses stay on the device between logs so the
    loop does not synchronize with the host at every step.
    """
    for name, v in (("steps", steps), ("batch_size", batch_size), ("d_steps", d_steps),
                    ("log_every", log_every)):
        check_int(name, v)
    for name, fn in (("sample_real", sample_real), ("sample_latent", sample_latent),
                     ("d_loss", d_loss), ("g_loss", g_loss), ("penalty", penalty),
                     ("project", project), ("callback", callback)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
    history = History()
    d_buf, g_buf = [], []
    bar = tqdm(range(1, steps + 1), desc=desc, disable=not progress, mininterval=1.0)
    for step in bar:
        for _ in range(d_steps):
            d_buf.append(d_step(D, G, opt_d, sample_real(batch_size), sample_latent(batch_size),
                                d_loss, penalty, project))
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
