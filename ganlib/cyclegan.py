"""CycleGAN (Zhu et al. 2017): two generators, two discriminators, and a cycle-consistency term.

Notation (the book's CycleGAN chapter): domains X and Y with data distributions mu and nu;
``D_x`` and ``D_y`` are the discriminators (they output raw scores: one per image, or one per
patch, a logit for the "gan" loss), ``G_xy``: X -> Y and ``G_yx``: Y -> X the generators.
As everywhere in ganlib, D comes before G in argument lists. The full objective

    L(G_xy, G_yx, D_x, D_y) = L_GAN(G_xy, D_y) + L_GAN(G_yx, D_x) + lam_cyc L_cyc + lam_id L_id

is *minimized* by the generators and the adversarial parts are *maximized* by the
discriminators (written below as losses that the discriminators minimize).

Ingredients of the official recipe available here:

* the least-squares GAN losses of Mao et al. 2017 (``"lsgan"``, the official choice) or the
  binary cross-entropy pair (``"gan"``), both from :func:`ganlib.losses.get_loss`; the
  patch scores are flattened to one score per patch before the loss;
* :func:`cycle_loss`, the L1 cycle-consistency term, weight lam_cyc = 10 in the paper;
* :func:`identity_loss`, ||G_xy(y) - y||_1, which asks a generator to leave an image that is
  already in its target domain unchanged;
* :class:`ImagePool`, the history of generated images of Shrivastava et al. (2017) from which
  the discriminators see a mix of old and new fakes.

For images: :class:`ResnetGenerator` and :class:`PatchDiscriminator` (the official networks,
scaled down to 16x16 digits), the two digit domains of the book's image example
(:data:`TRANSFORMS`: colour inversion and transposition, both involutions),
:class:`DomainClassifier` (the digit classifier read through such a transform, i.e. a
classifier for the transformed domain) and :func:`translation_metrics` (label preservation,
Frechet distance to the target domain, cycle error).
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from . import checks, losses, nets
from .checks import check_int
from .metrics import frechet_distance

GAN_LOSS_NAMES = ("lsgan", "gan")
"""The adversarial losses a CycleGAN can use (names of :func:`ganlib.losses.get_loss`)."""


# --------------------------------------------------------------------------- reconstruction terms
def cycle_loss(x: torch.Tensor, x_cycled: torch.Tensor) -> torch.Tensor:
    """E ||G_yx(G_xy(x)) - x||_1 / m: mean absolute error per coordinate; the generators minimize it.

    ``x`` is a batch (B, ...) and ``x_cycled`` = G_yx(G_xy(x)) of the same shape. Averaging over
    the m coordinates (as the official code's ``L1Loss`` does) rather than summing makes
    lam_cyc = 10 comparable across image sizes; eq. (4.5) of Wang (2020) sums, i.e. it is
    m times this value.
    """
    checks.check_tensor("x", x), checks.check_tensor("x_cycled", x_cycled)
    checks.same_shape("x", x, "x_cycled", x_cycled)
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
        check_int("pool size", size, 0)
        self.size = size
        self.generator = generator
        self.items: list[torch.Tensor] = []

    def _rand(self, *shape, high=None):
        dev = self.generator.device if self.generator is not None else torch.device("cpu")
        if high is None:
            return torch.rand(shape, generator=self.generator, device=dev)
        return torch.randint(high, shape, generator=self.generator, device=dev)

    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        fakes = checks.check_tensor("fakes", fakes).detach()
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

    gan_loss: str = "lsgan"   # "lsgan" (official) or "gan" (BCE, eqs. 4.3-4.4 of Wang 2020)
    lam_cyc: float = 10.0     # weight of the cycle-consistency term (paper: 10)
    lam_id: float = 0.0       # weight of the identity term, in units of lam_cyc (paper: 0.5)
    pool_size: int = 50       # history of fakes shown to the discriminators (paper: 50; 0 = off)
    lr: float = 2e-4          # Adam learning rate for all four networks (paper: 2e-4)
    betas: tuple = (0.5, 0.999)  # Adam betas (paper: (0.5, 0.999))

    def __post_init__(self):
        checks.check_choice("gan_loss", self.gan_loss, GAN_LOSS_NAMES)
        checks.check_positive("lam_cyc", self.lam_cyc, allow_zero=True)
        checks.check_positive("lam_id", self.lam_id, allow_zero=True)
        checks.check_positive("lr", self.lr)
        check_int("pool_size", self.pool_size, 0)


class CycleGAN(nn.Module):
    """The four networks and their two optimizers; :meth:`step` does one update of each side.

    ``D_x`` scores X, ``D_y`` scores Y, ``G_xy``: X -> Y, ``G_yx``: Y -> X. Both
    discriminators share one Adam optimizer, as do both generators (their losses are coupled
    by the cycle term). ``loss`` is the :class:`ganlib.losses.GANLoss` named by
    ``config.gan_loss``.
    """

    def __init__(self, D_x: nn.Module, D_y: nn.Module, G_xy: nn.Module, G_yx: nn.Module,
                 config: CycleGANConfig = CycleGANConfig(),
                 generator: torch.Generator | None = None):
        super().__init__()
        if not isinstance(config, CycleGANConfig):
            raise TypeError(f"config must be a CycleGANConfig, got {type(config).__name__}")
        self.D_x, self.D_y, self.G_xy, self.G_yx = D_x, D_y, G_xy, G_yx
        self.config = config
        self.loss = losses.get_loss(config.gan_loss)
        self.opt_d = torch.optim.Adam(list(D_x.parameters()) + list(D_y.parameters()),
                                      lr=config.lr, betas=config.betas)
        self.opt_g = torch.optim.Adam(list(G_xy.parameters()) + list(G_yx.parameters()),
                                      lr=config.lr, betas=config.betas)
        self.pool_x = ImagePool(config.pool_size, generator)   # fakes G_yx(y), shown to D_x
        self.pool_y = ImagePool(config.pool_size, generator)   # fakes G_xy(x), shown to D_y

    def step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """One generator update, then one discriminator update, on unpaired batches x ~ mu, y ~ nu.

        Generators minimize  g_loss(D_y(G_xy(x))) + g_loss(D_x(G_yx(y)))
                             + lam_cyc [cyc(x, G_yx(G_xy(x))) + cyc(y, G_xy(G_yx(y)))]
                             + lam_id lam_cyc [id(y, G_xy(y)) + id(x, G_yx(x))]
        with both discriminators :func:`ganlib.nets.frozen`; then the discriminators minimize
        d_loss(D_y(y), D_y(pool(G_xy(x)))) + d_loss(D_x(x), D_x(pool(G_yx(y)))). The losses
        are those of ``self.loss``, on the scores flattened to one per image or patch.
        Returns the detached terms.
        """
        c = self.config
        d_loss, g_loss = self.loss.d_loss, self.loss.g_loss
        with nets.frozen(self.D_x, self.D_y):
            fake_y, fake_x = self.G_xy(x), self.G_yx(y)
            adv = g_loss(self.D_y(fake_y).reshape(-1)) + g_loss(self.D_x(fake_x).reshape(-1))
            cyc = cycle_loss(x, self.G_yx(fake_y)) + cycle_loss(y, self.G_xy(fake_x))
            loss_g = adv + c.lam_cyc * cyc
            idt = torch.zeros((), device=x.device)
            if c.lam_id > 0:
                idt = identity_loss(y, self.G_xy(y)) + identity_loss(x, self.G_yx(x))
                loss_g = loss_g + c.lam_id * c.lam_cyc * idt
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
        fy, fx = self.pool_y.query(fake_y), self.pool_x.query(fake_x)
        loss_d = (d_loss(self.D_y(y).reshape(-1), self.D_y(fy).reshape(-1))
                  + d_loss(self.D_x(x).reshape(-1), self.D_x(fx).reshape(-1)))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return {"g_adv": adv.detach(), "cycle": cyc.detach(), "identity": idt.detach(),
                "d_loss": loss_d.detach()}


# --------------------------------------------------------------------------- image networks
class ResidualBlock(nn.Module):
    """x + [conv3x3 - InstanceNorm - ReLU - conv3x3 - InstanceNorm](x); shape preserved."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.InstanceNorm2d(channels), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1), nn.InstanceNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Image translator (B, C, H, W) -> (B, C, H, W) in [-1, 1]: the official CycleGAN generator, scaled down.

    conv3x3(c) - conv4x4/2(2c) - ``n_res`` residual blocks at half resolution - convT4x4/2(c)
    - conv3x3(C) - tanh, with instance norm and ReLU after every convolution but the last.
    (The official network for 256x256 photos uses c = 64, a 7x7 first layer, two
    down-samplings and 9 residual blocks.) H and W must be even.
    """

    def __init__(self, channels: int = 16, n_res: int = 1, image_channels: int = 1):
        super().__init__()
        c = check_int("channels", channels)
        check_int("n_res", n_res, 0)
        self.image_channels = check_int("image_channels", image_channels)
        self.net = nn.Sequential(
            nn.Conv2d(image_channels, c, 3, padding=1), nn.InstanceNorm2d(c), nn.ReLU(),         # (B, c, H, W)
            nn.Conv2d(c, 2 * c, 4, 2, 1), nn.InstanceNorm2d(2 * c), nn.ReLU(),                   # (B, 2c, H/2, W/2)
            *[ResidualBlock(2 * c) for _ in range(n_res)],                                      # (B, 2c, H/2, W/2)
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.InstanceNorm2d(c), nn.ReLU(),             # (B, c, H, W)
            nn.Conv2d(c, image_channels, 3, padding=1), nn.Tanh())                              # (B, C, H, W)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        checks.check_shape("x", checks.check_tensor("x", x), ("B", self.image_channels, "H", "W"))
        if x.shape[2] % 2 or x.shape[3] % 2:
            raise ValueError(f"x must have H and W positive multiples of 2, got {tuple(x.shape)}")
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """(B, C, H, W) -> raw scores (B, 1, H/4, W/4): one score per overlapping patch (PatchGAN).

    conv4x4/2(c) - LeakyReLU(0.2) - conv4x4/2(2c) - InstanceNorm - LeakyReLU(0.2) - conv3x3(1).
    Each score is computed from an 18x18-pixel window (through the convolutions; the instance
    norm's statistics span the whole image); the losses average over all scores
    (Isola et al. 2017; the official CycleGAN discriminator has three stride-2 layers and
    sees 70x70 patches). H and W must be multiples of 4.
    """

    def __init__(self, channels: int = 16, image_channels: int = 1):
        super().__init__()
        c = check_int("channels", channels)
        self.image_channels = check_int("image_channels", image_channels)
        self.net = nn.Sequential(
            nn.Conv2d(image_channels, c, 4, 2, 1), nn.LeakyReLU(0.2),                           # (B, c, H/2, W/2)
            nn.Conv2d(c, 2 * c, 4, 2, 1), nn.InstanceNorm2d(2 * c), nn.LeakyReLU(0.2),          # (B, 2c, H/4, W/4)
            nn.Conv2d(2 * c, 1, 3, padding=1))                                                  # (B, 1, H/4, W/4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        checks.check_shape("x", checks.check_tensor("x", x), ("B", self.image_channels, "H", "W"))
        if x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"x must have H and W positive multiples of 4, got {tuple(x.shape)}")
        return self.net(x)


# --------------------------------------------------------------------------- digit domains
def invert(x: torch.Tensor) -> torch.Tensor:
    """Colour inversion of images in [-1, 1]: v -> -v (white strokes on black become black on white)."""
    return -checks.check_tensor("x", x)


def transpose(x: torch.Tensor) -> torch.Tensor:
    """Transposition of (..., H, W) images: pixel (i, j) moves to (j, i) (a reflection in the diagonal)."""
    x = checks.check_tensor("x", x)
    if x.dim() < 2:
        raise ValueError(f"x must have at least two dimensions (..., H, W), got {tuple(x.shape)}")
    return x.transpose(-1, -2)


TRANSFORMS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "invert": invert,
    "transpose": transpose,
}
"""Domain Y = T(digits) for T in these; each T is an involution (T(T(x)) = x), so T^{-1} = T."""


def get_transform(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The transform called ``name`` in :data:`TRANSFORMS`; ValueError listing them otherwise."""
    return checks.lookup(TRANSFORMS, name, "transform")


class DomainClassifier:
    """A classifier for the domain Y = T(digits): the digit classifier applied after T^{-1}.

    ``clf`` is a :class:`ganlib.classifier.DigitClassifier` (or anything with ``predict``
    and ``features``) and ``to_digits`` = T^{-1} maps Y back to ordinary digits. Training a
    fresh classifier on T(digits) would only learn an equivalent network (for T a pixel
    permutation or a sign flip, the same weights permuted or negated), so reading Y through
    T^{-1} gives the domain's classifier and its features without a second training run.
    ``to_digits=None`` is the identity (the classifier of X itself).
    """

    def __init__(self, clf, to_digits: Callable[[torch.Tensor], torch.Tensor] | None = None):
        for name in ("predict", "features"):
            if not callable(getattr(clf, name, None)):
                raise TypeError(f"clf must have a {name}() method (a DigitClassifier), got "
                                f"{type(clf).__name__}")
        if to_digits is not None and not callable(to_digits):
            raise TypeError(f"to_digits must be callable or None, got {type(to_digits).__name__}")
        self.clf, self.to_digits = clf, (to_digits or (lambda y: y))

    def predict(self, y: torch.Tensor) -> torch.Tensor:
        """Predicted digit (B,) of domain images y."""
        return self.clf.predict(self.to_digits(y))

    def features(self, y: torch.Tensor) -> torch.Tensor:
        """Feature vectors (B, d) of domain images y (what the Frechet distance compares)."""
        return self.clf.features(self.to_digits(y))


@contextmanager
def _eval_mode(*modules):
    """Put the nn.Module ones among ``modules`` in eval mode, restoring their mode afterwards."""
    mods = [m for m in modules if isinstance(m, nn.Module)]
    modes = [m.training for m in mods]
    for m in mods:
        m.eval()
    try:
        yield
    finally:
        for m, was in zip(mods, modes):
            m.train(was)


def _apply(fn, x: torch.Tensor, chunk: int) -> torch.Tensor:
    return torch.cat([fn(x[i:i + chunk]) for i in range(0, len(x), chunk)])


@torch.no_grad()
def translation_metrics(G: Callable[[torch.Tensor], torch.Tensor], source: torch.Tensor,
                        labels: torch.Tensor, target_clf: DomainClassifier, target_ref: torch.Tensor,
                        G_back: Callable[[torch.Tensor], torch.Tensor] | None = None,
                        chunk: int = 512) -> dict[str, float]:
    """How well G translates ``source`` images (with digit ``labels``) into the target domain.

    * ``label_preservation``: share of G(source) that the target domain's classifier reads as
      the source image's digit (1 = every digit kept; 0.1 = chance for ten balanced classes);
    * ``fd``: Frechet distance between the target classifier's features of G(source) and of
      ``target_ref``, real images of the target domain (compare values at equal sizes only);
    * ``cycle`` (only with ``G_back``): mean |G_back(G(source)) - source| per pixel.

    G and G_back are networks (evaluated in eval mode) or plain functions such as
    :func:`invert`.
    """
    source = checks.check_tensor("source", source)
    target_ref = checks.check_tensor("target_ref", target_ref)
    for name, fn in (("G", G), ("G_back", G_back)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be a network or a function of a batch, got {type(fn).__name__}")
    if not torch.is_tensor(labels) or labels.shape != source.shape[:1]:
        raise ValueError(f"labels must be a tensor of shape ({len(source)},), got "
                         f"{tuple(getattr(labels, 'shape', ()))}")
    with _eval_mode(G, G_back):
        out = _apply(G, source, chunk)
        res = {"label_preservation": (target_clf.predict(out) == labels.to(out.device)).double().mean().item(),
               "fd": frechet_distance(target_clf.features(target_ref).cpu().numpy(),
                                      target_clf.features(out).cpu().numpy())}
        if G_back is not None:
            res["cycle"] = (_apply(G_back, out, chunk) - source).abs().mean().item()
    return res
