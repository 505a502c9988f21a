"""Wasserstein GAN: ways to keep the critic (roughly) 1-Lipschitz, and measuring the result.

By the Kantorovich-Rubinstein duality (Villani 2009, Remark 6.5),

    W1(P, Q) = sup_{||D||_Lip <= 1}  E_{x~P}[D(x)] - E_{x~Q}[D(x)].

WGAN (Arjovsky et al. 2017) trains a critic D to *ascend* E_P[D] - E_{Q_theta}[D] and the
generator G_theta to *descend* it. The two losses, each the quantity its player minimizes,
are :func:`ganlib.losses.wgan_d_loss` = E[D(G(z))] - E[D(x)] and
:func:`ganlib.losses.wgan_g_loss` = -E[D(G(z))]. This module holds the Lipschitz constraint,
in the two forms of the glossary of :mod:`ganlib`:

* a **projection** ``project(D)``, applied after each critic update: weight clipping
  (WGAN), every critic parameter clamped to [-c, c], c = 0.01 (:func:`clip_weights`);
* a **penalty** ``penalty(D, real, fake)``, *added to the critic's loss*: the gradient
  penalty (WGAN-GP, Gulrajani et al. 2017) lambda E[(||grad_x D(x_hat)||_2 - 1)^2] at
  x_hat = eps x + (1 - eps) G(z), ONE eps ~ U(0, 1) per sample, the norm taken over ALL
  non-batch axes (:func:`gradient_penalty`);
* or an architecture: spectral normalization (Miyato et al. 2018),
  ``ganlib.nets.MLP(..., spectral_norm=True)``.

Both plug into ``train.d_step(D, G, opt_d, real, z, losses.wgan_d_loss, penalty=...,
project=...)``. :func:`lipschitz_estimate` measures the result: the largest gradient norm of
the critic at real, generated and interpolated points. :func:`get_critic_config` gives the
published training settings and :func:`make_optimizer` the optimizer they name.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from . import batched, checks


@torch.no_grad()
def clip_weights(D: nn.Module, c: float = 0.01) -> nn.Module:
    """w <- clamp(w, -c, c) for every parameter of ``D``, IN PLACE: the projection of WGAN.

    Use it as ``project=functools.partial(clip_weights, c=c)`` in ``train.d_step``; returns
    ``D``. The WGAN default is c = 0.01 (Arjovsky et al. 2017, Algorithm 1). The clipped
    network is K-Lipschitz for some K that depends on c and the architecture, not 1-Lipschitz.
    """
    c = checks.check_positive("clip value c", c)
    if not isinstance(D, nn.Module):
        raise TypeError(f"D must be a torch.nn.Module, got {type(D).__name__}")
    for p in D.parameters():
        p.clamp_(-c, c)
    return D


def _check_batch(name: str, x, batch_dims) -> int:
    """Validate a sample (B, ...) or (S, B, ...) with a non-batch axis; returns ``batch_dims``."""
    checks.check_tensor(name, x)
    batch_dims = checks.check_option("batch_dims", batch_dims, (1, 2))
    if x.dim() <= batch_dims:
        raise ValueError(f"{name} needs at least one non-batch axis after {batch_dims} batch "
                         f"axes, got shape {tuple(x.shape)}")
    return batch_dims


def _check_samples(real, fake, batch_dims) -> int:
    """Validate a pair of samples of one shape (B, ...) or (S, B, ...); returns ``batch_dims``."""
    checks.check_tensor("fake", fake)
    checks.same_shape("real", checks.check_tensor("real", real), "fake", fake)
    return _check_batch("real", real, batch_dims)


def _interpolate(real, fake, generator, batch_dims):
    shape = real.shape[:batch_dims] + (1,) * (real.dim() - batch_dims)
    eps = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    return eps * real.detach() + (1 - eps) * fake.detach()


def _gradient_norms(D, x, batch_dims, create_graph):
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        out = D(x)
        (grad,) = torch.autograd.grad(out.sum(), x, create_graph=create_graph)
    return grad.flatten(start_dim=batch_dims).norm(dim=-1)


def _batch_dims(D, batch_dims) -> int:
    """``batch_dims``, or when None: 2 for a batched model (:mod:`ganlib.batched`), else 1."""
    return (2 if batched.is_batched(D) else 1) if batch_dims is None else batch_dims


def interpolate(real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None,
                batch_dims: int = 1) -> torch.Tensor:
    """x_hat = eps * x + (1 - eps) * G(z) with ONE eps ~ U(0, 1) per sample.

    ``real``, ``fake``: (B, ...) or, with ``batch_dims=2``, (S, B, ...). eps has shape
    (B, 1, ..., 1) (resp. (S, B, 1, ..., 1)), so a sample's pixels/coordinates all move along
    the same segment from G(z) to x. Gradients do not flow back into ``real``/``fake``.
    """
    batch_dims = _check_samples(real, fake, batch_dims)
    return _interpolate(real, fake, generator, batch_dims)


def gradient_norms(D, x: torch.Tensor, batch_dims: int | None = None,
                   create_graph: bool = False) -> torch.Tensor:
    """||grad_x D(x_i)||_2 for each sample, the norm over ALL non-batch axes.

    ``x`` (B, ...) -> (B,); with ``batch_dims=2`` (S, B, ...) -> (S, B); None means 2 for a
    batched model and 1 otherwise. ``D`` maps x to one value per sample. Because samples do
    not interact in D, the gradient of sum_i D(x_i) with respect to x_i is grad D(x_i).
    """
    batch_dims = _check_batch("x", x, _batch_dims(D, batch_dims))
    return _gradient_norms(D, x, batch_dims, create_graph)


def gradient_penalty(D, real: torch.Tensor, fake: torch.Tensor, lam: float = 10.0,
                     generator: torch.Generator | None = None, batch_dims: int | None = None,
                     center: float = 1.0) -> torch.Tensor:
    """lambda * E[(||grad_x D(x_hat)||_2 - center)^2] at x_hat = eps x + (1 - eps) G(z) (WGAN-GP).

    A penalty in the sense of the glossary: ``train.d_step`` *adds* it to the critic's loss,
    which the critic minimizes; G's loss never contains it. lambda = 10 and center = 1 (the
    target slope) in Gulrajani et al. (2017); use ``functools.partial(gradient_penalty,
    lam=...)`` to change them. ``real``, ``fake``: (B, ...) or, for a batched critic,
    (S, B, ...) (``batch_dims=None`` picks 2 for a batched ``D``, else 1; with S seeds the
    result is the mean over all S B samples, like the batched losses). eps is drawn from
    ``generator``. The graph is kept (``create_graph=True``) so the penalty can be
    differentiated with respect to the critic's parameters. Returns a scalar.
    """
    lam = checks.check_positive("lam", lam)
    center = checks.check_positive("center", center, allow_zero=True)
    batch_dims = _check_samples(real, fake, _batch_dims(D, batch_dims))
    x_hat = _interpolate(real, fake, generator, batch_dims)
    norms = _gradient_norms(D, x_hat, batch_dims, create_graph=True)
    return lam * ((norms - center) ** 2).mean()


def lipschitz_estimate(D, real: torch.Tensor, fake: torch.Tensor,
                       generator: torch.Generator | None = None) -> float:
    """max ||grad_x D|| over real, generated and interpolated points: a lower bound on ||D||_Lip.

    ``real``, ``fake``: (B, ...), for a model that is not batched. For a piecewise-linear
    (ReLU) critic the Lipschitz constant is the sup of the gradient norm; sampling it where
    the data and the model live (and on the segments between them) is the measurement used
    in the book.
    """
    _check_samples(real, fake, 1)
    x_hat = _interpolate(real, fake, generator, 1)
    return max(float(_gradient_norms(D, x, 1, False).max()) for x in (real, fake, x_hat))


@dataclass(frozen=True)
class CriticConfig:
    """How a WGAN critic is trained; :func:`get_critic_config` gives the published settings."""

    method: str                # "clip" (WGAN), "gp" (WGAN-GP) or "sn" (spectral norm)
    optimizer: str             # "rmsprop" or "adam"
    lr: float                  # learning rate of both players
    betas: tuple = (0.5, 0.9)  # Adam betas (ignored by RMSProp)
    n_critic: int = 5          # critic steps per generator step
    clip: float = 0.01         # weight-clipping box [-clip, clip] (method "clip")
    lam: float = 10.0          # gradient-penalty weight lambda (method "gp")


CRITIC_CONFIGS: dict[str, CriticConfig] = {
    "clip": CriticConfig("clip", "rmsprop", 5e-5),                # Arjovsky et al. 2017
    "gp": CriticConfig("gp", "adam", 1e-4, (0.5, 0.9)),           # Gulrajani et al. 2017
    "sn": CriticConfig("sn", "adam", 1e-4, (0.5, 0.9)),           # Miyato et al. 2018
}


def get_critic_config(method: str) -> CriticConfig:
    """The published settings of ``method``; ValueError listing the methods otherwise.

    clip: RMSProp 5e-5, c = 0.01, n_critic 5 (Arjovsky et al. 2017); gp: Adam 1e-4, betas
    (0.5, 0.9), lambda 10, n_critic 5 (Gulrajani et al. 2017); sn: Adam 1e-4, betas (0.5, 0.9),
    n_critic 5 (setting "A" of Miyato et al. 2018, Table 1, the WGAN-GP setting).
    """
    return checks.lookup(CRITIC_CONFIGS, method, "Lipschitz method")


OPTIMIZERS = ("rmsprop", "adam")


def make_optimizer(params, config) -> torch.optim.Optimizer:
    """RMSProp or Adam over ``params`` with ``config.optimizer``, ``config.lr``, ``config.betas``.

    ``config`` is a :class:`CriticConfig` or any object with those three fields (the toy
    benchmark's ``Recipe``). ``betas`` are ignored by RMSProp.
    """
    name = checks.check_choice("optimizer", config.optimizer, OPTIMIZERS)
    lr = checks.check_positive("lr", config.lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=tuple(config.betas))
