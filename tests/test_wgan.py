"""Tests for ganlib.wgan: clipping, the gradient penalty and its usual mistakes, configs.

(The WGAN losses themselves are tested in test_losses.py.)
"""
import math
from functools import partial

import pytest
import torch
from torch import nn

from ganlib import batched, losses, nets, train, wgan


def test_clip_weights():
    torch.manual_seed(0)
    m = nets.MLP(2, 1, 16, 2)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(100)
    assert wgan.clip_weights(m, 0.01) is m
    assert max(p.abs().max().item() for p in m.parameters()) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="clip value c"):
        wgan.clip_weights(m, -1.0)
    with pytest.raises(TypeError):
        wgan.clip_weights([torch.ones(2)], 0.1)


def test_gp_of_linear_critic_is_closed_form():
    # T(x) = w.x has gradient w everywhere: GP = lam (||w|| - 1)^2 whatever the points.
    w = torch.tensor([3.0, -4.0, 12.0])        # ||w|| = 13
    critic = lambda x: x @ w  # noqa: E731
    real, fake = torch.randn(64, 3), torch.randn(64, 3)
    gp = wgan.gradient_penalty(critic, real, fake, lam=10.0)
    assert gp.item() == pytest.approx(10.0 * (13.0 - 1.0) ** 2, rel=1e-6)
    assert wgan.lipschitz_estimate(critic, real, fake) == pytest.approx(13.0, rel=1e-6)


def _wrong_gp_pixel_eps(critic, real, fake, lam=10.0):
    eps = torch.rand_like(real)                      # WRONG: one eps per pixel
    x = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return lam * ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()


def _wrong_gp_last_axis(critic, real, fake, lam=10.0, generator=None):
    x = wgan.interpolate(real, fake, generator).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return lam * ((g.norm(dim=-1) - 1) ** 2).mean()  # WRONG: norm over the last axis only


def test_gp_image_input_one_eps_per_sample_and_full_norm():
    torch.manual_seed(0)
    B, C, H, W = 8, 3, 4, 4
    conv = nn.Sequential(nn.Conv2d(C, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(64, 1))
    real, fake = torch.randn(B, C, H, W), torch.randn(B, C, H, W)
    # the interpolate lies on the segment: x_hat - fake = eps (real - fake), one eps per sample
    g = torch.Generator().manual_seed(1)
    x_hat = wgan.interpolate(real, fake, g)
    ratio = (x_hat - fake) / (real - fake)
    assert torch.allclose(ratio, ratio[:, :1, :1, :1].expand_as(ratio), atol=1e-4)
    assert ratio[:, 0, 0, 0].std() > 0.05            # but eps differs between samples
    # gradient norms are over C, H, W together
    norms = wgan.gradient_norms(conv, x_hat)
    assert norms.shape == (B,)
    x = x_hat.clone().requires_grad_(True)
    (gr,) = torch.autograd.grad(conv(x).sum(), x)
    assert torch.allclose(norms, gr.pow(2).sum(dim=(1, 2, 3)).sqrt(), rtol=1e-5)
    # the correct penalty differs from the two wrong variants on the same random streams
    gp = wgan.gradient_penalty(conv, real, fake, generator=torch.Generator().manual_seed(2))
    wrong_axis = _wrong_gp_last_axis(conv, real, fake, generator=torch.Generator().manual_seed(2))
    torch.manual_seed(2)
    wrong_eps = _wrong_gp_pixel_eps(conv, real, fake)
    assert abs(gp.item() - wrong_axis.item()) > 0.1 * gp.item()
    assert abs(gp.item() - wrong_eps.item()) > 1e-3 * gp.item()


def test_gp_per_pixel_eps_breaks_segment_for_linear_critic():
    # For a linear critic the GP is the same for any points; the per-pixel mistake shows in the
    # interpolates: they leave the segment [fake, real].
    real, fake = torch.zeros(4, 1, 2, 2), torch.ones(4, 1, 2, 2)
    x_hat = wgan.interpolate(real, fake, torch.Generator().manual_seed(0))
    assert (x_hat.flatten(1).std(dim=1) < 1e-7).all()  # all pixels of a sample share eps


def test_gp_batched_matches_per_seed():
    torch.manual_seed(0)
    w = torch.randn(3, 2, 1)                          # three linear critics, one per seed
    critic = lambda x: torch.bmm(x, w)  # noqa: E731  (S, B, 2) -> (S, B, 1)
    real, fake = torch.randn(3, 16, 2), torch.randn(3, 16, 2)
    gp = wgan.gradient_penalty(critic, real, fake, lam=10.0, batch_dims=2)
    expected = 10.0 * ((w[:, :, 0].norm(dim=1) - 1) ** 2).mean()
    assert gp.item() == pytest.approx(expected.item(), rel=1e-5)
    norms = wgan.gradient_norms(critic, real, batch_dims=2)
    assert norms.shape == (3, 16)
    assert torch.allclose(norms, w[:, :, 0].norm(dim=1, keepdim=True).expand(3, 16), rtol=1e-5)


def test_gp_batch_dims_default_follows_the_model():
    """batch_dims=None is 2 for a batched critic (one eps per seed and sample), 1 otherwise."""
    torch.manual_seed(0)
    bd = batched.BatchedMLP(3, 2, 1, 8, 1, "tanh")
    real, fake = torch.randn(3, 16, 2), torch.randn(3, 16, 2)
    auto = wgan.gradient_penalty(bd, real, fake, generator=torch.Generator().manual_seed(4))
    two = wgan.gradient_penalty(bd, real, fake, generator=torch.Generator().manual_seed(4),
                                batch_dims=2)
    assert torch.equal(auto, two)
    assert wgan.gradient_norms(bd, real).shape == (3, 16)
    mlp = nets.MLP(2, 1, 8, 1)
    assert wgan.gradient_norms(mlp, real[0]).shape == (16,)
    with pytest.raises(ValueError, match="batch_dims"):
        wgan.gradient_penalty(mlp, real, fake, batch_dims=3)


def test_gp_has_gradient_for_critic_parameters():
    torch.manual_seed(0)
    critic = nets.MLP(2, 1, 8, 1)
    gp = wgan.gradient_penalty(critic, torch.randn(32, 2), torch.randn(32, 2))
    gp.backward()
    weights = [m.weight for m in critic.net if isinstance(m, nn.Linear)]
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in weights)


def test_gp_not_in_generator_loss():
    # g_step with losses.wgan_g_loss changes G exactly as -E[D(G(z))] says; the wrong variant
    # that adds the GP to the generator's loss moves G differently.
    torch.manual_seed(0)
    # a smooth critic: for a ReLU critic grad_x T is piecewise constant and the GP would
    # have no gradient with respect to G's output at all
    D, G = nets.MLP(2, 1, 16, 2, activation="tanh"), nets.MLP(2, 2, 16, 2)
    z, real = torch.randn(32, 2), torch.randn(32, 2)
    G_ref = nets.MLP(2, 2, 16, 2)
    G_ref.load_state_dict(G.state_dict())
    opt = torch.optim.SGD(G.parameters(), lr=0.1)
    train.g_step(D, G, opt, z, losses.wgan_g_loss)
    loss = -D(G_ref(z)).mean()
    grads = torch.autograd.grad(loss, list(G_ref.parameters()), retain_graph=True)
    for p, p0, g in zip(G.parameters(), G_ref.parameters(), grads):
        assert torch.allclose(p, p0 - 0.1 * g, atol=1e-6)
    fake = G_ref(z)
    # the wrong variant: GP (with fake kept in the graph) added to the generator's loss
    eps = torch.rand(32, 1, generator=torch.Generator().manual_seed(0))
    xh = eps * real + (1 - eps) * fake
    (gx,) = torch.autograd.grad(D(xh).sum(), xh, create_graph=True)
    wrong = loss + 10.0 * ((gx.norm(dim=1) - 1) ** 2).mean()
    wgrads = torch.autograd.grad(wrong, list(G_ref.parameters()))
    assert max((a - b).abs().max().item() for a, b in zip(grads, wgrads)) > 1e-4


def test_interpolate_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        wgan.interpolate(torch.ones(3, 2), torch.ones(4, 2))
    with pytest.raises(ValueError, match="non-batch axis"):
        wgan.interpolate(torch.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match="lam"):
        wgan.gradient_penalty(lambda x: x.sum(1), torch.ones(3, 2), torch.ones(3, 2), lam=-1.0)
    with pytest.raises(ValueError, match="unknown batch_dims 3; choose one of: 1, 2"):
        wgan.interpolate(torch.ones(3, 2), torch.ones(3, 2), batch_dims=3)
    with pytest.raises(TypeError, match="real"):
        wgan.lipschitz_estimate(lambda x: x.sum(1), [[0.0]], torch.ones(1, 1))
    with pytest.raises(TypeError, match="x"):
        wgan.gradient_norms(lambda x: x.sum(1), [[0.0]])


def test_penalty_and_projection_in_d_step():
    """d_step adds the penalty to D's loss and projects D after the step, as the glossary says."""
    torch.manual_seed(0)
    D, G = nets.MLP(2, 1, 8, 1, activation="tanh"), nets.MLP(2, 2, 8, 1)
    real, z = torch.randn(16, 2), torch.randn(16, 2)
    opt = torch.optim.SGD(D.parameters(), lr=0.0)
    plain = train.d_step(D, G, opt, real, z, losses.wgan_d_loss)
    gp = partial(wgan.gradient_penalty, generator=torch.Generator().manual_seed(1))
    total = train.d_step(D, G, opt, real, z, losses.wgan_d_loss, penalty=gp)
    with torch.no_grad():
        fake = G(z)
    expect = wgan.gradient_penalty(D, real, fake, generator=torch.Generator().manual_seed(1))
    assert total.item() == pytest.approx(plain.item() + expect.item(), rel=1e-6)
    train.d_step(D, G, torch.optim.SGD(D.parameters(), lr=1.0), real, z, losses.wgan_d_loss,
                 project=partial(wgan.clip_weights, c=0.01))
    assert max(p.abs().max().item() for p in D.parameters()) <= 0.01


def test_critic_configs():
    c = wgan.get_critic_config("clip")
    assert (c.optimizer, c.lr, c.clip, c.n_critic) == ("rmsprop", 5e-5, 0.01, 5)
    g = wgan.get_critic_config("gp")
    assert (g.optimizer, g.lr, g.betas, g.lam, g.n_critic) == ("adam", 1e-4, (0.5, 0.9), 10.0, 5)
    s = wgan.get_critic_config("sn")
    assert (s.optimizer, s.lr, s.betas, s.n_critic) == ("adam", 1e-4, (0.5, 0.9), 5)
    assert set(wgan.CRITIC_CONFIGS) == {"clip", "gp", "sn"}
    with pytest.raises(ValueError, match="unknown Lipschitz method 'gradient'; choose one of: clip, gp, sn"):
        wgan.get_critic_config("gradient")
    m = nets.MLP(2, 1, 4, 1)
    assert isinstance(wgan.make_optimizer(m.parameters(), c), torch.optim.RMSprop)
    adam = wgan.make_optimizer(m.parameters(), g)
    assert isinstance(adam, torch.optim.Adam) and adam.param_groups[0]["betas"] == (0.5, 0.9)
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'; choose one of: rmsprop, adam"):
        wgan.make_optimizer(m.parameters(), wgan.CriticConfig("gp", "sgd", 1e-3))


def test_spectral_norm_critic_is_at_most_one_lipschitz():
    torch.manual_seed(0)
    critic = nets.MLP(2, 1, 32, 3, spectral_norm=True)
    for _ in range(30):                 # let the power iteration converge
        critic(torch.randn(8, 2))
    critic.eval()
    lip = wgan.lipschitz_estimate(critic, torch.randn(256, 2), 3 * torch.randn(256, 2))
    assert 0.05 < lip <= 1.0 + 1e-3
    assert not math.isnan(lip)


def test_interpolate_uses_generator_in_input_dtype():
    real = torch.ones(5, 2, dtype=torch.float64)
    fake = torch.zeros(5, 2, dtype=torch.float64)
    eps = torch.rand(5, 1, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    got = wgan.interpolate(real, fake, torch.Generator().manual_seed(3))
    torch.testing.assert_close(got, eps.expand(5, 2), rtol=0, atol=0)


def test_lipschitz_estimate_sees_interpolates():
    # a bump exp(-||x||^2) is flat at the far-away real and fake points; its slope lives on
    # the segments between them: the estimate is the max over those interpolates
    bump = lambda x: torch.exp(-(x ** 2).sum(1))  # noqa: E731
    real = torch.tensor([[8.0, 0.1], [8.0, -0.3], [7.0, 0.2]], dtype=torch.float64)
    fake = -real
    got = wgan.lipschitz_estimate(bump, real, fake, torch.Generator().manual_seed(0))
    x_hat = wgan.interpolate(real, fake, torch.Generator().manual_seed(0))
    assert got == pytest.approx(float(wgan.gradient_norms(bump, x_hat).max()), rel=1e-12)
    assert got > 1e-6
    assert not wgan.gradient_norms(bump, x_hat).requires_grad     # no graph kept by default


def test_gp_default_lambda_and_zero_center():
    w = torch.tensor([3.0, -4.0])                # ||w|| = 5
    critic = lambda x: x @ w  # noqa: E731
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    assert wgan.gradient_penalty(critic, real, fake).item() == pytest.approx(10.0 * 16.0, rel=1e-6)
    assert wgan.gradient_penalty(critic, real, fake, center=0.0).item() == pytest.approx(250.0, rel=1e-6)


def test_make_optimizer_uses_config_lr():
    m = nets.MLP(2, 1, 4, 1)
    for method in ("clip", "gp"):
        c = wgan.get_critic_config(method)
        assert wgan.make_optimizer(m.parameters(), c).param_groups[0]["lr"] == c.lr
