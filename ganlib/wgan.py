"""Wasserstein GAN: critic losses and three ways to keep the critic (roughly) 1-Lipschitz.

By the Kantorovich-Rubinstein duality (Villani 2009, Remark 6.5),

    W1(P, Q) = sup_{||T||_Lip <= 1}  E_{x~P}[T(x)] - E_{x~Q}[T(x)].

WGAN (Arjovsky et al. 2017) trains a critic T_w to *ascend* E_P[T_w] - E_{Q_theta}[T_w] and
the generator G_theta to *descend* it. As everywhere in ganlib, each loss below is the
quantity its player **minimizes**:

* critic:    L_T = E[T(G(z))] - E[T(x)]          (:func:`critic_loss`)
* generator: L_G = -E[T(G(z))]                    (:func:`generator_loss`)

``t_real`` is T_w(x) for data x, ``t_fake`` is T_w(G_theta(z)); shapes (B,) or (B, 1).

The Lipschitz constraint is enforced in one of three ways:

* weight clipping (WGAN): every critic parameter is clamped to [-c, c] after each step,
  c = 0.01 (:func:`clip_weights`);
* gradient penalty (WGAN-GP, Gulrajani et al. 2017): lambda E[(||grad_x T(x_hat)||_2 - 1)^2]
  at x_hat = eps x + (1 - eps) G(z), ONE eps ~ U(0, 1) per sample, the norm taken over ALL
  non-batch axes, added to the critic's loss only (:func:`gradient_penalty`);
* spectral normalization (Miyato et al. 2018): ``ganlib.nets.MLP(..., spectral_norm=True)``.

:func:`lipschitz_estimate` measures the result: the largest gradient norm of the critic at
real, generated and interpolated points.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .losses import as_scores

METHODS = ("clip", "gp", "sn")


def critic_loss(t_real: torch.Tensor, t_fake: torch.Tensor) -> torch.Tensor:
    """L_T = E[T(G(z))] - E[T(x)]: the critic minimizes it (it ascends the W1 estimate).

    ``t_real`` (B,) or (B, 1) is T(x) on data, ``t_fake`` (B',) or (B', 1) is T(G(z)).
    Returns a scalar; its negative is :func:`wasserstein_estimate`.
    """
    t_real = as_scores("t_real", t_real)
    t_fake = as_scores("t_fake", t_fake)
    return t_fake.mean() - t_real.mean()


def generator_loss(t_fake: torch.Tensor) -> torch.Tensor:
    """L_G = -E[T(G(z))]: the generator minimizes it (E[T(x)] does not depend on G).

    ``t_fake`` (B,) or (B, 1) is T(G(z)). No gradient penalty belongs here: the penalty
    constrains the critic, and adding it to L_G would push G towards points where the
    critic's slope is 1 instead of towards the data.
    """
    t_fake = as_scores("t_fake", t_fake)
    return -t_fake.mean()


def wasserstein_estimate(t_real: torch.Tensor, t_fake: torch.Tensor) -> torch.Tensor:
    """E[T(x)] - E[T(G(z))]: the dual objective; equals W1 when T is an optimal 1-Lipschitz critic."""
    return -critic_loss(t_real, t_fake)


def _check_positive(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
        raise ValueError(f"{name} must be a positive number, got {v!r}")
    return float(v)


@torch.no_grad()
def clip_weights(critic: nn.Module, c: float = 0.01) -> nn.Module:
    """w <- clamp(w, -c, c) for every parameter of ``critic``, IN PLACE; returns ``critic``.

    The WGAN default is c = 0.01 (Arjovsky et al. 2017, Algorithm 1). The clipped network is
    K-Lipschitz for some K that depends on c and the architecture, not 1-Lipschitz.
    """
    c = _check_positive("clip value c", c)
    if not isinstance(critic, nn.Module):
        raise TypeError(f"critic must be a torch.nn.Module, got {type(critic).__name__}")
    for p in critic.parameters():
        p.clamp_(-c, c)
    return critic


def _check_pair(real: torch.Tensor, fake: torch.Tensor, batch_dims: int) -> None:
    if not torch.is_tensor(real) or not torch.is_tensor(fake):
        raise TypeError("real and fake must be torch.Tensors")
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {tuple(real.shape)} "
                         f"and {tuple(fake.shape)}")
    if batch_dims not in (1, 2):
        raise ValueError(f"batch_dims must be 1 (B, ...) or 2 (S, B, ...), got {batch_dims!r}")
    if real.dim() <= batch_dims:
        raise ValueError(f"inputs need at least one non-batch axis after {batch_dims} batch "
                         f"axes, got shape {tuple(real.shape)}")


def interpolate(real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None,
                batch_dims: int = 1) -> torch.Tensor:
    """x_hat = eps * x + (1 - eps) * G(z) with ONE eps ~ U(0, 1) per sample.

    ``real``, ``fake``: (B, ...) or, with ``batch_dims=2``, (S, B, ...). eps has shape
    (B, 1, ..., 1) (resp. (S, B, 1, ..., 1)), so a sample's pixels/coordinates all move along
    the same segment from G(z) to x. Gradients do not flow back into ``real``/``fake``.
    """
    _check_pair(real, fake, batch_dims)
    shape = real.shape[:batch_dims] + (1,) * (real.dim() - batch_dims)
    eps = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    return eps * real.detach() + (1 - eps) * fake.detach()


def gradient_norms(critic, x: torch.Tensor, batch_dims: int = 1,
                   create_graph: bool = False) -> torch.Tensor:
    """||grad_x T(x_i)||_2 for each sample, the norm over ALL non-batch axes.

    ``x`` (B, ...) -> (B,); with ``batch_dims=2`` (S, B, ...) -> (S, B). ``critic`` maps x to
    one value per sample. Because samples do not interact in T, the gradient of sum_i T(x_i)
    with respect to x_i is grad T(x_i).
    """
    if not torch.is_tensor(x):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if batch_dims not in (1, 2) or x.dim() <= batch_dims:
        raise ValueError(f"batch_dims must be 1 or 2 and x must have a non-batch axis; got "
                         f"batch_dims={batch_dims!r}, shape {tuple(x.shape)}")
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        out = critic(x)
        (grad,) = torch.autograd.grad(out.sum(), x, create_graph=create_graph)
    return grad.flatten(start_dim=batch_dims).norm(dim=-1)


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, lam: float = 10.0,
                     generator: torch.Generator | None = None, batch_dims: int = 1,
                     center: float = 1.0) -> torch.Tensor:
    """lambda * E[(||grad_x T(x_hat)||_2 - 1)^2] at x_hat = eps x + (1 - eps) G(z) (WGAN-GP).

    Added to the CRITIC's loss only; lambda = 10 in Gulrajani et al. (2017). ``real``, ``fake``:
    (B, ...) or (S, B, ...) with ``batch_dims=2`` (one penalty per seed and sample; the
    result is the mean over all of them). The graph is kept (``create_graph=True``) so the
    penalty can be differentiated with respect to the critic's parameters. ``center`` is the
    target slope (1 for WGAN-GP).
    """
    lam = _check_positive("lam", lam)
    x_hat = interpolate(real, fake, generator, batch_dims)
    norms = gradient_norms(critic, x_hat, batch_dims, create_graph=True)
    return lam * ((norms - center) ** 2).mean()


def _max_norms(critic, real, fake, generator, batch_dims) -> torch.Tensor:
    _check_pair(real, fake, batch_dims)
    x_hat = interpolate(real, fake, generator, batch_dims)
    norms = torch.cat([gradient_norms(critic, x, batch_dims) for x in (real, fake, x_hat)],
                      dim=batch_dims - 1)             # (3B,) or (S, 3B)
    return norms.amax(dim=batch_dims - 1)


def lipschitz_estimate(critic, real: torch.Tensor, fake: torch.Tensor,
                       generator: torch.Generator | None = None) -> float:
    """max ||grad_x T|| over real, generated and interpolated points: a lower bound on ||T||_Lip.

    ``real``, ``fake``: (B, ...). For a piecewise-linear (ReLU) critic the Lipschitz constant
    is the sup of the gradient norm; sampling it where the data and the model live (and on
    the segments between them) is the measurement used in the book.
    """
    return float(_max_norms(critic, real, fake, generator, 1))


def lipschitz_estimates_batched(critic, real: torch.Tensor, fake: torch.Tensor,
                                generator: torch.Generator | None = None) -> list[float]:
    """:func:`lipschitz_estimate` for each seed of a batched critic; ``real``, ``fake`` (S, B, ...)."""
    return [float(v) for v in _max_norms(critic, real, fake, generator, 2)]


@dataclass(frozen=True)
class CriticConfig:
    """How a WGAN critic is trained; :func:`paper_config` gives the published defaults."""

    method: str                # "clip" (WGAN), "gp" (WGAN-GP) or "sn" (spectral norm)
    optimizer: str             # "rmsprop" or "adam"
    lr: float                  # learning rate of both players
    betas: tuple = (0.5, 0.9)  # Adam betas (ignored by RMSProp)
    n_critic: int = 5          # critic steps per generator step
    clip: float = 0.01         # weight-clipping box [-clip, clip] (method "clip")
    lam: float = 10.0          # gradient-penalty weight lambda (method "gp")


def paper_config(method: str) -> CriticConfig:
    """Published defaults: clip: RMSProp 5e-5, c = 0.01, n_critic 5 (Arjovsky et al. 2017);
    gp: Adam 1e-4, betas (0.5, 0.9), lambda 10, n_critic 5 (Gulrajani et al. 2017);
    sn: Adam 1e-4, betas (0.5, 0.9), n_critic 5 (setting "A" of Miyato et al. 2018, Table 1,
    the WGAN-GP setting)."""
    if method == "clip":
        return CriticConfig("clip", "rmsprop", 5e-5)
    if method == "gp":
        return CriticConfig("gp", "adam", 1e-4, (0.5, 0.9))
    if method == "sn":
        return CriticConfig("sn", "adam", 1e-4, (0.5, 0.9))
    raise ValueError(f"unknown Lipschitz method {method!r}; choose one of: {', '.join(METHODS)}")


def make_optimizer(params, config: CriticConfig) -> torch.optim.Optimizer:
    """RMSProp or Adam over ``params`` as ``config`` says."""
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=config.lr)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, betas=tuple(config.betas))
    raise ValueError(f"unknown optimizer {config.optimizer!r}; choose one of: rmsprop, adam")
