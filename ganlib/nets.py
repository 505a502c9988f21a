"""Small networks shared by the chapters: MLPs for generators, discriminators and critics."""
from __future__ import annotations

import torch
from torch import nn

from .checks import check_int

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
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of: "
                             f"{', '.join(_ACTIVATIONS)}")
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
