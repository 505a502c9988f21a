"""Tests for ganlib.pggan: equalized learning rate, pixel norm, minibatch std, fade-in."""
import math

import pytest
import torch
import torch.nn.functional as F

from ganlib import losses as L
from ganlib import pggan as P
from ganlib import train as T
from ganlib import wgan as W

CH = (8, 6, 4)          # widths of the 4x4, 8x8 and 16x16 stages
LATENT = 5


@pytest.fixture
def nets():
    torch.manual_seed(0)
    G = P.ProgressiveGenerator(LATENT, CH)
    D = P.ProgressiveDiscriminator(CH)
    # non-zero biases so that a dropped bias term would show
    with torch.no_grad():
        for m in (G, D):
            for name, p in m.named_parameters():
                if name.endswith("bias"):
                    p.normal_()
    return G, D


# ------------------------------------------------------------------ equalized learning rate
def test_he_constant():
    assert P.he_constant(50) == pytest.approx(math.sqrt(2 / 50))
    assert P.he_constant(9, gain=1.0) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="fan_in"):
        P.he_constant(0)
    with pytest.raises(ValueError, match="gain"):
        P.he_constant(4, gain=-1.0)


def test_equalized_conv_effective_weight_has_he_std():
    torch.manual_seed(1)
    layer = P.EqualizedConv2d(64, 64, 3, padding=1)
    fan_in = 64 * 3 * 3
    # the stored weight is standard normal, the effective one has the He std sqrt(2 / fan_in)
    assert layer.weight.std().item() == pytest.approx(1.0, rel=0.03)
    assert layer.effective_weight().std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.03)
    assert layer.scale == pytest.approx(math.sqrt(2 / fan_in))


def test_equalized_conv_equals_conv2d_with_scaled_weight():
    torch.manual_seed(2)
    layer = P.EqualizedConv2d(3, 5, 3, padding=1)
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(4, 3, 7, 7)
    want = F.conv2d(x, layer.weight * math.sqrt(2 / 27), layer.bias, padding=1)
    torch.testing.assert_close(layer(x), want)
    assert layer(x).shape == (4, 5, 7, 7)


def test_equalized_linear_equals_linear_with_scaled_weight():
    torch.manual_seed(3)
    layer = P.EqualizedLinear(10, 4, gain=1.0)
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(6, 10)
    torch.testing.assert_close(layer(x), x @ (layer.weight / math.sqrt(10)).T + layer.bias)


def test_equalized_adam_step_is_the_same_relative_size_in_every_layer():
    """First Adam step moves each stored weight by ~lr, so the effective one by ~lr * c."""
    torch.manual_seed(4)
    lr = 1e-3
    for fan in (4, 64):
        layer = P.EqualizedConv2d(fan, 8, 3, padding=1)
        before = layer.effective_weight().detach().clone()
        opt = torch.optim.Adam(layer.parameters(), lr=lr, eps=1e-12)
        layer(torch.randn(16, fan, 5, 5)).pow(2).mean().backward()
        opt.step()
        step = (layer.effective_weight().detach() - before).abs()
        rel = step / before.std()
        # |update| = lr * c exactly (first Adam step is lr * sign(g)), i.e. lr relative to std
        torch.testing.assert_close(step, torch.full_like(step, lr * layer.scale), rtol=1e-3, atol=0)
        assert rel.mean().item() == pytest.approx(lr, rel=0.1)


def test_equalized_bad_input():
    with pytest.raises(ValueError, match="in_channels"):
        P.EqualizedConv2d(0, 3, 3)
    with pytest.raises(ValueError, match="padding"):
        P.EqualizedConv2d(2, 3, 3, padding=-1)
    with pytest.raises(ValueError, match="out_features"):
        P.EqualizedLinear(3, 0)


# ------------------------------------------------------------------ pixel norm
def test_pixel_norm_unit_mean_square_at_every_pixel():
    torch.manual_seed(5)
    a = 3.0 * torch.randn(4, 7, 5, 5) + 1.0
    b = P.pixel_norm(a)
    ms = b.pow(2).mean(dim=1)                        # (4, 5, 5)
    torch.testing.assert_close(ms, torch.ones_like(ms), rtol=1e-5, atol=1e-5)
    # b is a positive rescaling of a at each pixel
    ratio = b / a
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio))
    assert (ratio > 0).all()
    # invariant to a positive rescaling of a
    torch.testing.assert_close(P.pixel_norm(5.0 * a), b, rtol=1e-5, atol=1e-6)
    # rows of a (B, C) matrix
    z = torch.randn(3, 10)
    torch.testing.assert_close(P.pixel_norm(z).pow(2).mean(1), torch.ones(3), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(P.PixelNorm()(a), b)


def test_pixel_norm_bad_input():
    with pytest.raises(ValueError, match="shape"):
        P.pixel_norm(torch.ones(2, 3, 4))
    with pytest.raises(TypeError):
        P.pixel_norm([1.0, 2.0])
    with pytest.raises(ValueError, match="eps"):
        P.pixel_norm(torch.ones(2, 3), eps=-1.0)


# ------------------------------------------------------------------ minibatch std
def test_minibatch_std_equals_hand_computed_statistic():
    torch.manual_seed(6)
    x = torch.randn(6, 3, 4, 4)
    y = P.minibatch_std(x, eps=0.0)
    assert y.shape == (6, 4, 4, 4)
    torch.testing.assert_close(y[:, :3], x)
    # population std across the batch, per feature and position, then averaged
    xs = x.numpy()
    want = xs.std(axis=0, ddof=0).mean()
    torch.testing.assert_close(y[:, 3], torch.full((6, 4, 4), float(want)), rtol=1e-5, atol=1e-6)
    # constant across positions and samples
    assert torch.all(y[:, 3] == y[0, 3, 0, 0])


def test_minibatch_std_groups_and_collapse():
    torch.manual_seed(7)
    x = torch.randn(8, 2, 3, 3)
    y = P.minibatch_std(x, group_size=4, eps=0.0)
    for g in range(2):
        want = x[4 * g: 4 * g + 4].std(dim=0, unbiased=False).mean()
        torch.testing.assert_close(y[4 * g: 4 * g + 4, 2], want.expand(4, 3, 3))
    # a collapsed batch (all samples equal) gets sqrt(eps)
    same = x[:1].expand(8, 2, 3, 3)
    torch.testing.assert_close(P.minibatch_std(same, eps=1e-8)[:, 2],
                               torch.full((8, 3, 3), 1e-4), rtol=1e-3, atol=0)
    # the statistic scales with the spread: doubling x doubles it (eps = 0)
    torch.testing.assert_close(P.minibatch_std(2 * x, eps=0.0)[:, 2],
                               2 * P.minibatch_std(x, eps=0.0)[:, 2])
    torch.testing.assert_close(P.MinibatchStd(4, 0.0)(x), y)


def test_minibatch_std_bad_input():
    with pytest.raises(ValueError, match="divide"):
        P.minibatch_std(torch.ones(6, 2, 3, 3), group_size=4)
    with pytest.raises(ValueError, match="group_size"):
        P.minibatch_std(torch.ones(6, 2, 3, 3), group_size=0)
    with pytest.raises(ValueError, match="dimensions"):
        P.minibatch_std(torch.ones(6, 2, 3))


# ------------------------------------------------------------------ sampling helpers
def test_upsample_downsample():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    u = P.upsample(x)
    assert u.shape == (1, 1, 8, 8)
    torch.testing.assert_close(u[0, 0, ::2, ::2], x[0, 0])
    torch.testing.assert_close(u[0, 0, 1::2, 1::2], x[0, 0])
    # average pooling undoes nearest upsampling
    torch.testing.assert_close(P.downsample(u), x)
    torch.testing.assert_close(P.downsample(x), x.view(1, 1, 2, 2, 2, 2).mean((3, 5)))
    with pytest.raises(ValueError, match="divisible"):
        P.downsample(torch.ones(1, 1, 5, 5))
    assert [P.resolution(s) for s in range(4)] == [4, 8, 16, 32]
    with pytest.raises(ValueError, match="stage"):
        P.resolution(-1)


# ------------------------------------------------------------------ growing generator
def test_generator_shapes(nets):
    G, _ = nets
    z = torch.randn(3, LATENT)
    for s in range(3):
        assert G(z, s).shape == (3, 1, 4 * 2 ** s, 4 * 2 ** s)
    assert G(z).shape == (3, 1, 16, 16)
    assert P.resolution(G.n_stages - 1) == 16 and G.n_stages == 3


def test_generator_fade_in_endpoints(nets):
    G, _ = nets
    z = torch.randn(5, LATENT)
    for s in (1, 2):
        old = G(z, s - 1, 1.0)                       # the network before growing
        # alpha = 0: exactly the old network's image, upsampled (nearest)
        torch.testing.assert_close(G(z, s, 0.0), F.interpolate(old, scale_factor=2))
        # alpha = 1: the new path only, toRGB_s(block_s(h))
        new = G.to_rgb[s](G.features(z, s))
        torch.testing.assert_close(G(z, s, 1.0), new)
        assert (G(z, s, 1.0) - G(z, s, 0.0)).abs().max() > 1e-3
        # in between: the convex combination (1 - alpha) old_up + alpha new
        a = 0.3
        torch.testing.assert_close(G(z, s, a), (1 - a) * P.upsample(old) + a * new)


def test_generator_features_are_pixel_normalized(nets):
    G, _ = nets
    h = G.features(torch.randn(4, LATENT), 2)
    ms = h.pow(2).mean(1)
    torch.testing.assert_close(ms, torch.ones_like(ms), rtol=1e-4, atol=1e-4)


def test_generator_bad_input(nets):
    G, _ = nets
    z = torch.randn(2, LATENT)
    with pytest.raises(ValueError, match="stage"):
        G(z, 3)
    with pytest.raises(ValueError, match="alpha"):
        G(z, 1, 1.5)
    with pytest.raises(ValueError, match="z must"):
        G(torch.randn(2, LATENT + 1), 1)
    with pytest.raises(ValueError, match="channels"):
        P.ProgressiveGenerator(LATENT, ())
    with pytest.raises(ValueError, match="channels"):
        P.ProgressiveGenerator(LATENT, (4, 0))


# ------------------------------------------------------------------ growing discriminator
def test_discriminator_fade_in_endpoints(nets):
    _, D = nets
    torch.manual_seed(8)
    for s in (1, 2):
        x = torch.randn(6, 1, 4 * 2 ** s, 4 * 2 ** s)
        # alpha = 0: the old discriminator reading the average-pooled image
        torch.testing.assert_close(D(x, s, 0.0), D(F.avg_pool2d(x, 2), s - 1, 1.0))
        assert (D(x, s, 1.0) - D(x, s, 0.0)).abs().max() > 1e-4
        assert D(x, s, 0.5).shape == (6,)


def test_discriminator_uses_minibatch_std(nets):
    _, D = nets
    x = torch.randn(4, 1, 16, 16)
    # the score of sample 0 depends on the other samples of the batch (through the std map)
    x2 = x.clone()
    x2[1:] = 3 * x2[1:]
    assert (D(x)[0] - D(x2)[0]).abs() > 1e-6


def test_discriminator_bad_input(nets):
    _, D = nets
    with pytest.raises(ValueError, match="expects images"):
        D(torch.randn(2, 1, 8, 8), 2)
    with pytest.raises(ValueError, match="stage"):
        D(torch.randn(2, 1, 8, 8), 5)
    with pytest.raises(ValueError, match="alpha"):
        D(torch.randn(2, 1, 8, 8), 1, -0.1)


def test_at_stage_shares_parameters_and_trains(nets):
    G, D = nets
    Gs, Ds = G.at(1, 0.25), D.at(1, 0.25)
    z = torch.randn(4, LATENT)
    torch.testing.assert_close(Gs(z), G(z, 1, 0.25))
    assert {id(p) for p in Gs.parameters()} == {id(p) for p in G.parameters()}
    opt_d = torch.optim.Adam(D.parameters(), 1e-3, betas=(0.0, 0.99))
    opt_g = torch.optim.Adam(G.parameters(), 1e-3, betas=(0.0, 0.99))
    real = torch.randn(4, 1, 8, 8)
    before = D.from_rgb[1].weight.detach().clone()
    T.d_step(Ds, Gs, opt_d, real, z, L.wgan_d_loss,
             penalty=lambda d, r, f: W.gradient_penalty(d, r, f) + P.drift_penalty(d, r, f))
    assert not torch.equal(before, D.from_rgb[1].weight)
    g_before = G.to_rgb[1].weight.detach().clone()
    T.g_step(Ds, Gs, opt_g, z, L.wgan_g_loss)
    assert not torch.equal(g_before, G.to_rgb[1].weight)
    with pytest.raises(ValueError, match="alpha"):
        G.at(1, 2.0)


# ------------------------------------------------------------------ schedule and drift
def test_growth_schedule():
    sch = P.GrowthSchedule(n_stages=3, stable=4, fade=2)
    got = [sch(t) for t in range(sch.total + 2)]
    assert sch.total == 4 + 2 * 6
    want = ([(0, 1.0)] * 4 + [(1, 0.0), (1, 0.5)] + [(1, 1.0)] * 4
            + [(2, 0.0), (2, 0.5)] + [(2, 1.0)] * 4 + [(2, 1.0)] * 2)
    assert got == want
    with pytest.raises(ValueError, match="step"):
        sch(-1)
    with pytest.raises(ValueError, match="fade"):
        P.GrowthSchedule(3, 4, 0)


def test_drift_penalty():
    """A penalty callable (D, real, fake) -> eps_drift E[D(x)^2], on real samples only."""
    t = torch.tensor([1.0, -2.0, 3.0])
    ident = lambda x: x  # noqa: E731  (a "critic" whose scores are its inputs)
    fake = torch.full((3,), 100.0)
    assert P.drift_penalty(ident, t, fake).item() == pytest.approx(1e-3 * 14 / 3)
    assert P.drift_penalty(ident, t[:, None], fake, 0.5).item() == pytest.approx(0.5 * 14 / 3)
    assert P.drift_penalty(ident, t, fake, eps_drift=0.0).item() == 0.0
    with pytest.raises(ValueError, match="eps_drift"):
        P.drift_penalty(ident, t, fake, -1.0)
    with pytest.raises(ValueError, match="d_real is empty"):
        P.drift_penalty(ident, torch.ones(0), fake)
    with pytest.raises(ValueError, match="d_real must have shape"):
        P.drift_penalty(ident, torch.ones(3, 2), fake)


def test_real_images_at():
    torch.manual_seed(9)
    x = torch.randn(3, 1, 16, 16)
    x8 = F.avg_pool2d(x, 2)
    torch.testing.assert_close(P.real_images_at(x, 2), x)
    torch.testing.assert_close(P.real_images_at(x, 1), x8)
    torch.testing.assert_close(P.real_images_at(x, 0), F.avg_pool2d(x, 4))
    # alpha = 0: the half-resolution image, upsampled; in between: the blend
    blurred = F.interpolate(F.avg_pool2d(x8, 2), scale_factor=2)
    torch.testing.assert_close(P.real_images_at(x, 1, 0.0), blurred)
    torch.testing.assert_close(P.real_images_at(x, 1, 0.25), 0.75 * blurred + 0.25 * x8)
    with pytest.raises(ValueError, match="pooled"):
        P.real_images_at(torch.randn(2, 1, 8, 8), 2)
    with pytest.raises(ValueError, match="alpha"):
        P.real_images_at(x, 1, 2.0)


def test_growth_leaves_the_critic_values_unchanged(nets):
    """At alpha = 0 the grown critic scores grown fakes and blended reals as before growing."""
    G, D = nets
    torch.manual_seed(10)
    x = torch.randn(6, 1, 16, 16)
    z = torch.randn(6, LATENT)
    for s in (1, 2):
        before_real = D(P.real_images_at(x, s - 1), s - 1)
        after_real = D(P.real_images_at(x, s, 0.0), s, 0.0)
        torch.testing.assert_close(after_real, before_real, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(D(G(z, s, 0.0), s, 0.0), D(G(z, s - 1), s - 1),
                                   rtol=1e-5, atol=1e-5)
