"""Small networks shared by the chapters (MLPs for G, D and critics) and :func:`frozen`."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from .checks import check_choice, check_int

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "silu": nn.SiLU,
}


class MLP(nn.Module):
    """x (B, in_dim) -> (B, out_dim): ``depth`` hidden layers of ``width`` units.

    ``activation`` is one of relu, leaky_relu, tanh, elu, silu. ``spectral_norm=True`` wraps
    every linear layer in spectral normalization (Miyato et al. 2018).
    """

    def __init__(self, in_dim: int, out_dim: int, width: int = 128, depth: int = 3,
                 activation: str = "relu", spectral_norm: bool = False):
        super().__init__()
        for name, v in (("in_dim", in_dim), ("out_dim", out_dim), ("width", width)):
            check_int(name, v)
        check_int("depth", depth, 0)
        check_choice("activation", activation, _ACTIVATIONS)
        wrap = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
        dims = [in_dim] + [width] * depth
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [wrap(nn.Linear(a, b)), _ACTIVATIONS[activation]()]
        layers.append(wrap(nn.Linear(dims[-1], out_dim)))
        self.net = nn.Sequential(*layers)
        self.in_dim, self.out_dim = in_dim, out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def mlp_generator(latent_dim: int, data_dim: int, width: int = 128, depth: int = 3,
                  activation: str = "relu") -> MLP:
    """G: z (B, latent_dim) -> x (B, data_dim), linear output (no squashing)."""
    return MLP(latent_dim, data_dim, width, depth, activation)


def mlp_discriminator(data_dim: int, width: int = 128, depth: int = 3,
                      activation: str = "leaky_relu", spectral_norm: bool = False) -> MLP:
    """D: x (B, data_dim) -> logit (B, 1). D(x) = sigmoid(logit); a WGAN critic uses it raw."""
    return MLP(data_dim, 1, width, depth, activation, spectral_norm)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """``with frozen(D): ...``: no parameter of ``modules`` requires a gradient inside the block.

    The generator's update backpropagates through D, and freezing D means D's gradients are
    neither computed nor left behind in ``p.grad``. On exit (also on an exception) every
    parameter gets back the ``requires_grad`` flag it had before, so a parameter that the
    caller had frozen stays frozen. A parameter shared by several modules is handled once.
    """
    for m in modules:
        if not isinstance(m, nn.Module):
            raise TypeError(f"frozen() takes torch.nn.Modules, got {type(m).__name__}")
    params = list({id(p): p for m in modules for p in m.parameters()}.values())
    saved = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, saved):
            p.requires_grad_(flag)
