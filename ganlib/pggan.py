"""Progressive growing of GANs (Karras et al. 2018): layers, growing networks, fade-in schedule.

The four ingredients of PGGAN, each a small tested piece:

* **Equalized learning rate**: a layer stores its weight ``W ~ N(0, 1)`` and uses the
  effective weight ``c W`` with the He constant ``c = gain / sqrt(fan_in)`` (``gain = sqrt(2)``
  before a leaky ReLU) at *every* forward pass, not only at initialisation
  (:class:`EqualizedConv2d`, :class:`EqualizedLinear`).
* **Pixelwise feature normalization**: ``b_{x,y} = a_{x,y} / sqrt(mean_j (a^j_{x,y})^2 + eps)``
  over the channels ``j`` at each pixel (:func:`pixel_norm`), used in the generator.
* **Minibatch standard deviation**: one extra feature map holding the average, over channels
  and positions, of the per-feature standard deviation across the (group of the) batch
  (:func:`minibatch_std`), used in the discriminator's last block.
* **Growing with fade-in**: stage ``s`` works at resolution ``4 * 2**s``. While stage ``s`` is
  faded in, the generator outputs

      (1 - alpha) * upsample(toRGB_{s-1}(h)) + alpha * toRGB_s(block_s(h)),

  with nearest-neighbour upsampling, and the discriminator symmetrically reads
  ``(1 - alpha) * fromRGB_{s-1}(avgpool(x)) + alpha * block_s(fromRGB_s(x))``;
  ``alpha`` ramps from 0 to 1 (:class:`GrowthSchedule`). Real images are pooled to the
  current resolution and blended the same way (:func:`real_images_at`).

Shapes: images are (B, C, R, R) with R = 4 * 2**stage; latent codes are (B, latent_dim).
The discriminator returns raw scores of shape (B,): a WGAN critic value, or a logit for the
losses of :mod:`ganlib.losses`.

PGGAN trains with the WGAN-GP loss (Gulrajani et al. 2017): ``losses.wgan_d_loss`` and
``losses.wgan_g_loss``, with the penalty ``wgan.gradient_penalty``, plus one penalty of its
own: :func:`drift_penalty` ``eps_drift * E[D(x)^2]`` on real samples, which keeps the critic's
values near 0. Both penalties are added to the critic's loss (the critic minimizes it):
``train.d_step(D, G, opt_d, real, z, losses.wgan_d_loss, penalty=lambda D, r, f:
wgan.gradient_penalty(D, r, f) + pggan.drift_penalty(D, r, f))``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import checks
from .checks import check_int

__all__ = [
    "he_constant", "EqualizedConv2d", "EqualizedLinear", "pixel_norm", "PixelNorm",
    "minibatch_std", "MinibatchStd", "upsample", "downsample", "resolution",
    "ProgressiveGenerator", "ProgressiveDiscriminator", "AtStage", "GrowthSchedule",
    "real_images_at", "drift_penalty",
]

LRELU_SLOPE = 0.2


def he_constant(fan_in: int, gain: float = math.sqrt(2.0)) -> float:
    """c = gain / sqrt(fan_in): He et al.'s initialisation std, sqrt(2 / fan_in) for gain sqrt 2."""
    check_int("fan_in", fan_in)
    gain = checks.check_positive("gain", gain)
    return gain / math.sqrt(fan_in)


class EqualizedConv2d(nn.Module):
    """y = conv2d(x, c W) + b, W ~ N(0, 1) stored, c = gain / sqrt(in_channels * k * k).

    Input (B, in_channels, H, W) -> output (B, out_channels, H', W') as for ``nn.Conv2d`` with
    the same ``kernel_size`` and ``padding``. The scale is applied at run time, so an optimizer
    that normalizes gradient magnitudes (Adam) moves every layer's effective weight by the same
    amount *relative to its scale* (Karras et al. 2018, sec. 4.1).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, padding: int = 0,
                 gain: float = math.sqrt(2.0)):
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("kernel_size", kernel_size)):
            check_int(name, v)
        check_int("padding", padding, 0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.scale = he_constant(in_channels * kernel_size * kernel_size, gain)
        self.padding = padding

    def effective_weight(self) -> torch.Tensor:
        """c W, the weight the convolution actually uses; shape (out, in, k, k)."""
        return self.weight * self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.effective_weight(), self.bias, padding=self.padding)

    def extra_repr(self) -> str:
        o, i, k, _ = self.weight.shape
        return f"{i}, {o}, kernel_size={k}, padding={self.padding}, scale={self.scale:.4g}"


class EqualizedLinear(nn.Module):
    """y = x (c W)^T + b, W ~ N(0, 1) stored, c = gain / sqrt(in_features); (B, in) -> (B, out)."""

    def __init__(self, in_features: int, out_features: int, gain: float = math.sqrt(2.0)):
        super().__init__()
        check_int("in_features", in_features)
        check_int("out_features", out_features)
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.scale = he_constant(in_features, gain)

    def effective_weight(self) -> torch.Tensor:
        """c W; shape (out_features, in_features)."""
        return self.weight * self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.effective_weight(), self.bias)

    def extra_repr(self) -> str:
        o, i = self.weight.shape
        return f"{i}, {o}, scale={self.scale:.4g}"


def pixel_norm(a: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """b_{x,y} = a_{x,y} / sqrt(mean_j (a^j_{x,y})^2 + eps), the mean over channels j.

    ``a`` is (B, C, H, W) (each pixel's feature vector is normalized) or (B, C) (each row is
    normalized, e.g. the latent code). Returns a new tensor of the same shape.
    """
    checks.check_tensor("a", a, dims=(2, 4))
    eps = checks.check_positive("eps", eps, allow_zero=True)
    return a * torch.rsqrt(a.pow(2).mean(dim=1, keepdim=True) + eps)


class PixelNorm(nn.Module):
    """Module form of :func:`pixel_norm`."""

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = eps

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return pixel_norm(a, self.eps)


def minibatch_std(x: torch.Tensor, group_size: int | None = None, eps: float = 1e-8) -> torch.Tensor:
    """Append s = mean_{c,h,w} sqrt(Var_group(x[:, c, h, w]) + eps) as one constant feature map.

    ``x`` is (B, C, H, W); the output is (B, C + 1, H, W). The variance is the population
    variance (divide by the group size) over the samples of a group: the whole batch when
    ``group_size`` is None, else consecutive groups of ``group_size`` samples (which must
    divide B; Karras et al. use 4). Every sample of a group receives its group's s at every
    position. A collapsed group (identical samples) gets s = sqrt(eps), which the
    discriminator can tell from the spread of real batches.
    """
    checks.check_tensor("x", x, dims=4)
    B = x.shape[0]
    g = B if group_size is None else check_int("group_size", group_size)
    if B % g != 0:
        raise ValueError(f"group_size={g} must divide the batch size {B}")
    y = x.reshape(B // g, g, *x.shape[1:])                       # (G, g, C, H, W)
    var = (y - y.mean(dim=1, keepdim=True)).pow(2).mean(dim=1)    # (G, C, H, W)
    s = torch.sqrt(var + eps).mean(dim=(1, 2, 3))                 # (G,)
    s = s.repeat_interleave(g).view(B, 1, 1, 1).expand(B, 1, *x.shape[2:])  # (B, 1, H, W)
    return torch.cat([x, s], dim=1)


class MinibatchStd(nn.Module):
    """Module form of :func:`minibatch_std`: (B, C, H, W) -> (B, C + 1, H, W)."""

    def __init__(self, group_size: int | None = None, eps: float = 1e-8):
        super().__init__()
        self.group_size, self.eps = group_size, eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return minibatch_std(x, self.group_size, self.eps)


def upsample(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Nearest-neighbour upsampling: (B, C, H, W) -> (B, C, factor H, factor W)."""
    checks.check_tensor("x", x, dims=4)
    check_int("factor", factor)
    return F.interpolate(x, scale_factor=factor, mode="nearest")


def downsample(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Average pooling over factor x factor blocks: (B, C, H, W) -> (B, C, H/factor, W/factor)."""
    checks.check_tensor("x", x, dims=4)
    check_int("factor", factor)
    if x.shape[-1] % factor or x.shape[-2] % factor:
        raise ValueError(f"image size {tuple(x.shape[-2:])} is not divisible by factor={factor}")
    return F.avg_pool2d(x, factor)


def resolution(stage: int) -> int:
    """R = 4 * 2**stage, the image side at growth stage ``stage`` (0 -> 4, 1 -> 8, 2 -> 16)."""
    check_int("stage", stage, 0)
    return 4 * 2 ** stage


def _lrelu(x):
    return F.leaky_relu(x, LRELU_SLOPE)


class _Growing(nn.Module):
    """What the growing networks share: ``channels`` (one width per stage) and (stage, alpha)."""

    def __init__(self, channels):
        super().__init__()
        self.channels = tuple(channels)
        if len(self.channels) == 0:
            raise ValueError("channels must list at least one width (the 4x4 stage)")
        for i, c in enumerate(self.channels):
            check_int(f"channels[{i}]", c)

    @property
    def n_stages(self) -> int:
        return len(self.channels)

    def _stage_alpha(self, stage, alpha) -> tuple[int, float]:
        """(stage, alpha) with stage None read as the last stage, both checked."""
        stage = self.n_stages - 1 if stage is None else check_int("stage", stage, 0)
        if stage >= self.n_stages:
            raise ValueError(f"stage must be an integer in 0..{self.n_stages - 1}, got {stage!r}")
        return stage, checks.check_probability("alpha", alpha)

    def at(self, stage: int | None = None, alpha: float = 1.0) -> "AtStage":
        """A view of this network fixed at (stage, alpha) that shares its parameters."""
        self._stage_alpha(stage, alpha)
        return AtStage(self, stage, alpha)


class ProgressiveGenerator(_Growing):
    """G: z (B, latent_dim) -> image (B, img_channels, R, R), R = 4 * 2**stage.

    ``channels[s]`` is the width of stage ``s``. Stage 0 maps the pixel-normalized code by an
    equalized dense layer to a (channels[0], 4, 4) map followed by a 3x3 convolution; stage
    s >= 1 upsamples (nearest) and applies two 3x3 convolutions. Every convolution is
    equalized and followed by a leaky ReLU (slope 0.2) and :func:`pixel_norm`. ``toRGB_s`` is
    an equalized 1x1 convolution with a linear output (gain 1), as in the paper.
    """

    def __init__(self, latent_dim: int, channels, img_channels: int = 1):
        super().__init__(channels)
        check_int("latent_dim", latent_dim)
        check_int("img_channels", img_channels)
        self.latent_dim, self.img_channels = latent_dim, img_channels
        c0 = self.channels[0]
        # Karras et al.'s code uses gain sqrt(2)/4 for the first dense layer (16 outputs per unit).
        self.dense = EqualizedLinear(latent_dim, c0 * 16, gain=math.sqrt(2.0) / 4)
        self.conv0 = EqualizedConv2d(c0, c0, 3, padding=1)
        self.blocks = nn.ModuleList([nn.Identity()])  # stage 0 is dense + conv0
        for a, b in zip(self.channels[:-1], self.channels[1:]):
            self.blocks.append(nn.ModuleDict({"conv1": EqualizedConv2d(a, b, 3, padding=1),
                                              "conv2": EqualizedConv2d(b, b, 3, padding=1)}))
        self.to_rgb = nn.ModuleList([EqualizedConv2d(c, img_channels, 1, gain=1.0)
                                     for c in self.channels])

    def _block(self, s: int, h: torch.Tensor) -> torch.Tensor:
        blk = self.blocks[s]
        h = upsample(h)                                     # (B, C_{s-1}, R/2, R/2) -> (.., R, R)
        h = pixel_norm(_lrelu(blk["conv1"](h)))             # (B, C_s, R, R)
        return pixel_norm(_lrelu(blk["conv2"](h)))

    def features(self, z: torch.Tensor, stage: int) -> torch.Tensor:
        """h_stage: the (B, channels[stage], R, R) features before toRGB (alpha = 1 path)."""
        if not torch.is_tensor(z) or z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must be a tensor of shape (B, {self.latent_dim}), got "
                             f"{tuple(z.shape) if torch.is_tensor(z) else type(z).__name__}")
        h = self.dense(pixel_norm(z)).view(-1, self.channels[0], 4, 4)   # (B, C_0, 4, 4)
        h = pixel_norm(_lrelu(h))
        h = pixel_norm(_lrelu(self.conv0(h)))
        for s in range(1, stage + 1):
            h = self._block(s, h)
        return h

    def forward(self, z: torch.Tensor, stage: int | None = None, alpha: float = 1.0) -> torch.Tensor:
        """(1 - alpha) upsample(toRGB_{s-1}(h_{s-1})) + alpha toRGB_s(block_s(h_{s-1})).

        ``stage`` defaults to the last one; at stage 0 or alpha = 1 only the new path is used.
        """
        stage, alpha = self._stage_alpha(stage, alpha)
        if stage == 0 or alpha == 1.0:
            return self.to_rgb[stage](self.features(z, stage))
        h = self.features(z, stage - 1)                      # (B, C_{s-1}, R/2, R/2)
        old = upsample(self.to_rgb[stage - 1](h))            # (B, img, R, R)
        new = self.to_rgb[stage](self._block(stage, h))      # (B, img, R, R)
        return torch.lerp(old, new, alpha)


class ProgressiveDiscriminator(_Growing):
    """D: image (B, img_channels, R, R) -> score (B,), the mirror image of the generator.

    ``fromRGB_s`` is an equalized 1x1 convolution + leaky ReLU into ``channels[s]``; block
    s >= 1 is two equalized 3x3 convolutions (channels[s] -> channels[s] -> channels[s-1])
    and a 2x2 average pool; the 4x4 head appends the minibatch standard deviation
    (:func:`minibatch_std` with ``group_size``), applies a 3x3 convolution, a dense layer and
    a linear output (gain 1). No normalization layers: the scores are raw (a WGAN critic or a
    logit).
    """

    def __init__(self, channels, img_channels: int = 1, group_size: int | None = None):
        super().__init__(channels)
        check_int("img_channels", img_channels)
        if group_size is not None:
            check_int("group_size", group_size)
        self.img_channels, self.group_size = img_channels, group_size
        c0 = self.channels[0]
        self.from_rgb = nn.ModuleList([EqualizedConv2d(img_channels, c, 1) for c in self.channels])
        self.blocks = nn.ModuleList([nn.Identity()])
        for a, b in zip(self.channels[:-1], self.channels[1:]):
            self.blocks.append(nn.ModuleDict({"conv1": EqualizedConv2d(b, b, 3, padding=1),
                                              "conv2": EqualizedConv2d(b, a, 3, padding=1)}))
        self.head_conv = EqualizedConv2d(c0 + 1, c0, 3, padding=1)
        self.head_dense = EqualizedLinear(c0 * 16, c0)
        self.head_out = EqualizedLinear(c0, 1, gain=1.0)

    def _block(self, s: int, h: torch.Tensor) -> torch.Tensor:
        blk = self.blocks[s]
        h = _lrelu(blk["conv1"](h))                         # (B, C_s, R, R)
        h = _lrelu(blk["conv2"](h))                         # (B, C_{s-1}, R, R)
        return downsample(h)                                # (B, C_{s-1}, R/2, R/2)

    def forward(self, x: torch.Tensor, stage: int | None = None, alpha: float = 1.0) -> torch.Tensor:
        """Read x at stage s: (1 - alpha) fromRGB_{s-1}(avgpool(x)) + alpha block_s(fromRGB_s(x))."""
        stage, alpha = self._stage_alpha(stage, alpha)
        checks.check_tensor("x", x, dims=4)
        R = resolution(stage)
        if tuple(x.shape[1:]) != (self.img_channels, R, R):
            raise ValueError(f"stage {stage} expects images of shape (B, {self.img_channels}, "
                             f"{R}, {R}), got {tuple(x.shape)}")
        h = self._block(stage, _lrelu(self.from_rgb[stage](x))) if stage > 0 else \
            _lrelu(self.from_rgb[0](x))
        if stage > 0 and alpha < 1.0:
            old = _lrelu(self.from_rgb[stage - 1](downsample(x)))   # (B, C_{s-1}, R/2, R/2)
            h = torch.lerp(old, h, alpha)
        for s in range(stage - 1, 0, -1):
            h = self._block(s, h)
        h = minibatch_std(h, self.group_size)               # (B, C_0 + 1, 4, 4)
        h = _lrelu(self.head_conv(h))                       # (B, C_0, 4, 4)
        h = _lrelu(self.head_dense(h.flatten(1)))           # (B, C_0)
        return self.head_out(h)[:, 0]                       # (B,)


class AtStage(nn.Module):
    """``net`` fixed at (stage, alpha): ``AtStage(G, 1, 0.5)(z) == G(z, 1, 0.5)``.

    It holds ``net`` as a submodule, so its parameters *are* the network's: it can be handed
    to :func:`ganlib.train.d_step` / :func:`ganlib.train.g_step`, which call ``G(z)``, ``D(x)``.
    """

    def __init__(self, net: _Growing, stage: int | None, alpha: float):
        super().__init__()
        self.net, self.stage, self.alpha = net, stage, float(alpha)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x, self.stage, self.alpha)


@dataclass(frozen=True)
class GrowthSchedule:
    """Which stage and fade-in alpha to train at, as a function of the step.

    Stage 0 (4x4) trains for ``stable`` steps. Each later stage s is first faded in for
    ``fade`` steps, alpha rising linearly from 0 to 1, then trained for ``stable`` steps at
    alpha = 1. Total ``stable + (n_stages - 1) * (fade + stable)`` steps; after that the
    schedule stays at the last stage with alpha = 1.
    """

    n_stages: int  # number of resolutions, 4x4 up to 4 * 2**(n_stages - 1)
    stable: int    # steps at alpha = 1 per stage
    fade: int      # steps of linear fade-in per stage s >= 1

    def __post_init__(self):
        check_int("n_stages", self.n_stages)
        check_int("stable", self.stable)
        check_int("fade", self.fade)

    @property
    def total(self) -> int:
        return self.stable + (self.n_stages - 1) * (self.fade + self.stable)

    def __call__(self, step: int) -> tuple[int, float]:
        """(stage, alpha) at 0-based ``step``."""
        check_int("step", step, 0)
        if step < self.stable:
            return 0, 1.0
        t = step - self.stable
        stage = 1 + t // (self.fade + self.stable)
        if stage >= self.n_stages:
            return self.n_stages - 1, 1.0
        r = t % (self.fade + self.stable)
        return stage, (r / self.fade if r < self.fade else 1.0)


def drift_penalty(D, real: torch.Tensor, fake: torch.Tensor,
                  eps_drift: float = 1e-3) -> torch.Tensor:
    """eps_drift * E[D(x)^2]: PGGAN's penalty keeping critic values near 0 (Karras et al. 2018).

    A penalty in the sense of the glossary, added to the critic's loss, which the critic
    minimizes. ``real`` is a batch of data x (B, ...) and D(x) must be (B,) or (B, 1);
    ``fake`` is not used (the penalty is on real samples only). Karras et al. use
    eps_drift = 0.001. Returns a scalar.
    """
    eps_drift = checks.check_positive("eps_drift", eps_drift, allow_zero=True)
    return eps_drift * checks.scores("d_real", D(real)).pow(2).mean()


def real_images_at(x: torch.Tensor, stage: int, alpha: float = 1.0) -> torch.Tensor:
    """Real images as the discriminator sees them at (stage, alpha).

    ``x`` is (B, C, S, S) at full size S; it is average-pooled to R = 4 * 2**stage and, during
    a fade-in (alpha < 1), blended like the generator's output (Karras et al. 2018, sec. 3):
    (1 - alpha) * upsample(avgpool(x_R)) + alpha * x_R. Returns (B, C, R, R).
    """
    checks.check_tensor("x", x, dims=4)
    R = resolution(stage)
    alpha = checks.check_probability("alpha", alpha)
    S = x.shape[-1]
    if x.shape[-2] != S or S < R or S % R:
        raise ValueError(f"images of size {tuple(x.shape[-2:])} cannot be pooled to {R}x{R} "
                         f"(stage {stage}); the side must be a multiple of {R}")
    xr = F.avg_pool2d(x, S // R) if S > R else x               # (B, C, R, R)
    if stage == 0 or alpha == 1.0:
        return xr
    return torch.lerp(upsample(downsample(xr)), xr, alpha)
