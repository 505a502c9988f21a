"""Several independent models (one per seed) trained at once as ONE batched model.

A :class:`BatchedLinear` holds S weight matrices stacked as (S, in, out) and computes

    y_s = x_s W_s + b_s   for s = 1..S,   x (S, B, in) -> y (S, B, out),

with one ``torch.baddbmm`` call, so S seeds cost one kernel launch per layer instead of S.

Training a batched model uses the same steps as one model, ``train.d_step`` and
``train.g_step``, with the losses of :mod:`ganlib.losses` (or ``ganlib.fdiv``) applied to the
flattened (S B,) scores. Every GAN loss is a sum of batch means (E_P[...] + E_Q[...]), so on
the S B scores it is the mean over seeds of the per-seed losses, and the steps backpropagate
``n_models(D) * loss`` = S * loss: exactly the SUM over seeds of each seed's own loss. Seeds
never mix, hence the gradient of seed s's parameters is the gradient of seed s's own loss,
and Adam or RMSProp (elementwise updates) on the stacked parameters are exactly S separate
optimizers. ``tests/test_batched.py`` checks this against S separate ``nets.MLP``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .checks import check_choice, check_int
from .nets import _ACTIVATIONS, MLP


class BatchedLinear(nn.Module):
    """x (S, B, in) -> x W + b (S, B, out), with W (S, in, out) and b (S, 1, out).

    Initialized like ``nn.Linear`` for every seed: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(self, n_seeds: int, in_dim: int, out_dim: int,
                 generator: torch.Generator | None = None):
        super().__init__()
        for name, v in (("n_seeds", n_seeds), ("in_dim", in_dim), ("out_dim", out_dim)):
            check_int(name, v)
        self.n_seeds = n_seeds
        bound = 1.0 / math.sqrt(in_dim)
        dev = generator.device if generator is not None else None
        w = (2 * torch.rand(n_seeds, in_dim, out_dim, generator=generator, device=dev) - 1) * bound
        b = (2 * torch.rand(n_seeds, 1, out_dim, generator=generator, device=dev) - 1) * bound
        self.weight = nn.Parameter(w)
        self.bias = nn.Parameter(b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[0] != self.weight.shape[0] or x.shape[2] != self.weight.shape[1]:
            raise ValueError(f"input must have shape (S={self.weight.shape[0]}, B, "
                             f"{self.weight.shape[1]}), got {tuple(x.shape)}")
        return torch.baddbmm(self.bias, x, self.weight)     # (S, B, out)


class BatchedMLP(nn.Module):
    """S independent MLPs, x (S, B, in_dim) -> (S, B, out_dim); the batched twin of ``nets.MLP``.

    Same layout as ``MLP(in_dim, out_dim, width, depth, activation)``: ``depth`` hidden layers
    of ``width`` units. :meth:`from_mlps` copies S ``MLP``s in.
    """

    def __init__(self, n_seeds: int, in_dim: int, out_dim: int, width: int = 128, depth: int = 3,
                 activation: str = "relu", generator: torch.Generator | None = None):
        super().__init__()
        check_int("depth", depth, 0)
        check_choice("activation", activation, _ACTIVATIONS)
        check_int("width", width)
        dims = [in_dim] + [width] * depth
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [BatchedLinear(n_seeds, a, b, generator), _ACTIVATIONS[activation]()]
        layers.append(BatchedLinear(n_seeds, dims[-1], out_dim, generator))
        self.net = nn.Sequential(*layers)
        self.n_seeds, self.in_dim, self.out_dim = n_seeds, in_dim, out_dim
        self.width, self.depth, self.activation = width, depth, activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def linears(self) -> list[BatchedLinear]:
        return [m for m in self.net if isinstance(m, BatchedLinear)]

    @classmethod
    def from_mlps(cls, mlps: list[MLP]) -> "BatchedMLP":
        """Stack S ``nets.MLP`` with the same layout into one batched model (weights copied)."""
        if not mlps or not all(isinstance(m, MLP) for m in mlps):
            raise TypeError("from_mlps needs a non-empty list of ganlib.nets.MLP")
        lins = [[m for m in mlp.net if isinstance(m, nn.Linear)] for mlp in mlps]
        first = lins[0]
        if any(len(ls) != len(first) or any(a.weight.shape != b.weight.shape for a, b in zip(ls, first))
               for ls in lins):
            raise ValueError("all MLPs must have the same layer shapes")
        act = next(k for k, f in _ACTIVATIONS.items()
                   if type(f()) is type(mlps[0].net[1])) if len(first) > 1 else "relu"
        width = first[0].weight.shape[0] if len(first) > 1 else 1
        out = cls(len(mlps), mlps[0].in_dim, mlps[0].out_dim, width, len(first) - 1, act)
        with torch.no_grad():
            for j, bl in enumerate(out.linears()):
                bl.weight.copy_(torch.stack([ls[j].weight.t() for ls in lins]))
                bl.bias.copy_(torch.stack([ls[j].bias[None] for ls in lins]))
        return out.to(first[0].weight.device)


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """PacGAN packing (Lin et al. 2018): m consecutive samples concatenated into one.

    x (B, d) -> (B / m, m d), or batched x (S, B, d) -> (S, B / m, m d): pack j of seed s is
    (x[s, j m], ..., x[s, j m + m - 1]) side by side, so seeds never mix. ``pack(x, 1)`` is x.
    ValueError when m does not divide B.
    """
    m = check_int("pack", m)
    if x.dim() not in (2, 3):
        raise ValueError(f"pack needs samples of shape (B, d) or (S, B, d), got {tuple(x.shape)}")
    if x.shape[-2] % m:
        raise ValueError(f"pack m={m} must divide the batch size, got batch {x.shape[-2]}")
    if m == 1:
        return x
    return x.reshape(*x.shape[:-2], x.shape[-2] // m, m * x.shape[-1])


class Packed(nn.Module):
    """A generator whose samples come packed: z (S, B, k) -> pack(G(z), m) (S, B / m, m d).

    With a discriminator of input dimension m d this is PacGAN: D scores packs of m samples,
    real and generated alike (pack the real batch with :func:`pack`). It holds as many models
    as ``module`` (:func:`n_models`), so ``train.d_step``/``train.g_step`` take it unchanged;
    the gradient penalty then interpolates and takes gradient norms per pack.
    """

    def __init__(self, module: nn.Module, m: int):
        super().__init__()
        self.module, self.m = module, check_int("pack", m)
        if is_batched(module):
            self.n_seeds = module.n_seeds

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return pack(self.module(z), self.m)


def is_batched(module) -> bool:
    """True for S models stacked on a leading axis (:class:`BatchedMLP`, :class:`BatchedLinear`,
    or a :class:`Packed` one of them)."""
    if isinstance(module, Packed):
        return is_batched(module.module)
    return isinstance(module, (BatchedMLP, BatchedLinear))


def n_models(module) -> int:
    """How many independent models ``module`` holds: ``n_seeds`` if batched, else 1.

    ``train.d_step`` and ``train.g_step`` multiply the (batch-mean) loss by it before the
    backward pass, which turns it into the sum over seeds of the per-seed losses.
    """
    return module.n_seeds if is_batched(module) else 1
