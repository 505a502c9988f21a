"""Tests for ganlib.vae: closed forms of the KL, ELBO and evidence, the IWAE bound, the two
gradient estimators, and a smoke test of VAE training."""
import math

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from ganlib import divergences, vae


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_reparameterize_moments():
    mu = torch.full((200_000, 1), 1.5)
    logvar = torch.full((200_000, 1), math.log(0.25))
    z = vae.reparameterize(mu, logvar, _gen())
    assert abs(z.mean().item() - 1.5) < 0.01
    assert abs(z.std().item() - 0.5) < 0.01


def test_gaussian_log_prob_matches_torch():
    g = _gen(1)
    x, m, lv = (torch.randn(5, 4, generator=g, dtype=torch.float64) for _ in range(3))
    ref = Normal(m, (0.5 * lv).exp()).log_prob(x).sum(-1)
    torch.testing.assert_close(vae.gaussian_log_prob(x, m, lv), ref)


def _linear_model(seed=0, n=4, d=2, s=0.6):
    g = _gen(seed)
    W = torch.randn(n, d, generator=g, dtype=torch.float64)
    b = torch.randn(n, generator=g, dtype=torch.float64)
    model = vae.LinearGaussianModel(W, b, s)
    z = torch.randn(3, d, generator=g, dtype=torch.float64)
    x = z @ W.T + b + s * torch.randn(3, n, generator=g, dtype=torch.float64)
    return model, x


def test_linear_gaussian_gap_is_kl_to_posterior():
    model, x = _linear_model()
    m, S = model.posterior(x)
    q_mean, q_logvar = m + 0.4, torch.log(torch.diagonal(S)).expand_as(m) - 0.3
    gap = model.log_marginal(x) - model.elbo(x, q_mean, q_logvar)
    kl = kl_divergence(MultivariateNormal(q_mean, torch.diag_embed(q_logvar.exp())),
                       MultivariateNormal(m, S))
    torch.testing.assert_close(gap, kl)
    assert (gap > 0).all()


def test_linear_gaussian_posterior_is_bayes_rule():
    # log p(z|x) = log p(x, z) - log p(x) must equal the Gaussian N(m, S) density at any z
    model, x = _linear_model(2)
    m, S = model.posterior(x)
    z = torch.randn(3, model.d, generator=_gen(3), dtype=torch.float64)
    lhs = model.log_joint(x, z) - model.log_marginal(x)
    rhs = MultivariateNormal(m, S).log_prob(z)
    torch.testing.assert_close(lhs, rhs)


def test_iwae_bound_increases_toward_evidence():
    model, x = _linear_model(1)
    m, S = model.posterior(x)
    q_mean, q_logvar = m + 0.5, torch.log(torch.diagonal(S)).expand_as(m)
    log_px = model.log_marginal(x)
    g = _gen(4)
    means = []
    for k in (1, 10, 1000):
        lw = model.log_weights(x, q_mean, q_logvar, k * 200, g).view(200, k, -1).transpose(0, 1)
        means.append(vae.iwae_bound(lw).mean(0))     # average of 200 independent L_K
    torch.testing.assert_close(means[0], model.elbo(x, q_mean, q_logvar), atol=0.15, rtol=0)
    assert (means[0] < means[1]).all() and (means[1] < means[2]).all()
    assert (means[2] <= log_px + 0.01).all()
    assert ((log_px - means[2]).abs() < 0.05).all()
    with pytest.raises(ValueError):
        vae.iwae_bound(torch.tensor(1.0))


def test_gradient_estimators_agree_with_closed_form():
    # E[z^2] = mu^2 + sigma^2: d/dmu = 2 mu, d/dsigma = 2 sigma
    f = lambda z: z.pow(2).sum(-1)
    mu = torch.tensor([0.5, -1.0], dtype=torch.float64)
    sigma = torch.tensor([0.8, 0.3], dtype=torch.float64)
    n = 200_000
    for est in (vae.reparameterization_gradients, vae.score_function_gradients):
        g_mu, g_sigma = est(f, mu, sigma, n, _gen(5))
        se_mu = g_mu.std(0) / math.sqrt(n)
        se_sigma = g_sigma.std(0) / math.sqrt(n)
        assert ((g_mu.mean(0) - 2 * mu).abs() < 4 * se_mu).all()
        assert ((g_sigma.mean(0) - 2 * sigma).abs() < 4 * se_sigma).all()
    rep = vae.reparameterization_gradients(f, mu, sigma, 20_000, _gen(6))[0].var(0)
    sf = vae.score_function_gradients(f, mu, sigma, 20_000, _gen(6))[0].var(0)
    assert (sf > 2 * rep).all()
    with pytest.raises(ValueError, match="positive"):
        vae.score_function_gradients(f, mu, -sigma, 10)


def test_vae_loss_is_scaled_negative_elbo():
    # ||x - x_hat||^2 + 2 s^2 KL = 2 s^2 (-log p(x|z) - n/2 log(2 pi s^2) + KL)
    g = _gen(7)
    x, x_hat = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    mu, logvar = torch.randn(6, 2, generator=g), torch.randn(6, 2, generator=g)
    s = 0.3
    loss, rec, kl = vae.vae_loss(x, x_hat, mu, logvar, lam=2 * s**2)
    log_lik = vae.gaussian_log_prob(x, x_hat, 2 * math.log(s)).mean()
    neg_elbo = -log_lik + kl
    const = 0.5 * 5 * math.log(2 * math.pi * s**2)
    torch.testing.assert_close(loss, 2 * s**2 * (neg_elbo - const))
    torch.testing.assert_close(kl, divergences.kl_to_standard_normal(mu, logvar).mean())
    with pytest.raises(ValueError, match="lam"):
        vae.vae_loss(x, x_hat, mu, logvar, lam=-1.0)
    with pytest.raises(ValueError, match="same shape"):
        vae.vae_loss(x, x_hat[:, :4], mu, logvar)
    with pytest.raises(ValueError, match="same shape"):
        vae.reparameterize(mu, logvar[:, :1])
    assert not hasattr(vae, "kl_to_standard_normal")     # one home: ganlib.divergences


def test_vae_trains_on_tiny_data():
    torch.manual_seed(0)
    g = _gen(8)
    data = torch.tanh(torch.randn(64, 2, generator=g) @ torch.randn(2, 10, generator=g))
    model = vae.VAE(10, 2, width=32, depth=1)
    hist = vae.train_vae(model, data, steps=300, batch_size=32, lam=0.1, lr=3e-3, generator=g,
                         log_every=50, progress=False)
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    assert model.sample(5, g).shape == (5, 10)
    with pytest.raises(ValueError):
        vae.VAE(10, 0)
