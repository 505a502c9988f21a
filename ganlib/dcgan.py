"""DCGAN (Radford et al. 2016): convolutional generator and discriminator, and a fast step.

The networks follow the five architectural guidelines of the paper (each is marked in the
code below with its reason):

1. no pooling: the discriminator downsamples with strided convolutions, the generator
   upsamples with fractional-strided (transposed) convolutions, so resampling is learned;
2. batch normalization in both networks, except the generator's output layer and the
   discriminator's input layer;
3. no fully connected hidden layers: z is reshaped to a (nz, 1, 1) "image" and the
   discriminator's last layer is a convolution that covers the whole 4x4 map;
4. ReLU in the generator, tanh at its output (data live in [-1, 1]);
5. LeakyReLU (slope 0.2) in the discriminator.

At ``size=64, channels=3, nz=100, ngf=ndf=64`` the networks are those of the pytorch/examples
``dcgan`` script. Both networks are defined for any power-of-two size >= 8: the generator
maps z to a 4x4 map and doubles the side log2(size) - 2 times; the discriminator mirrors it.

Fractional-strided convolution is written out in :func:`conv_transpose_by_zero_insertion`
(zero insertion, padding, an ordinary convolution with the flipped kernel), with the output
size formulas :func:`conv_output_size` and :func:`conv_transpose_output_size` (Dumoulin and
Visin 2016).

:class:`FastGANStep` is the same training step as :func:`ganlib.train.d_step` followed by
:func:`ganlib.train.g_step`, organised for speed: data and noise in preallocated device
buffers, losses accumulated on the device (no host synchronisation per step), and on CUDA,
as explicit options scoped to its own step, TF32, bf16 autocast, channels_last buffers and
the whole step captured in one CUDA graph. :func:`to_channels_last` converts the networks
themselves, when the caller asks for it.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import checks, losses, nets
from .checks import check_int
from .train import check_finite


# ----------------------------------------------------------------------------- sizes
def conv_output_size(i: int, k: int, s: int = 1, p: int = 0) -> int:
    """o = floor((i + 2p - k) / s) + 1: output length of a convolution (input i, kernel k, stride s, padding p)."""
    check_int("i", i, 1), check_int("k", k, 1), check_int("s", s, 1), check_int("p", p, 0)
    if i + 2 * p < k:
        raise ValueError(f"kernel {k} is larger than the padded input {i + 2 * p}")
    return (i + 2 * p - k) // s + 1


def conv_transpose_output_size(i: int, k: int, s: int = 1, p: int = 0, output_padding: int = 0) -> int:
    """o = (i - 1) s - 2p + k + output_padding: output length of a transposed convolution."""
    check_int("i", i, 1), check_int("k", k, 1), check_int("s", s, 1), check_int("p", p, 0)
    check_int("output_padding", output_padding, 0)
    if output_padding >= s:
        raise ValueError(f"output_padding must be smaller than the stride {s}, got {output_padding}")
    return (i - 1) * s - 2 * p + k + output_padding


# ----------------------------------------------------------------------------- fractional strides
def zero_insert(x: torch.Tensor, stride: int) -> torch.Tensor:
    """Insert ``stride - 1`` zeros between neighbouring entries along every spatial axis.

    x (B, C, L) -> (B, C, (L - 1) s + 1); x (B, C, H, W) -> (B, C, (H-1)s+1, (W-1)s+1).
    For s = 2 and a row [x1, x2, x3] this is [x1, 0, x2, 0, x3].
    """
    check_int("stride", stride, 1)
    checks.check_tensor("x", x, dims=(3, 4))
    spatial = x.shape[2:]
    out = x.new_zeros(*x.shape[:2], *[(n - 1) * stride + 1 for n in spatial])
    index = (slice(None), slice(None)) + tuple(slice(None, None, stride) for _ in spatial)
    out[index] = x
    return out


def conv_transpose_by_zero_insertion(x: torch.Tensor, weight: torch.Tensor, stride: int = 1,
                                     padding: int = 0, output_padding: int = 0,
                                     bias: torch.Tensor | None = None) -> torch.Tensor:
    """ConvTranspose{1,2}d(x) as zero insertion + padding + an ordinary (stride-1) convolution.

    1. insert s - 1 zeros between inputs (:func:`zero_insert`);
    2. pad k - 1 - p zeros on each side (plus ``output_padding`` more at the end);
    3. convolve with stride 1, using the kernel flipped in space with its input and output
       channels swapped: ``weight`` has the ConvTranspose layout (C_in, C_out, k[, k]).

    The output length is (i - 1) s + 1 + 2 (k - 1 - p) + output_padding - k + 1
    = (i - 1) s - 2p + k + output_padding.
    """
    checks.check_tensor("x", x, dims=(3, 4))
    checks.check_tensor("weight", weight, dims=x.dim())
    k = weight.shape[2]
    check_int("padding", padding, 0), check_int("output_padding", output_padding, 0)
    if padding > k - 1:
        raise ValueError(f"padding must be at most k - 1 = {k - 1}, got {padding}")
    xz = zero_insert(x, stride)
    q = k - 1 - padding
    nd = x.dim() - 2
    xp = F.pad(xz, (q, q + output_padding) * nd)
    w = weight.flip(dims=tuple(range(2, 2 + nd))).transpose(0, 1)   # (C_out, C_in, k[, k])
    conv = F.conv1d if nd == 1 else F.conv2d
    return conv(xp, w, bias)


# ----------------------------------------------------------------------------- networks
@dataclass(frozen=True)
class DCGANConfig:
    """Shapes of a DCGAN pair; saved with checkpoints and printed at the start of a run."""

    size: int = 16       # image side in pixels: a power of two >= 8
    channels: int = 1    # image channels (1 grey, 3 colour)
    nz: int = 32         # latent dimension; z ~ N(0, I_nz)
    ngf: int = 32        # generator width: channels of its last hidden layer
    ndf: int = 32        # discriminator width: channels of its first layer

    def __post_init__(self):
        check_int("size", self.size, 8)
        if self.size & (self.size - 1):
            raise ValueError(f"size must be a power of two >= 8, got {self.size}")
        for name in ("channels", "nz", "ngf", "ndf"):
            check_int(name, getattr(self, name), 1)

    @property
    def n_resample(self) -> int:
        """Number of stride-2 layers between 4x4 and size x size: log2(size) - 2."""
        return int(math.log2(self.size)) - 2


class DCGANGenerator(nn.Module):
    """G: z (B, nz) -> x (B, channels, size, size) in [-1, 1].

    ConvT(k4, s1, p0) to a 4x4 map, then log2(size) - 2 ConvT(k4, s2, p1) layers, each
    doubling the side and halving the channels down to ngf, the last one to ``channels``.
    """

    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        self.cfg = cfg
        widths = [cfg.ngf * 2 ** i for i in reversed(range(cfg.n_resample))]   # e.g. [8,4,2,1]*ngf
        # Guideline 3: no fully connected layer; z is a (nz, 1, 1) map and a 4x4 transposed
        # convolution "projects and reshapes" it, so every layer is convolutional.
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(cfg.nz, widths[0], 4, 1, 0, bias=False),        # (B, w0, 4, 4)
            # Guideline 2: batchnorm keeps each layer's inputs centred and scaled, which lets
            # gradients reach the first layers and stops G from collapsing all z to one point.
            nn.BatchNorm2d(widths[0]),
            # Guideline 4: ReLU inside G (bounded-below activations learn faster).
            nn.ReLU(True),
        ]
        for a, b in zip(widths[:-1], widths[1:]):
            # Guideline 1: upsample by a learned fractional-strided convolution (stride 1/2),
            # not by a fixed interpolation; (B, a, h, h) -> (B, b, 2h, 2h).
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        # Guidelines 2 and 4 at the output: no batchnorm (it would pin the output's mean and
        # scale per batch), and tanh to land in the data's range [-1, 1].
        layers += [nn.ConvTranspose2d(widths[-1], cfg.channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.cfg.nz:
            raise ValueError(f"z must have shape (B, {self.cfg.nz}), got {tuple(z.shape)}")
        return self.net(z[:, :, None, None])                          # (B, nz, 1, 1) -> image


class DCGANDiscriminator(nn.Module):
    """D: x (B, channels, size, size) -> logit (B,); D(x) = sigmoid(logit).

    log2(size) - 2 Conv(k4, s2, p1) layers, each halving the side and doubling the channels
    from ndf, then a 4x4 convolution without padding to one logit.
    """

    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        self.cfg = cfg
        widths = [cfg.ndf * 2 ** i for i in range(cfg.n_resample)]            # e.g. [1,2,4,8]*ndf
        # Guideline 1: downsample by strided convolutions (learned), not by max-pooling.
        # Guideline 2 at the input: no batchnorm on the first layer (it would normalise the
        # data batch itself, and real and fake batches are normalised separately).
        # Guideline 5: LeakyReLU(0.2) everywhere in D, so G still gets a gradient where D's
        # units would be switched off by a ReLU.
        layers: list[nn.Module] = [nn.Conv2d(cfg.channels, widths[0], 4, 2, 1, bias=False),
                                   nn.LeakyReLU(0.2, True)]                   # (B, ndf, s/2, s/2)
        for a, b in zip(widths[:-1], widths[1:]):
            # (B, a, h, h) -> (B, b, h/2, h/2); Guideline 2: batchnorm in the hidden layers.
            layers += [nn.Conv2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b),
                       nn.LeakyReLU(0.2, True)]
        # Guideline 3: the "fully connected" read-out is a 4x4 convolution over the last
        # 4x4 map; there is no hidden fully connected layer. No sigmoid: we output a logit.
        layers += [nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False)]              # (B, 1, 1, 1)
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c, s = self.cfg.channels, self.cfg.size
        if x.dim() != 4 or tuple(x.shape[1:]) != (c, s, s):
            raise ValueError(f"x must have shape (B, {c}, {s}, {s}), got {tuple(x.shape)}")
        return self.net(x).flatten()                                            # (B,)


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights ~ N(0, 0.02), batchnorm scale ~ N(1, 0.02), shift 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def dcgan_pair(cfg: DCGANConfig, device=None) -> tuple[DCGANDiscriminator, DCGANGenerator]:
    """(D, G) for ``cfg``, initialised with :func:`init_weights` (draws from torch's global RNG).

    G is built and initialised first, then D, so a seed gives the same networks whatever
    order they are returned in.
    """
    if not isinstance(cfg, DCGANConfig):
        raise TypeError(f"cfg must be a DCGANConfig, got {type(cfg).__name__}")
    G, D = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    init_weights(G)
    init_weights(D)
    return D.to(device), G.to(device)


def to_channels_last(*modules: nn.Module) -> None:
    """Store the 4D weights of ``modules`` channels_last (the layout tensor cores want), IN PLACE.

    :class:`FastGANStep` formats only its own buffers; call this on the networks when they
    should use that layout too (``python -m ganlib.bench dcgan`` does on CUDA).
    """
    for m in modules:
        if not isinstance(m, nn.Module):
            raise TypeError(f"to_channels_last() takes torch.nn.Modules, got {type(m).__name__}")
    for m in modules:
        m.to(memory_format=torch.channels_last)


def adam(params, lr: float = 2e-4, beta1: float = 0.5, **kw) -> torch.optim.Adam:
    """Adam with the DCGAN settings (lr 2e-4, beta1 0.5, beta2 0.999)."""
    return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999), **kw)


# ----------------------------------------------------------------------------- the fast step
@contextmanager
def _backend_flags(tf32: bool) -> Iterator[None]:
    """TF32 matmuls and convolutions and cuDNN autotuning on inside the block (when ``tf32``),
    the process's previous ``torch.backends`` flags restored on exit."""
    if not tf32:
        yield
        return
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.backends.cudnn.benchmark)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
         torch.backends.cudnn.benchmark) = saved


class FastGANStep:
    """``d_step`` then ``g_step`` of :mod:`ganlib.train`, arranged to keep the GPU busy.

    Each call of :meth:`step` does, with the data set ``data`` (N, C, H, W) on the device:

    * draw batch indices, the D-step latents and the G-step latents, in that order, from
      ``generator`` into preallocated buffers (``torch.randint(out=)``, ``torch.randn(out=)``);
    * D: minimize ``d_loss(D(real), D(G(z_d)))`` (G under no_grad);
    * G: minimize ``g_loss(D(G(z_g)))`` with D :func:`ganlib.nets.frozen`;
    * add both losses to device-side accumulators (no ``.item()``; :meth:`pop_losses`
      synchronises once per logging interval).

    That is the same computation, in the same order, as the plain loop; in fp32 on the
    CPU the two give the same parameters (tested). Four options, each None = "on when the
    data are on CUDA" and True on a CPU a ValueError:

    * ``tf32``: TF32 matmuls and convolutions and cuDNN autotuning
      (``torch.backends.cuda.matmul.allow_tf32``, ``cudnn.allow_tf32``, ``cudnn.benchmark``),
      switched on only while this object's step runs and restored afterwards (a CUDA graph
      keeps the kernels it captured with them);
    * ``amp``: the forward passes under bf16 autocast (batchnorm and the losses stay fp32);
    * ``channels_last``: this object's data and batch buffers stored channels_last; the
      networks are left as the caller made them (see :func:`to_channels_last`);
    * ``graph``: the whole step (both forward/backward passes and both Adam updates)
      captured in one CUDA graph after ``warmup`` eager steps, replayed by :meth:`step`: one
      launch per step instead of hundreds. Capture needs Adam with ``capturable=True``
      (``dcgan.adam(params, capturable=True)``) and draws its random numbers from the default
      CUDA generator, so ``graph=True`` with a ``generator`` raises ValueError (seed with
      ``torch.manual_seed``), and ``graph=None`` with a ``generator`` means no graph. If
      capture fails the step runs eagerly, with a warning.

    The caller's modules, optimizers and data tensor are not modified other than by training.
    """

    def __init__(self, D: nn.Module, G: nn.Module, opt_d: torch.optim.Optimizer,
                 opt_g: torch.optim.Optimizer, data: torch.Tensor, batch_size: int, nz: int,
                 generator: torch.Generator | None = None,
                 d_loss: Callable = losses.gan_d_loss,
                 g_loss: Callable = losses.nonsaturating_g_loss,
                 amp: bool | None = None, channels_last: bool | None = None,
                 graph: bool | None = None, tf32: bool | None = None, warmup: int = 3):
        checks.check_tensor("data", data, dims=4)
        check_int("batch_size", batch_size, 1), check_int("nz", nz, 1), check_int("warmup", warmup, 1)
        for name, m in (("D", D), ("G", G)):
            if not isinstance(m, nn.Module):
                raise TypeError(f"{name} must be a torch.nn.Module, got {type(m).__name__}")
        if graph and generator is not None:
            raise ValueError("graph=True draws random numbers from the default CUDA generator, so "
                             "it cannot honour generator=; pass generator=None and seed with "
                             "torch.manual_seed, or graph=False")
        dev = data.device
        cuda = dev.type == "cuda"
        flags = {}
        for name, v in (("amp", amp), ("channels_last", channels_last), ("graph", graph),
                        ("tf32", tf32)):
            if v and not cuda:
                raise ValueError(f"{name}=True needs CUDA data; the data are on {dev}")
            flags[name] = cuda if v is None else bool(v)
        if graph is None and generator is not None:
            flags["graph"] = False
        self.amp, self.channels_last = flags["amp"], flags["channels_last"]
        self.graph, self.tf32 = flags["graph"], flags["tf32"]
        if self.graph:
            for opt in (opt_d, opt_g):
                if not all(g.get("capturable", False) for g in opt.param_groups):
                    raise ValueError("graph=True needs optimizers built with capturable=True, "
                                     "e.g. dcgan.adam(params, capturable=True)")
        self.D, self.G, self.opt_d, self.opt_g = D, G, opt_d, opt_g
        self.d_loss, self.g_loss = d_loss, g_loss
        self.batch_size, self.nz, self.warmup = batch_size, nz, warmup
        self.generator = generator
        self.device = dev
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        self.data = data.contiguous(memory_format=fmt)   # a copy only if the layout changes
        # preallocated buffers: every step writes into the same memory (a CUDA graph needs it)
        self.idx = torch.empty(batch_size, dtype=torch.long, device=dev)
        self.real = torch.empty((batch_size, *data.shape[1:]), dtype=data.dtype,
                                device=dev).contiguous(memory_format=fmt)
        self.z_d = torch.empty(batch_size, nz, device=dev)
        self.z_g = torch.empty(batch_size, nz, device=dev)
        self.d_sum = torch.zeros((), device=dev)
        self.g_sum = torch.zeros((), device=dev)
        self.pending = 0            # steps accumulated since the last pop_losses
        self.steps = 0              # steps taken in total
        self._cuda_graph = None

    def _autocast(self):
        return torch.autocast("cuda", dtype=torch.bfloat16) if self.amp else nullcontext()

    def _body(self) -> None:
        D, G, B = self.D, self.G, self.batch_size
        torch.randint(len(self.data), (B,), generator=self.generator, device=self.device,
                      out=self.idx)
        torch.index_select(self.data, 0, self.idx, out=self.real)
        torch.randn(B, self.nz, generator=self.generator, device=self.device, out=self.z_d)
        torch.randn(B, self.nz, generator=self.generator, device=self.device, out=self.z_g)
        # D: minimize d_loss(D(x), D(G(z_d))); G is not updated
        with self._autocast():
            with torch.no_grad():
                fake = G(self.z_d)
            loss_d = self.d_loss(D(self.real).float(), D(fake).float())
        self.opt_d.zero_grad(set_to_none=False)
        loss_d.backward()
        self.opt_d.step()
        # G: minimize g_loss(D(G(z_g))); D frozen so no D gradients are computed
        with nets.frozen(D):
            with self._autocast():
                loss_g = self.g_loss(D(G(self.z_g)).float())
            self.opt_g.zero_grad(set_to_none=False)
            loss_g.backward()
            self.opt_g.step()
        self.d_sum += loss_d.detach()
        self.g_sum += loss_g.detach()

    def _capture(self) -> None:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):          # warm-up: allocates grads, Adam state, cuDNN plans
            for _ in range(self.warmup):
                self._body()
        torch.cuda.current_stream().wait_stream(side)
        self.steps += self.warmup
        self.pending += self.warmup
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self._body()
        self._cuda_graph = graph

    def step(self) -> None:
        """One update of D and one of G; no host synchronisation."""
        with _backend_flags(self.tf32):
            if self.graph and self._cuda_graph is None:
                try:
                    self._capture()
                except Exception as err:  # pragma: no cover - GPU only
                    warnings.warn(f"CUDA graph capture failed ({err}); running the step eagerly")
                    self.graph = False
                    torch.cuda.synchronize()
            if self._cuda_graph is not None:
                self._cuda_graph.replay()
            else:
                self._body()
        self.steps += 1
        self.pending += 1

    def pop_losses(self) -> tuple[float, float]:
        """Mean (d_loss, g_loss) since the last call: one host sync; raises on NaN/explosion."""
        if self.pending == 0:
            raise ValueError("no steps since the last pop_losses()")
        d = float(self.d_sum) / self.pending
        g = float(self.g_sum) / self.pending
        self.d_sum.zero_()
        self.g_sum.zero_()
        self.pending = 0
        check_finite(self.steps, d_loss=d, g_loss=g)
        return d, g
