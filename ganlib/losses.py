"""Vanilla GAN losses as pure functions of discriminator logits.

Notation: the discriminator outputs a logit ``l(x)`` and D(x) = sigmoid(l(x)). With

    log D(x)       = -softplus(-l(x))
    log(1 - D(x))  = -softplus(l(x))

the value of the game (Goodfellow et al. 2014, eq. 1) is

    V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p_z}[log(1 - D(G(z)))].

The discriminator *ascends* V, the generator *descends* it. Every function below returns a
quantity that its player *minimizes*, so all optimizers in the book call ``loss.backward()``.

``real_logits`` is l(x) for data x, ``fake_logits`` is l(G(z)); both have shape (B,) or (B, 1).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG4 = math.log(4.0)


def as_scores(name: str, t) -> torch.Tensor:
    """A batch of per-sample scores (logits or critic values) as shape (B,); accepts (B, 1).

    Raises TypeError for a non-tensor and ValueError for an empty or wrongly shaped one,
    naming the argument. Shared by every loss in ganlib (GAN, f-GAN, WGAN, PGGAN).
    """
    if not torch.is_tensor(t):
        raise TypeError(f"{name} must be a torch.Tensor of per-sample scores, got {type(t).__name__}")
    if t.numel() == 0:
        raise ValueError(f"{name} is empty")
    if t.dim() == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.dim() != 1:
        raise ValueError(f"{name} must have shape (B,) or (B, 1), got {tuple(t.shape)}")
    return t


def gan_value(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))], estimated on a batch (D maximizes it)."""
    real_logits = as_scores("real_logits", real_logits)
    fake_logits = as_scores("fake_logits", fake_logits)
    return -F.softplus(-real_logits).mean() - F.softplus(fake_logits).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-V(D, G) = E[-log D(x)] + E[-log(1 - D(G(z)))]: binary cross-entropy, D minimizes it.

    Real samples carry label 1, generated ones label 0. Its minimum over D is
    log 4 - 2 JSD(p_data || p_g) (Goodfellow et al. 2014, Theorem 1).
    """
    return -gan_value(real_logits, fake_logits)


def generator_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """E[log(1 - D(G(z)))]: the generator's part of V; G minimizes it ("saturating" loss).

    Its gradient vanishes where D(G(z)) is near 0, i.e. early in training.
    """
    fake_logits = as_scores("fake_logits", fake_logits)
    return -F.softplus(fake_logits).mean()


def generator_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(G(z))]: the "log D trick"; G minimizes it (non-saturating loss).

    Same fixed points as the minimax loss, but a large gradient where D(G(z)) is near 0.
    """
    fake_logits = as_scores("fake_logits", fake_logits)
    return F.softplus(-fake_logits).mean()


GENERATOR_LOSSES = {
    "minimax": generator_loss_minimax,
    "nonsaturating": generator_loss_nonsaturating,
}


def generator_loss(kind: str):
    """The generator loss called ``kind`` ("minimax" or "nonsaturating")."""
    try:
        return GENERATOR_LOSSES[kind]
    except (KeyError, TypeError):
        raise ValueError(f"unknown generator loss {kind!r}; choose one of: "
                         f"{', '.join(GENERATOR_LOSSES)}") from None
