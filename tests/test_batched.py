"""Tests for ganlib.batched: S seeds in one model behave exactly like S separate models."""
import pytest
import torch

from ganlib import batched, losses, nets, wgan


def _pair(seed=0):
    torch.manual_seed(seed)
    mlps = [nets.MLP(2, 1, 8, 2), nets.MLP(2, 1, 8, 2)]
    return mlps, batched.BatchedMLP.from_mlps(mlps)


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
    back = bm.unbatch(1)
    assert torch.allclose(back(x[1]), mlps[1](x[1]), atol=1e-6)


@pytest.mark.parametrize("opt_name", ["adam", "rmsprop"])
def test_update_matches_two_separate_optimizers(opt_name):
    mlps, bm = _pair(1)
    make = {"adam": lambda p: torch.optim.Adam(p, lr=1e-2, betas=(0.5, 0.9)),
            "rmsprop": lambda p: torch.optim.RMSprop(p, lr=1e-2)}[opt_name]
    opts = [make(m.parameters()) for m in mlps]
    opt_b = make(bm.parameters())
    for step in range(3):
        real, fake = torch.randn(2, 16, 2), torch.randn(2, 16, 2)
        for s in range(2):   # separate models, separate optimizers
            loss = losses.discriminator_loss(mlps[s](real[s]), mlps[s](fake[s]))
            opts[s].zero_grad()
            loss.backward()
            opts[s].step()
        loss_b = batched.per_seed_sum(losses.discriminator_loss, 2, bm(real), bm(fake))
        opt_b.zero_grad()
        loss_b.backward()
        opt_b.step()
    _assert_same_weights(mlps, bm)


def test_gp_critic_step_matches_separate():
    torch.manual_seed(2)
    ds = [nets.MLP(2, 1, 8, 2, activation="relu") for _ in range(2)]
    gs = [nets.MLP(2, 2, 8, 1) for _ in range(2)]
    bd, bg = batched.BatchedMLP.from_mlps(ds), batched.BatchedMLP.from_mlps(gs)
    opts = [torch.optim.Adam(d.parameters(), lr=1e-2, betas=(0.5, 0.9)) for d in ds]
    opt_b = torch.optim.Adam(bd.parameters(), lr=1e-2, betas=(0.5, 0.9))
    real, z = torch.randn(2, 32, 2), torch.randn(2, 32, 2)
    gen = torch.Generator().manual_seed(7)
    eps = torch.rand(2, 32, 1, generator=gen)        # the eps the batched step will draw
    for s in range(2):
        fake = gs[s](z[s]).detach()
        x_hat = (eps[s] * real[s] + (1 - eps[s]) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(ds[s](x_hat).sum(), x_hat, create_graph=True)
        loss = wgan.critic_loss(ds[s](real[s]), ds[s](fake)) + 10 * ((g.norm(dim=1) - 1) ** 2).mean()
        opts[s].zero_grad()
        loss.backward()
        opts[s].step()
    batched.critic_step(bd, bg, opt_b, real, z, wgan.critic_loss, lam=10.0,
                        generator=torch.Generator().manual_seed(7))
    _assert_same_weights(ds, bd)


def test_clip_and_generator_step():
    torch.manual_seed(3)
    bd, bg = batched.BatchedMLP(3, 2, 1, 8, 2), batched.BatchedMLP(3, 2, 2, 8, 2)
    opt_d = torch.optim.RMSprop(bd.parameters(), lr=1e-2)
    opt_g = torch.optim.RMSprop(bg.parameters(), lr=1e-2)
    batched.critic_step(bd, bg, opt_d, torch.randn(3, 8, 2), torch.randn(3, 8, 2),
                        wgan.critic_loss, clip=0.01)
    assert max(p.abs().max().item() for p in bd.parameters()) <= 0.01 + 1e-9
    before = [p.clone() for p in bd.parameters()]
    g_before = [p.clone() for p in bg.parameters()]
    batched.generator_step(bd, bg, opt_g, torch.randn(3, 8, 2), wgan.generator_loss)
    assert all(torch.equal(a, b) for a, b in zip(before, bd.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(g_before, bg.parameters()))
    assert all(p.requires_grad for p in bd.parameters())


def test_init_like_linear_and_bad_input():
    bl = batched.BatchedLinear(4, 100, 3, torch.Generator().manual_seed(0))
    assert bl.weight.shape == (4, 100, 3) and bl.bias.shape == (4, 1, 3)
    assert bl.weight.abs().max() <= 0.1 and bl.weight.abs().max() > 0.09
    with pytest.raises(ValueError):
        bl(torch.randn(3, 5, 100))
    with pytest.raises(ValueError):
        batched.BatchedLinear(0, 2, 2)
    with pytest.raises(ValueError):
        batched.BatchedMLP(2, 2, 1, activation="sigmoid")
    with pytest.raises(ValueError):
        batched.BatchedMLP(2, 2, 1).unbatch(2)
    with pytest.raises(TypeError):
        batched.BatchedMLP.from_mlps([torch.nn.Linear(2, 1)])
