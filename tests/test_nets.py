"""ganlib.nets: shapes, parameter counts, spectral normalization, frozen() and input checks."""
import pytest
import torch

from ganlib import nets


def test_mlp_shapes_and_parameter_count():
    m = nets.MLP(3, 2, width=5, depth=2)
    assert m(torch.zeros(7, 3)).shape == (7, 2)
    assert nets.count_parameters(m) == (3 * 5 + 5) + (5 * 5 + 5) + (5 * 2 + 2)


def test_depth_zero_is_linear():
    m = nets.MLP(4, 1, depth=0)
    assert nets.count_parameters(m) == 5
    x = torch.randn(6, 4)
    lin = m.net[0]
    assert torch.allclose(m(x), x @ lin.weight.T + lin.bias)


def test_generator_and_discriminator_shapes():
    G = nets.mlp_generator(2, 3, width=8, depth=1)
    D = nets.mlp_discriminator(3, width=8, depth=1)
    z = torch.randn(10, 2)
    assert G(z).shape == (10, 3) and D(G(z)).shape == (10, 1)


def test_activation_choice():
    m = nets.MLP(1, 1, width=4, depth=1, activation="tanh")
    assert isinstance(m.net[1], torch.nn.Tanh)
    d = nets.mlp_discriminator(1, width=4, depth=1)
    assert isinstance(d.net[1], torch.nn.LeakyReLU) and d.net[1].negative_slope == 0.2


def test_spectral_norm_bounds_the_weights():
    torch.manual_seed(0)
    D = nets.mlp_discriminator(2, width=16, depth=2, spectral_norm=True)
    for _ in range(20):  # power iterations run in training mode
        D(torch.randn(4, 2))
    D.eval()
    for layer in D.net:
        if isinstance(layer, torch.nn.Linear):
            assert torch.linalg.matrix_norm(layer.weight, ord=2) < 1.05


def test_count_parameters_skips_frozen():
    m = nets.MLP(2, 2, width=3, depth=1)
    m.net[0].weight.requires_grad_(False)
    assert nets.count_parameters(m) == 3 + (3 * 2 + 2)


def test_frozen_switches_off_and_restores_the_saved_flags():
    a, b = nets.MLP(2, 2, width=3, depth=1), nets.MLP(2, 1, width=3, depth=1)
    b.net[0].weight.requires_grad_(False)                  # frozen by the caller beforehand
    shared = a.net[0].bias
    b.extra = torch.nn.Parameter(torch.zeros(1))
    b.register_parameter("shared", shared)                 # one parameter in both modules
    before = {id(p): p.requires_grad for m in (a, b) for p in m.parameters()}
    with nets.frozen(a, b):
        assert not any(p.requires_grad for m in (a, b) for p in m.parameters())
        out = b(a(torch.randn(4, 2)))
        assert not out.requires_grad                       # no graph through frozen weights
    assert {id(p): p.requires_grad for m in (a, b) for p in m.parameters()} == before
    assert not b.net[0].weight.requires_grad and shared.requires_grad
    with pytest.raises(RuntimeError, match="boom"):        # restored on an exception too
        with nets.frozen(a):
            raise RuntimeError("boom")
    assert all(p.requires_grad for p in a.parameters())
    with pytest.raises(TypeError, match="Module"):
        with nets.frozen(a, [torch.zeros(1)]):
            pass
    assert all(p.requires_grad for p in a.parameters())


@pytest.mark.parametrize("kw", [{"in_dim": 0}, {"out_dim": 1.5}, {"width": True}, {"depth": -1},
                                {"activation": "gelu"}])
def test_bad_arguments_raise(kw):
    args = {"in_dim": 2, "out_dim": 1, **kw}
    with pytest.raises(ValueError, match=next(iter(kw))):
        nets.MLP(**args)
    if "activation" in kw:
        with pytest.raises(ValueError, match="choose one of: relu, leaky_relu, tanh, elu, silu"):
            nets.MLP(**args)
