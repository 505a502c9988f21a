"""Tests for ganlib.batched: S seeds in one model behave exactly like S separate models,
trained by the same train.d_step / train.g_step (the n_models scaling makes the batched
loss the sum of the per-seed losses)."""
from functools import partial

import pytest
import torch

from ganlib import batched, losses, nets, train, wgan

OPTIMIZERS = {"adam": lambda p: torch.optim.Adam(p, lr=1e-2, betas=(0.5, 0.9)),
              "rmsprop": lambda p: torch.optim.RMSprop(p, lr=1e-2),
              "sgd": lambda p: torch.optim.SGD(p, lr=0.1)}   # SGD: not scale-invariant


def _pair(seed=0):
    torch.manual_seed(seed)
    mlps = [nets.MLP(2, 1, 8, 2), nets.MLP(2, 1, 8, 2)]
    return mlps, batched.BatchedMLP.from_mlps(mlps)


def _players(seed, S=2, d_act="relu"):
    torch.manual_seed(seed)
    ds = [nets.MLP(2, 1, 8, 2, activation=d_act) for _ in range(S)]
    gs = [nets.MLP(2, 2, 8, 1) for _ in range(S)]
    return ds, gs, batched.BatchedMLP.from_mlps(ds), batched.BatchedMLP.from_mlps(gs)


def _assert_same_weights(mlps, bm):
    """Seed s of the batched model has the weights of the separately trained mlps[s]."""
    for s, mlp in enumerate(mlps):
        ref = batched.BatchedMLP.from_mlps([mlp, mlp])
        for a, b in zip(ref.parameters(), bm.parameters()):
            assert torch.allclose(a[0], b[s], atol=1e-5)


def test_forward_matches_separate_mlps():
    mlps, bm = _pair()
    x = torch.randn(2, 5, 2)
    out = bm(x)
    assert out.shape == (2, 5, 1)
    for s in range(2):
        assert torch.allclose(out[s], mlps[s](x[s]), atol=1e-6)


def test_n_models():
    bm = batched.BatchedMLP(3, 2, 1, 4, 1)
    assert batched.n_models(bm) == 3 and batched.is_batched(bm)
    assert batched.n_models(bm.linears()[0]) == 3
    assert batched.n_models(nets.MLP(2, 1)) == 1 and not batched.is_batched(nets.MLP(2, 1))
    assert batched.n_models(lambda x: x) == 1


@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
def test_d_step_matches_separate_models(opt_name):
    """train.d_step on the batched pair = S separate d_steps: backpropagating n_models(D) * loss
    gives each seed the gradient of its own loss (with SGD a missing factor S would show)."""
    ds, gs, bd, bg = _players(1)
    make = OPTIMIZERS[opt_name]
    opts = [make(d.parameters()) for d in ds]
    opt_b = make(bd.parameters())
    for step in range(3):
        real, z = torch.randn(2, 16, 2), torch.randn(2, 16, 2)
        sep = [train.d_step(ds[s], gs[s], opts[s], real[s], z[s]) for s in range(2)]
        got = train.d_step(bd, bg, opt_b, real, z)
        assert got.item() == pytest.approx(sum(sep).item() / 2, rel=1e-5)  # mean of per-seed losses
    _assert_same_weights(ds, bd)
    _assert_same_weights(gs, bg)                                            # G untouched


@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
def test_g_step_matches_separate_models(opt_name):
    ds, gs, bd, bg = _players(2)
    make = OPTIMIZERS[opt_name]
    opts = [make(g.parameters()) for g in gs]
    opt_b = make(bg.parameters())
    for step in range(3):
        z = torch.randn(2, 16, 2)
        sep = [train.g_step(ds[s], gs[s], opts[s], z[s], losses.wgan_g_loss) for s in range(2)]
        got = train.g_step(bd, bg, opt_b, z, losses.wgan_g_loss)
        assert got.item() == pytest.approx(sum(sep).item() / 2, rel=1e-5)
    _assert_same_weights(gs, bg)
    _assert_same_weights(ds, bd)                                            # D untouched
    assert all(p.requires_grad for p in bd.parameters())


@pytest.mark.parametrize("opt_name", ["adam", "sgd"])
def test_gp_d_step_matches_separate(opt_name):
    """WGAN-GP through d_step: one eps per seed and sample, norm over the data axis, and the
    penalty scaled with the loss, so each seed sees its own lam * GP_s."""
    ds, gs, bd, bg = _players(2)
    make = OPTIMIZERS[opt_name]
    opts = [make(d.parameters()) for d in ds]
    opt_b = make(bd.parameters())
    real, z = torch.randn(2, 32, 2), torch.randn(2, 32, 2)
    eps = torch.rand(2, 32, 1, generator=torch.Generator().manual_seed(7))  # what d_step draws
    totals = []
    for s in range(2):
        fake = gs[s](z[s]).detach()
        x_hat = (eps[s] * real[s] + (1 - eps[s]) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(ds[s](x_hat).sum(), x_hat, create_graph=True)
        loss = losses.wgan_d_loss(ds[s](real[s]), ds[s](fake)) + 10 * ((g.norm(dim=1) - 1) ** 2).mean()
        opts[s].zero_grad()
        loss.backward()
        opts[s].step()
        totals.append(loss.item())
    gp = partial(wgan.gradient_penalty, lam=10.0, generator=torch.Generator().manual_seed(7))
    got = train.d_step(bd, bg, opt_b, real, z, losses.wgan_d_loss, penalty=gp)
    assert got.item() == pytest.approx(sum(totals) / 2, rel=1e-5)           # penalty included
    _assert_same_weights(ds, bd)


def test_clip_projection_and_generator_step():
    torch.manual_seed(3)
    bd, bg = batched.BatchedMLP(3, 2, 1, 8, 2), batched.BatchedMLP(3, 2, 2, 8, 2)
    opt_d = torch.optim.RMSprop(bd.parameters(), lr=1e-2)
    opt_g = torch.optim.RMSprop(bg.parameters(), lr=1e-2)
    train.d_step(bd, bg, opt_d, torch.randn(3, 8, 2), torch.randn(3, 8, 2), losses.wgan_d_loss,
                 project=partial(wgan.clip_weights, c=0.01))
    assert max(p.abs().max().item() for p in bd.parameters()) <= 0.01 + 1e-9
    before = [p.clone() for p in bd.parameters()]
    g_before = [p.clone() for p in bg.parameters()]
    train.g_step(bd, bg, opt_g, torch.randn(3, 8, 2), losses.wgan_g_loss)
    assert all(torch.equal(a, b) for a, b in zip(before, bd.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(g_before, bg.parameters()))
    assert all(p.requires_grad for p in bd.parameters())
    with pytest.raises(ValueError, match="same number of models, got 3 and 1"):
        train.g_step(bd, nets.MLP(2, 2), opt_g, torch.randn(3, 8, 2))


def test_init_like_linear_and_bad_input():
    bl = batched.BatchedLinear(4, 100, 3, torch.Generator().manual_seed(0))
    assert bl.weight.shape == (4, 100, 3) and bl.bias.shape == (4, 1, 3)
    assert bl.weight.abs().max() <= 0.1 and bl.weight.abs().max() > 0.09
    with pytest.raises(ValueError):
        bl(torch.randn(3, 5, 100))
    with pytest.raises(ValueError):
        batched.BatchedLinear(0, 2, 2)
    with pytest.raises(ValueError, match="choose one of: relu"):
        batched.BatchedMLP(2, 2, 1, activation="sigmoid")
    with pytest.raises(TypeError):
        batched.BatchedMLP.from_mlps([torch.nn.Linear(2, 1)])
