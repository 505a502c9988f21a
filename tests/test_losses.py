"""ganlib.losses: GAN losses are binary cross-entropies and saturate as documented; LSGAN and
WGAN losses have their closed forms and minimizers; get_loss names every pair."""
import math

import pytest
import torch
import torch.nn.functional as F

from ganlib import fdiv, losses


def _logits(n=257, seed=0):
    g = torch.Generator().manual_seed(seed)
    return 3 * torch.randn(n, generator=g, dtype=torch.float64)


def test_gan_d_loss_is_bce_with_logits():
    real, fake = _logits(seed=0), _logits(seed=1)
    bce = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
           + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    assert torch.allclose(losses.gan_d_loss(real, fake), bce, atol=1e-12)
    assert torch.allclose(losses.gan_value(real, fake), -bce, atol=1e-12)


def test_value_matches_log_sigmoid_formula():
    real, fake = _logits(seed=2), _logits(seed=3)
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    v = torch.log(d_real).mean() + torch.log(1 - d_fake).mean()
    assert torch.allclose(losses.gan_value(real, fake), v, atol=1e-10)


def test_generator_losses_are_bce():
    fake = _logits(seed=4)
    # minimax: E log(1 - D) = -BCE(fake, label 0)
    assert torch.allclose(losses.minimax_g_loss(fake),
                          -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)),
                          atol=1e-12)
    # non-saturating: -E log D = BCE(fake, label 1)
    assert torch.allclose(losses.nonsaturating_g_loss(fake),
                          F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake)),
                          atol=1e-12)


def test_value_at_d_half_is_minus_log4():
    z = torch.zeros(10)
    assert math.isclose(losses.gan_value(z, z).item(), -losses.LOG4, rel_tol=1e-6)
    assert math.isclose(losses.gan_d_loss(z, z).item(), math.log(4), rel_tol=1e-6)


def test_accepts_column_logits():
    real, fake = _logits(seed=5), _logits(seed=6)
    assert torch.allclose(losses.gan_d_loss(real[:, None], fake[:, None]),
                          losses.gan_d_loss(real, fake))


def test_generator_gradients_sign_and_saturation():
    """d/dl E log(1 - sigmoid(l)) = -D/B and d/dl -E log sigmoid(l) = -(1 - D)/B."""
    fake = torch.linspace(-12, 12, 49, dtype=torch.float64, requires_grad=True)
    d = torch.sigmoid(fake).detach()
    n = fake.numel()
    (g_mm,) = torch.autograd.grad(losses.minimax_g_loss(fake), fake)
    (g_ns,) = torch.autograd.grad(losses.nonsaturating_g_loss(fake), fake)
    assert torch.allclose(g_mm, -d / n, atol=1e-14)
    assert torch.allclose(g_ns, -(1 - d) / n, atol=1e-14)
    # both push the logit up (gradient descent increases l); the minimax one vanishes as D -> 0
    assert (g_mm < 0).all() and (g_ns < 0).all()
    assert g_mm[0].abs() < 1e-5 / n and g_ns[0].abs() > 0.99 / n


def test_discriminator_gradient_signs():
    real = torch.zeros(4, requires_grad=True)
    fake = torch.zeros(4, requires_grad=True)
    g_real, g_fake = torch.autograd.grad(losses.gan_d_loss(real, fake), (real, fake))
    assert (g_real < 0).all() and (g_fake > 0).all()  # descent raises real logits, lowers fake


def test_get_loss_pairs():
    fake, real = _logits(seed=7), _logits(seed=8)
    pairs = {"gan": (losses.gan_d_loss, losses.nonsaturating_g_loss),
             "minimax": (losses.gan_d_loss, losses.minimax_g_loss),
             "lsgan": (losses.lsgan_d_loss, losses.lsgan_g_loss),
             "wgan": (losses.wgan_d_loss, losses.wgan_g_loss)}
    for name, (d, g) in pairs.items():
        pair = losses.get_loss(name)
        assert isinstance(pair, losses.GANLoss) and pair.name == name
        assert pair.d_loss is d and pair.g_loss is g
    assert set(losses.LOSSES) == set(pairs)
    # "fgan-<divergence>": the f-GAN critic loss and the alternative generator loss
    pair = losses.get_loss("fgan-js")
    assert pair.name == "fgan-js"
    assert torch.equal(pair.d_loss(real, fake), fdiv.fgan_d_loss("js", real, fake))
    assert torch.equal(pair.g_loss(fake), fdiv.fgan_g_loss("js", fake, kind="alternative"))
    # fgan-gan is the GAN pair itself: D's loss minus nothing, the non-saturating G loss
    gan = losses.get_loss("fgan-gan")
    assert torch.allclose(gan.d_loss(real, fake), losses.gan_d_loss(real, fake), atol=1e-12)
    assert torch.allclose(gan.g_loss(fake), losses.nonsaturating_g_loss(fake), atol=1e-12)
    with pytest.raises(ValueError, match="unknown loss 'wasserstein'; choose one of: gan, minimax, "
                                         "lsgan, wgan, fgan-kl"):
        losses.get_loss("wasserstein")
    with pytest.raises(ValueError, match="fgan-js"):
        losses.get_loss("fgan-chi")
    with pytest.raises(ValueError):
        losses.get_loss(["gan"])


def test_lsgan_losses_known_values_and_minimizer():
    real, fake = torch.ones(5), torch.zeros(5)
    assert losses.lsgan_d_loss(real, fake).item() == 0.0                  # perfect D
    assert losses.lsgan_d_loss(fake, real).item() == 1.0                  # the worst targets
    assert losses.lsgan_g_loss(torch.ones(3)).item() == 0.0               # fooled D
    assert losses.lsgan_g_loss(torch.zeros(3, 1)).item() == pytest.approx(0.5)
    assert losses.lsgan_g_loss(torch.full((4,), 0.5)).item() == 0.125
    # D minimizing 1/2 E_p (D-1)^2 + 1/2 E_q D^2 pointwise gives D* = p / (p + q). Two points:
    # the real batch holds them with frequencies p = (3/4, 1/4), the fake batch q = (1/4, 3/4);
    # the loss is a convex quadratic in the two scores d and its gradient vanishes at d*.
    real_idx, fake_idx = torch.tensor([0, 0, 0, 1]), torch.tensor([0, 1, 1, 1])
    d_star = torch.tensor([0.75, 0.25], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(losses.lsgan_d_loss(d_star[real_idx], d_star[fake_idx]), d_star)
    assert torch.allclose(g, torch.zeros(2, dtype=torch.float64), atol=1e-15)
    d_off = (d_star + 0.1).detach().requires_grad_(True)
    (g_off,) = torch.autograd.grad(losses.lsgan_d_loss(d_off[real_idx], d_off[fake_idx]), d_off)
    assert (g_off > 0).all()                                   # above d*, descent lowers the scores


def test_wgan_losses_signs():
    t_real = torch.tensor([2.0, 4.0])
    t_fake = torch.tensor([1.0, -1.0, 3.0])          # mean 1: a sign error shows
    assert losses.wgan_d_loss(t_real, t_fake).item() == pytest.approx(1.0 - 3.0)
    assert losses.wasserstein_estimate(t_real, t_fake).item() == pytest.approx(3.0 - 1.0)
    assert losses.wgan_g_loss(t_fake[:, None]).item() == pytest.approx(-1.0)
    assert losses.wgan_g_loss(torch.tensor([1.0, 3.0])).item() == pytest.approx(-2.0)


LOSS_FNS = [losses.gan_value, losses.gan_d_loss, losses.lsgan_d_loss, losses.wgan_d_loss,
            losses.wasserstein_estimate]
G_LOSS_FNS = [losses.minimax_g_loss, losses.nonsaturating_g_loss, losses.lsgan_g_loss,
              losses.wgan_g_loss]


@pytest.mark.parametrize("bad", [torch.zeros(3, 2), torch.zeros(2, 2, 1), torch.zeros(0)])
@pytest.mark.parametrize("fn", LOSS_FNS)
def test_bad_shapes_raise(bad, fn):
    with pytest.raises(ValueError, match=r"^d_real "):     # the message names the argument
        fn(bad, torch.zeros(3))
    with pytest.raises(ValueError, match=r"^d_fake "):
        fn(torch.zeros(3), bad)


@pytest.mark.parametrize("fn", G_LOSS_FNS)
def test_generator_losses_bad_input(fn):
    with pytest.raises(TypeError, match=r"^d_fake "):
        fn([0.0, 1.0])
    with pytest.raises(ValueError, match=r"d_fake must have shape \(B,\) or \(B, 1\)"):
        fn(torch.zeros(4, 1, 2, 2))     # patch scores: the caller flattens them first
    assert fn(torch.zeros(4, 1, 2, 2).reshape(-1)).shape == ()
