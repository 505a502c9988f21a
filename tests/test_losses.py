"""ganlib.losses: the vanilla GAN losses are binary cross-entropies and saturate as documented."""
import math

import pytest
import torch
import torch.nn.functional as F

from ganlib import losses


def _logits(n=257, seed=0):
    g = torch.Generator().manual_seed(seed)
    return 3 * torch.randn(n, generator=g, dtype=torch.float64)


def test_discriminator_loss_is_bce_with_logits():
    real, fake = _logits(seed=0), _logits(seed=1)
    bce = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
           + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    assert torch.allclose(losses.discriminator_loss(real, fake), bce, atol=1e-12)
    assert torch.allclose(losses.gan_value(real, fake), -bce, atol=1e-12)


def test_value_matches_log_sigmoid_formula():
    real, fake = _logits(seed=2), _logits(seed=3)
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    v = torch.log(d_real).mean() + torch.log(1 - d_fake).mean()
    assert torch.allclose(losses.gan_value(real, fake), v, atol=1e-10)


def test_generator_losses_are_bce():
    fake = _logits(seed=4)
    # minimax: E log(1 - D) = -BCE(fake, label 0)
    assert torch.allclose(losses.generator_loss_minimax(fake),
                          -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)),
                          atol=1e-12)
    # non-saturating: -E log D = BCE(fake, label 1)
    assert torch.allclose(losses.generator_loss_nonsaturating(fake),
                          F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake)),
                          atol=1e-12)


def test_value_at_d_half_is_minus_log4():
    z = torch.zeros(10)
    assert math.isclose(losses.gan_value(z, z).item(), -losses.LOG4, rel_tol=1e-6)
    assert math.isclose(losses.discriminator_loss(z, z).item(), math.log(4), rel_tol=1e-6)


def test_accepts_column_logits():
    real, fake = _logits(seed=5), _logits(seed=6)
    assert torch.allclose(losses.discriminator_loss(real[:, None], fake[:, None]),
                          losses.discriminator_loss(real, fake))


def test_generator_gradients_sign_and_saturation():
    """d/dl E log(1 - sigmoid(l)) = -D/B and d/dl -E log sigmoid(l) = -(1 - D)/B."""
    fake = torch.linspace(-12, 12, 49, dtype=torch.float64, requires_grad=True)
    d = torch.sigmoid(fake).detach()
    n = fake.numel()
    (g_mm,) = torch.autograd.grad(losses.generator_loss_minimax(fake), fake)
    (g_ns,) = torch.autograd.grad(losses.generator_loss_nonsaturating(fake), fake)
    assert torch.allclose(g_mm, -d / n, atol=1e-14)
    assert torch.allclose(g_ns, -(1 - d) / n, atol=1e-14)
    # both push the logit up (gradient descent increases l); the minimax one vanishes as D -> 0
    assert (g_mm < 0).all() and (g_ns < 0).all()
    assert g_mm[0].abs() < 1e-5 / n and g_ns[0].abs() > 0.99 / n


def test_discriminator_gradient_signs():
    real = torch.zeros(4, requires_grad=True)
    fake = torch.zeros(4, requires_grad=True)
    g_real, g_fake = torch.autograd.grad(losses.discriminator_loss(real, fake), (real, fake))
    assert (g_real < 0).all() and (g_fake > 0).all()  # descent raises real logits, lowers fake


def test_generator_loss_lookup():
    assert losses.generator_loss("minimax") is losses.generator_loss_minimax
    assert losses.generator_loss("nonsaturating") is losses.generator_loss_nonsaturating
    with pytest.raises(ValueError, match="minimax"):
        losses.generator_loss("wasserstein")


@pytest.mark.parametrize("bad", [torch.zeros(3, 2), torch.zeros(2, 2, 1), torch.zeros(0)])
def test_bad_shapes_raise(bad):
    with pytest.raises(ValueError):
        losses.discriminator_loss(bad, torch.zeros(3))


def test_non_tensor_raises():
    with pytest.raises(TypeError):
        losses.generator_loss_minimax([0.0, 1.0])
