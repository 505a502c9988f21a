"""Every GAN loss of the book as a pure function of D's scores: GAN, LSGAN and WGAN.

The names follow the glossary of :mod:`ganlib`: ``d_real`` = D(x) on data x ~ P and
``d_fake`` = D(G(z)) on generated samples, shapes (B,) or (B, 1) (checked by
:func:`ganlib.checks.scores`; flatten patch scores with ``.reshape(-1)``). Each function
returns the quantity its player **minimizes**; ``<family>_d_loss(d_real, d_fake)`` is D's
loss and ``<family>_g_loss(d_fake)`` is G's.

* GAN (Goodfellow et al. 2014). D outputs a logit l, D(x) = sigmoid(l(x)), and with
  log D = -softplus(-l), log(1 - D) = -softplus(l) the value of the game is

      V(D, G) = E_P[log D(x)] + E_z[log(1 - D(G(z)))],

  which D *ascends* (:func:`gan_d_loss` = -V) and G *descends* (:func:`minimax_g_loss`), or,
  with the "log D trick", G minimizes :func:`nonsaturating_g_loss` = -E[log D(G(z))].
* LSGAN (Mao et al. 2017, targets a = 0, b = c = 1): :func:`lsgan_d_loss`, :func:`lsgan_g_loss`.
* WGAN (Arjovsky et al. 2017). D is a critic with real values; by Kantorovich-Rubinstein
  W1(P, Q) = sup_{||D||_Lip <= 1} E_P[D] - E_Q[D] (:func:`wasserstein_estimate`), which the
  critic ascends (:func:`wgan_d_loss`) and G descends (:func:`wgan_g_loss`). The Lipschitz
  constraint (clipping, gradient penalty) lives in :mod:`ganlib.wgan`.
* f-GAN (Nowozin et al. 2016): :func:`ganlib.fdiv.fgan_d_loss`, :func:`ganlib.fdiv.fgan_g_loss`.

:func:`get_loss` returns a :class:`GANLoss` (D's loss and G's loss) by name.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F

from . import checks, fdiv

LOG4 = math.log(4.0)


# ------------------------------------------------------------------------------------- GAN
def gan_value(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))] on a batch: D maximizes it, G minimizes it.

    ``d_real`` is the logit l(x) (B,) or (B, 1), ``d_fake`` is l(G(z)) (B',) or (B', 1);
    returns a scalar. V <= 0, and V = -log 4 where D = 1/2 everywhere.
    """
    d_real, d_fake = checks.scores("d_real", d_real), checks.scores("d_fake", d_fake)
    return -F.softplus(-d_real).mean() - F.softplus(d_fake).mean()


def gan_d_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """-V(D, G) = E[-log D(x)] + E[-log(1 - D(G(z)))]: binary cross-entropy; D minimizes it.

    Real samples carry label 1, generated ones label 0. Its minimum over D is
    log 4 - 2 JSD(P || P_G) (Goodfellow et al. 2014, Theorem 1). ``d_real`` (B,) or (B, 1)
    and ``d_fake`` (B',) or (B', 1) are logits; returns a scalar.
    """
    return -gan_value(d_real, d_fake)


def minimax_g_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """E[log(1 - D(G(z)))]: G's part of V; G minimizes it (the "saturating" loss).

    Its gradient vanishes where D(G(z)) is near 0, i.e. early in training. ``d_fake`` is the
    logit l(G(z)), (B,) or (B, 1); returns a scalar.
    """
    d_fake = checks.scores("d_fake", d_fake)
    return -F.softplus(d_fake).mean()


def nonsaturating_g_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """-E[log D(G(z))]: the "log D trick"; G minimizes it (the non-saturating loss).

    Same fixed points as :func:`minimax_g_loss`, but a large gradient where D(G(z)) is near 0.
    ``d_fake`` is the logit l(G(z)), (B,) or (B, 1); returns a scalar.
    """
    d_fake = checks.scores("d_fake", d_fake)
    return F.softplus(-d_fake).mean()


# ----------------------------------------------------------------------------------- LSGAN
def lsgan_d_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]: the least-squares loss of D; D minimizes it.

    Targets 1 for real and 0 for generated samples (Mao et al. 2017 with a = 0, b = 1);
    pointwise the minimizer is D* = p / (p + p_G). ``d_real`` (B,) or (B, 1) and ``d_fake``
    (B',) or (B', 1) are raw scores (no sigmoid); returns a scalar.
    """
    d_real, d_fake = checks.scores("d_real", d_real), checks.scores("d_fake", d_fake)
    return 0.5 * (d_real - 1).pow(2).mean() + 0.5 * d_fake.pow(2).mean()


def lsgan_g_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """1/2 E[(D(G(z)) - 1)^2]: the least-squares loss of G (target c = 1); G minimizes it.

    ``d_fake`` is the raw score D(G(z)), (B,) or (B, 1); returns a scalar.
    """
    d_fake = checks.scores("d_fake", d_fake)
    return 0.5 * (d_fake - 1).pow(2).mean()


# ------------------------------------------------------------------------------------ WGAN
def wasserstein_estimate(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """E[D(x)] - E[D(G(z))]: the critic's dual objective; W1(P, P_G) at an optimal 1-Lipschitz D.

    The critic maximizes it. ``d_real`` (B,) or (B, 1) and ``d_fake`` (B',) or (B', 1) are
    critic values; returns a scalar.
    """
    d_real, d_fake = checks.scores("d_real", d_real), checks.scores("d_fake", d_fake)
    return d_real.mean() - d_fake.mean()


def wgan_d_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """E[D(G(z))] - E[D(x)]: the critic minimizes it (it ascends :func:`wasserstein_estimate`).

    ``d_real`` (B,) or (B, 1) and ``d_fake`` (B',) or (B', 1) are critic values; returns a
    scalar. A gradient penalty is *added* to it by the training step
    (``train.d_step(..., penalty=wgan.gradient_penalty)``).
    """
    return -wasserstein_estimate(d_real, d_fake)


def wgan_g_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))]: G minimizes it (E[D(x)] does not depend on G).

    ``d_fake`` (B,) or (B, 1) is D(G(z)); returns a scalar. No gradient penalty belongs here:
    the penalty constrains the critic, and adding it to G's loss would push G towards points
    where the critic's slope is 1 instead of towards the data.
    """
    d_fake = checks.scores("d_fake", d_fake)
    return -d_fake.mean()


# -------------------------------------------------------------------------- look-up by name
@dataclass(frozen=True)
class GANLoss:
    """A named pair of losses: D minimizes ``d_loss(d_real, d_fake)``, G ``g_loss(d_fake)``."""

    name: str                                                        # key for get_loss
    d_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]     # (d_real, d_fake) -> scalar
    g_loss: Callable[[torch.Tensor], torch.Tensor]                   # d_fake -> scalar


LOSSES: dict[str, GANLoss] = {
    "gan": GANLoss("gan", gan_d_loss, nonsaturating_g_loss),
    "minimax": GANLoss("minimax", gan_d_loss, minimax_g_loss),
    "lsgan": GANLoss("lsgan", lsgan_d_loss, lsgan_g_loss),
    "wgan": GANLoss("wgan", wgan_d_loss, wgan_g_loss),
}


def _fgan_losses() -> dict[str, GANLoss]:
    """"fgan-<divergence>" -> the f-GAN pair with the "alternative" generator loss."""
    return {f"fgan-{name}": GANLoss(f"fgan-{name}", partial(fdiv.fgan_d_loss, name),
                                    partial(fdiv.fgan_g_loss, name, kind="alternative"))
            for name in fdiv.DIVERGENCES}


def get_loss(name: str) -> GANLoss:
    """The :class:`GANLoss` called ``name``; ValueError listing the choices otherwise.

    ``"gan"`` (D: :func:`gan_d_loss`, G: :func:`nonsaturating_g_loss`), ``"minimax"`` (G:
    :func:`minimax_g_loss`), ``"lsgan"``, ``"wgan"`` (without its Lipschitz constraint, see
    :mod:`ganlib.wgan`) and ``"fgan-<divergence>"`` for each divergence of
    :data:`ganlib.fdiv.DIVERGENCES`: D minimizes ``fdiv.fgan_d_loss(divergence, ...)`` and G the
    "alternative" loss ``fdiv.fgan_g_loss(divergence, d_fake, kind="alternative")`` = -E[g_f(V)]
    of Nowozin et al. (2016, Sec. 3.2).
    """
    return checks.lookup({**LOSSES, **_fgan_losses()}, name, "loss")
