"""Several independent models (one per seed) trained at once as ONE batched model.

A :class:`BatchedLinear` holds S weight matrices stacked as (S, in, out) and computes

    y_s = x_s W_s + b_s   for s = 1..S,   x (S, B, in) -> y (S, B, out),

with one ``torch.baddbmm`` call, so S seeds cost one kernel launch per layer instead of S.
Seeds never mix: the loss of the batched model is the SUM over seeds of each seed's loss,
hence the gradient of seed s's parameters is the gradient of seed s's own loss, and Adam or
RMSProp (elementwise updates) on the stacked parameters are exactly S separate optimizers.
``tests/test_batched.py`` checks this against S separate ``nn.Linear`` MLPs.

Training steps for any critic/discriminator loss (``loss_fn(v_real, v_fake)`` and
``g_loss_fn(v_fake)`` on flat (N,) values that the player minimizes, e.g. from
:mod:`ganlib.losses`, :mod:`ganlib.wgan`, ``ganlib.fdiv``) are :func:`critic_step` and
:func:`generator_step`; :func:`per_seed_sum` turns a batch-mean loss into the sum over seeds.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from . import wgan
from .nets import _ACTIVATIONS, MLP
from .checks import check_int


class BatchedLinear(nn.Module):
    """x (S, B, in) -> x W + b (S, B, out), with W (S, in, out) and b (S, 1, out).

    Initialized like ``nn.Linear`` for every seed: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(self, n_seeds: int, in_dim: int, out_dim: int,
                 generator: torch.Generator | None = None):
        super().__init__()
        for name, v in (("n_seeds", n_seeds), ("in_dim", in_dim), ("out_dim", out_dim)):
            check_int(name, v)
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
    of ``width`` units. :meth:`from_mlps` copies S ``MLP``s in, :meth:`unbatch` copies seed s out.
    """

    def __init__(self, n_seeds: int, in_dim: int, out_dim: int, width: int = 128, depth: int = 3,
                 activation: str = "relu", generator: torch.Generator | None = None):
        super().__init__()
        check_int("depth", depth, 0)
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of: "
                             f"{', '.join(_ACTIVATIONS)}")
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

    def unbatch(self, s: int) -> MLP:
        """Seed ``s`` as a plain ``nets.MLP`` (a copy), e.g. to plot one critic's contour."""
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < self.n_seeds:
            raise ValueError(f"seed index must be in 0..{self.n_seeds - 1}, got {s!r}")
        mlp = MLP(self.in_dim, self.out_dim, self.width, self.depth, self.activation)
        lins = [m for m in mlp.net if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for lin, bl in zip(lins, self.linears()):
                lin.weight.copy_(bl.weight[s].t())
                lin.bias.copy_(bl.bias[s, 0])
        return mlp.to(self.linears()[0].weight.device)


def per_seed_sum(loss_fn: Callable, n_seeds: int, *values: torch.Tensor) -> torch.Tensor:
    """sum_s loss_fn(values[s]) for a loss that is a mean over the batch: n_seeds * loss_fn(flat).

    Every GAN loss in the book is a sum of per-sample means (E_P[...] - E_Q[...]); on (S, B)
    values flattened to (S B,) each mean is the average of the S per-seed means, so multiplying
    by S gives the per-seed sum, whose gradient keeps the seeds separate.
    """
    return n_seeds * loss_fn(*(v.reshape(-1) for v in values))


def critic_step(D: BatchedMLP, G: BatchedMLP, opt_d: torch.optim.Optimizer, real: torch.Tensor,
                z: torch.Tensor, loss_fn: Callable, lam: float = 0.0,
                generator: torch.Generator | None = None, clip: float | None = None) -> torch.Tensor:
    """One batched critic/discriminator update: minimize sum_s [loss_fn(D_s(x_s), D_s(G_s(z_s)))
    + lam * GP_s]; then clip the weights to [-clip, clip] if ``clip`` is given.

    ``real`` (S, B, d), ``z`` (S, B, k). The gradient penalty GP_s (one eps per seed and sample,
    norm over the data axis) is added to the critic's loss only. Returns the detached per-seed
    mean loss (without the penalty), a scalar.
    """
    with torch.no_grad():
        fake = G(z)
    n = D.n_seeds
    loss = per_seed_sum(loss_fn, n, D(real), D(fake))
    total = loss
    if lam > 0:
        total = total + n * wgan.gradient_penalty(D, real, fake, lam, generator, batch_dims=2)
    opt_d.zero_grad(set_to_none=True)
    total.backward()
    opt_d.step()
    if clip is not None:
        wgan.clip_weights(D, clip)
    return loss.detach() / n


def generator_step(D: BatchedMLP, G: BatchedMLP, opt_g: torch.optim.Optimizer, z: torch.Tensor,
                   loss_fn: Callable) -> torch.Tensor:
    """One batched generator update: minimize sum_s g_loss(D_s(G_s(z_s))); D is not stepped."""
    for p in D.parameters():
        p.requires_grad_(False)
    try:
        loss = per_seed_sum(loss_fn, G.n_seeds, D(G(z)))
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
    finally:
        for p in D.parameters():
            p.requires_grad_(True)
    return loss.detach() / G.n_seeds
