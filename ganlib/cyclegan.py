"""CycleGAN (Zhu et al. 2017): two generators, two discriminators, and a cycle-consistency term.

Notation (the book's CycleGAN chapter): domains X and Y with data distributions mu and nu;
``G_xy``: X -> Y and ``G_yx``: Y -> X are the generators, ``D_x`` and ``D_y`` the
discriminators (they output a raw score, a logit for the BCE loss). The full objective

    L(G_xy, G_yx, D_x, D_y) = L_GAN(G_xy, D_y) + L_GAN(G_yx, D_x) + lam_cyc L_cyc + lam_id L_id

is *minimized* by the generators and the adversarial parts are *maximized* by the
discriminators (written below as losses that the discriminators minimize).

Ingredients of the official recipe available here:

* least-squares GAN losses (Mao et al. 2017): :func:`lsgan_discriminator_loss`,
  :func:`lsgan_generator_loss`; the binary cross-entropy pair lives in :mod:`ganlib.losses`;
* :func:`cycle_loss`, the L1 cycle-consistency term, weight lam_cyc = 10 in the paper;
* :func:`identity_loss`, ||G_xy(y) - y||_1, which asks a generator to leave an image that is
  already in its target domain unchanged;
* :class:`ImagePool`, the history of generated images of Shrivastava et al. (2017) from which
  the discriminators see a mix of old and new fakes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import losses


def _check(name: str, t) -> torch.Tensor:
    if not torch.is_tensor(t):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.numel() == 0:
        raise ValueError(f"{name} is empty")
    return t


# --------------------------------------------------------------------------- adversarial losses
def lsgan_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(y))^2]: the least-squares discriminator loss, D minimizes it.

    ``real_scores`` is D(x) on data of D's domain, ``fake_scores`` is D(G(y)) on translated
    samples (any shape). Targets 1 for real and 0 for fake (Mao et al. 2017, a=0, b=1).
    """
    real_scores, fake_scores = _check("real_scores", real_scores), _check("fake_scores", fake_scores)
    return 0.5 * (real_scores - 1).pow(2).mean() + 0.5 * fake_scores.pow(2).mean()


def lsgan_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """1/2 E[(D(G(y)) - 1)^2]: the least-squares generator loss, G minimizes it (target c = 1)."""
    fake_scores = _check("fake_scores", fake_scores)
    return 0.5 * (fake_scores - 1).pow(2).mean()


def _bce_d(real, fake):
    return losses.discriminator_loss(real.reshape(-1), fake.reshape(-1))


def _bce_g(fake):
    return losses.generator_loss_nonsaturating(fake.reshape(-1))


GAN_LOSSES = {
    "lsgan": (lsgan_discriminator_loss, lsgan_generator_loss),
    "bce": (_bce_d, _bce_g),
}


def gan_losses(kind: str) -> tuple[Callable, Callable]:
    """(discriminator loss, generator loss) for ``kind`` in {"lsgan", "bce"}.

    "bce" is the vanilla pair of eqs. (4.3)-(4.4) of Wang (2020) with the non-saturating
    generator loss; "lsgan" is the least-squares pair used by the official CycleGAN code.
    """
    try:
        return GAN_LOSSES[kind]
    except (KeyError, TypeError):
        raise ValueError(f"unknown GAN loss {kind!r}; choose one of: {', '.join(GAN_LOSSES)}") from None


# --------------------------------------------------------------------------- reconstruction terms
def cycle_loss(x: torch.Tensor, x_cycled: torch.Tensor) -> torch.Tensor:
    """E ||G_yx(G_xy(x)) - x||_1 / m: mean absolute error per coordinate; the generators minimize it.

    ``x`` is a batch (B, ...) and ``x_cycled`` = G_yx(G_xy(x)) of the same shape. Averaging over
    the m coordinates (as the official code's ``L1Loss`` does) rather than summing makes
    lam_cyc = 10 comparable across image sizes; eq. (4.5) of Wang (2020) sums, i.e. it is
    m times this value.
    """
    x, x_cycled = _check("x", x), _check("x_cycled", x_cycled)
    if x.shape != x_cycled.shape:
        raise ValueError(f"x and x_cycled must have the same shape, got {tuple(x.shape)} and "
                         f"{tuple(x_cycled.shape)}")
    return (x_cycled - x).abs().mean()


def identity_loss(y: torch.Tensor, g_y: torch.Tensor) -> torch.Tensor:
    """E ||G_xy(y) - y||_1 / m for y already in G_xy's target domain Y; minimized by G_xy."""
    return cycle_loss(y, g_y)


# --------------------------------------------------------------------------- history of fakes
class ImagePool:
    """A buffer of up to ``size`` past generated samples (Shrivastava et al. 2017).

    ``query(fakes)`` returns a batch of the same shape for the discriminator: while the pool
    is filling, the fakes themselves (and they are stored); afterwards each sample is, with
    probability 1/2, swapped for a uniformly chosen stored one (which the new sample replaces).
    The discriminator so keeps seeing older generator outputs, which damps oscillations.
    ``size=0`` disables the pool. Samples are stored detached.
    """

    def __init__(self, size: int = 50, generator: torch.Generator | None = None):
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"pool size must be a non-negative integer, got {size!r}")
        self.size = size
        self.generator = generator
        self.items: list[torch.Tensor] = []

    def _rand(self, *shape, high=None):
        dev = self.generator.device if self.generator is not None else torch.device("cpu")
        if high is None:
            return torch.rand(shape, generator=self.generator, device=dev)
        return torch.randint(high, shape, generator=self.generator, device=dev)

    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        fakes = _check("fakes", fakes).detach()
        if self.size == 0:
            return fakes
        out = []
        for f in fakes:
            if len(self.items) < self.size:
                self.items.append(f.clone())
                out.append(f)
            elif float(self._rand(1)[0]) < 0.5:
                j = int(self._rand(1, high=self.size)[0])
                out.append(self.items[j])
                self.items[j] = f.clone()
            else:
                out.append(f)
        return torch.stack(out)

    def __len__(self) -> int:
        return len(self.items)


# --------------------------------------------------------------------------- one training step
@dataclass(frozen=True)
class CycleGANConfig:
    """Weights and switches of a CycleGAN run (printed at the start of each run)."""

    gan_loss: str = "lsgan"   # "lsgan" (official) or "bce" (eqs. 4.3-4.4)
    lam_cyc: float = 10.0     # weight of the cycle-consistency term (paper: 10)
    lam_id: float = 0.0       # weight of the identity term, in units of lam_cyc (paper: 0.5)
    pool_size: int = 50       # history of fakes shown to the discriminators (paper: 50; 0 = off)
    lr: float = 2e-4          # Adam learning rate for all four networks (paper: 2e-4)
    betas: tuple = (0.5, 0.999)  # Adam betas (paper: (0.5, 0.999))

    def __post_init__(self):
        gan_losses(self.gan_loss)
        for name in ("lam_cyc", "lam_id", "lr"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"{name} must be a non-negative number, got {v!r}")


class CycleGAN(nn.Module):
    """The four networks and their two optimizers; :meth:`step` does one update of each side.

    ``G_xy``: X -> Y, ``G_yx``: Y -> X, ``D_x`` scores X, ``D_y`` scores Y. Both generators
    share one Adam optimizer (their losses are coupled by the cycle term), as do both
    discriminators.
    """

    def __init__(self, G_xy: nn.Module, G_yx: nn.Module, D_x: nn.Module, D_y: nn.Module,
                 config: CycleGANConfig = CycleGANConfig(),
                 generator: torch.Generator | None = None):
        super().__init__()
        self.G_xy, self.G_yx, self.D_x, self.D_y = G_xy, G_yx, D_x, D_y
        self.config = config
        self.d_loss_fn, self.g_loss_fn = gan_losses(config.gan_loss)
        self.opt_g = torch.optim.Adam(list(G_xy.parameters()) + list(G_yx.parameters()),
                                      lr=config.lr, betas=config.betas)
        self.opt_d = torch.optim.Adam(list(D_x.parameters()) + list(D_y.parameters()),
                                      lr=config.lr, betas=config.betas)
        self.pool_x = ImagePool(config.pool_size, generator)   # fakes G_yx(y), shown to D_x
        self.pool_y = ImagePool(config.pool_size, generator)   # fakes G_xy(x), shown to D_y

    def step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """One generator update, then one discriminator update, on unpaired batches x ~ mu, y ~ nu.

        Generators minimize  g_loss(D_y(G_xy(x))) + g_loss(D_x(G_yx(y)))
                             + lam_cyc [cyc(x, G_yx(G_xy(x))) + cyc(y, G_xy(G_yx(y)))]
                             + lam_id lam_cyc [id(y, G_xy(y)) + id(x, G_yx(x))];
        discriminators minimize d_loss(D_y(y), D_y(pool(G_xy(x)))) + d_loss(D_x(x), D_x(pool(G_yx(y)))).
        Returns the detached terms.
        """
        c = self.config
        discs = list(self.D_x.parameters()) + list(self.D_y.parameters())
        for p in discs:
            p.requires_grad_(False)
        try:
            fake_y, fake_x = self.G_xy(x), self.G_yx(y)
            adv = self.g_loss_fn(self.D_y(fake_y)) + self.g_loss_fn(self.D_x(fake_x))
            cyc = cycle_loss(x, self.G_yx(fake_y)) + cycle_loss(y, self.G_xy(fake_x))
            loss_g = adv + c.lam_cyc * cyc
            idt = torch.zeros((), device=x.device)
            if c.lam_id > 0:
                idt = identity_loss(y, self.G_xy(y)) + identity_loss(x, self.G_yx(x))
                loss_g = loss_g + c.lam_id * c.lam_cyc * idt
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
        finally:
            for p in discs:
                p.requires_grad_(True)
        fy, fx = self.pool_y.query(fake_y), self.pool_x.query(fake_x)
        loss_d = self.d_loss_fn(self.D_y(y), self.D_y(fy)) + self.d_loss_fn(self.D_x(x), self.D_x(fx))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return {"g_adv": adv.detach(), "cycle": cyc.detach(), "identity": idt.detach(),
                "d_loss": loss_d.detach()}
