"""Tests for ganlib.vae: closed forms of the KL, ELBO and evidence, the IWAE bound, the two
gradient estimators, and a smoke test of VAE training."""
import math
import re

import numpy as np
import pytest
import torch
from scipy import stats
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


# ----------------------------------------------------------------------------- exact values
def test_reparameterize_and_log_prob_exact():
    mu = torch.tensor([[0.5, -1.0]], dtype=torch.float64)
    logvar = torch.tensor([[0.3, -2.0]], dtype=torch.float64)
    eps = torch.randn(1, 2, generator=_gen(9), dtype=torch.float64)
    torch.testing.assert_close(vae.reparameterize(mu, logvar, _gen(9)), mu + (0.5 * logvar).exp() * eps,
                               rtol=0, atol=0)
    # a float log-variance is shared by all coordinates and used in x's dtype (float64)
    x, m = torch.tensor([1.0, 2.0, -0.5], dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    want = sum(-0.5 * (math.log(2 * math.pi) + 10.3 + xi**2 / math.exp(10.3)) for xi in (1.0, 2.0, -0.5))
    assert vae.gaussian_log_prob(x, m, 10.3).item() == pytest.approx(want, rel=1e-14)


def test_vae_architecture_clamp_and_generator():
    model = vae.VAE(10, 3)                         # width 256, depth 2 by default
    lin = [mod for mod in model.encoder.net if isinstance(mod, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in lin] == [(10, 256), (256, 256), (256, 6)]
    assert len([m for m in model.decoder.net if isinstance(m, torch.nn.Linear)]) == 3
    mu, logvar = model.encode(torch.zeros(2, 10))
    assert mu.shape == logvar.shape == (2, 3)
    with torch.no_grad():
        lin[-1].weight.zero_()
        lin[-1].bias.copy_(torch.tensor([0.0, 0, 0, 50.0, -50.0, 1.5]))
    _, logvar = model.encode(torch.zeros(2, 10))
    assert logvar[0].tolist() == [8.0, -12.0, 1.5]
    x = torch.randn(4, 10, generator=_gen(10))
    a, b = model(x, _gen(11)), model(x, _gen(11))
    assert torch.equal(a[0], b[0])


def test_vae_loss_default_lam_and_zero():
    g = _gen(12)
    x, x_hat = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    mu, logvar = torch.randn(5, 2, generator=g), torch.randn(5, 2, generator=g)
    loss, rec, kl = vae.vae_loss(x, x_hat, mu, logvar)
    torch.testing.assert_close(loss, rec + kl)
    torch.testing.assert_close(rec, (x - x_hat).pow(2).sum(1).mean())
    assert torch.equal(vae.vae_loss(x, x_hat, mu, logvar, lam=0.0)[0], rec)


def _reference_train(model, data, steps, batch_size, lam, lr, g, log_every):
    """train_vae written out: the same draws from g, Adam, means of (loss, rec, kl) per log."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    logs, buf = [], []
    for step in range(1, steps + 1):
        x = data[torch.randint(len(data), (batch_size,), generator=g)]
        x_hat, mu, logvar = model(x, g)
        loss, rec, kl = vae.vae_loss(x, x_hat, mu, logvar, lam)
        opt.zero_grad()
        loss.backward()
        opt.step()
        buf.append([loss.item(), rec.item(), kl.item()])
        if step % log_every == 0 or step == steps:
            logs.append([step] + np.mean(buf, 0).tolist())
            buf = []
    return np.array(logs)


def test_train_vae_matches_reference_loop_and_defaults(capsys):
    data = torch.tanh(torch.randn(40, 3, generator=_gen(13)))
    torch.manual_seed(1)
    model = vae.VAE(3, 1, width=4, depth=1)
    ref_model = vae.VAE(3, 1, width=4, depth=1)
    ref_model.load_state_dict(model.state_dict())
    hist = vae.train_vae(model, data, steps=102, generator=_gen(14))   # defaults: 128, 1.0, 1e-3, 100
    ref = _reference_train(ref_model, data, 102, 128, 1.0, 1e-3, _gen(14), 100)
    assert hist["step"].tolist() == [100, 102]
    np.testing.assert_allclose(np.stack([hist["loss"], hist["rec"], hist["kl"]], 1), ref[:, 1:], rtol=1e-5)
    for p, q in zip(model.parameters(), ref_model.parameters()):
        torch.testing.assert_close(p, q)
    err = capsys.readouterr().err                   # the progress bar is on by default
    assert re.search(r"(^|\r)vae: 100%", err) and "loss=" in err and "kl=" in err
    hist = vae.train_vae(model, data, steps=5, batch_size=4, lam=0.5, lr=1e-2, generator=_gen(15),
                         log_every=2, progress=False, desc="run")
    assert hist["step"].tolist() == [2, 4, 5] and capsys.readouterr().err == ""


def test_gradient_estimators_per_sample_values():
    # z = mu + sigma eps with eps drawn from the generator, f(z) = sum z^2:
    # pathwise (2 z, 2 z eps); score function f(z) ((z - mu)/sigma^2, (z - mu)^2/sigma^3 - 1/sigma)
    f = lambda z: z.pow(2).sum(-1)  # noqa: E731
    mu = torch.tensor([0.5, -1.0], dtype=torch.float64)
    sigma = torch.tensor([0.8, 0.3], dtype=torch.float64)
    eps = torch.randn(7, 2, generator=_gen(16), dtype=torch.float64)
    z = mu + sigma * eps
    g_mu, g_sigma = vae.reparameterization_gradients(f, mu, sigma, 7, _gen(16))
    torch.testing.assert_close(g_mu, 2 * z)
    torch.testing.assert_close(g_sigma, 2 * z * eps)
    g_mu, g_sigma = vae.score_function_gradients(f, mu, sigma, 7, _gen(16))
    fz = f(z)[:, None]
    torch.testing.assert_close(g_mu, fz * (z - mu) / sigma**2)
    torch.testing.assert_close(g_sigma, fz * ((z - mu) ** 2 / sigma**3 - 1 / sigma))
    for est in (vae.reparameterization_gradients, vae.score_function_gradients):
        with pytest.raises(ValueError, match=r"^mu must have 1 dimensions"):
            est(f, mu[None], sigma, 3)
        with pytest.raises(ValueError, match=r"^sigma must have 1 dimensions"):
            est(f, mu, sigma[None], 3)


def test_linear_gaussian_model_is_float64_from_lists():
    W, b, s = [[0.3, -1.1], [0.7, 0.2], [1.3, 0.4]], [0.1, -0.2, 0.3], 0.6
    model = vae.LinearGaussianModel(W, b, s)
    assert model.W.dtype == model.b.dtype == torch.float64
    x = torch.tensor([[0.2, 0.4, -0.1]], dtype=torch.float64)
    Wn = np.array(W)
    ref = stats.multivariate_normal(np.array(b), Wn @ Wn.T + s**2 * np.eye(3)).logpdf(x[0].numpy())
    assert model.log_marginal(x).item() == pytest.approx(ref, rel=1e-13)
