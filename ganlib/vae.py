"""Autoencoders and variational autoencoders (Kingma & Welling 2014; Rezende et al. 2014).

Notation (the book's chapter on VAEs):

* encoder q_phi(z | x) = N(mu(x), diag sigma^2(x)); the network outputs ``mu`` and
  ``logvar`` = log sigma^2 (B, d) so that the variance is positive without constraints;
* decoder (generator) H: z (B, d) -> x_hat (B, n), the mean of p_theta(x | z) = N(H(z), s^2 I);
* prior p(z) = N(0, I_d).

The evidence lower bound (ELBO), which the VAE *maximizes*, is

    ELBO(x) = E_{q(z|x)}[log p(x | z)] - KL(q(z | x) || p(z)) <= log p(x),

and with a Gaussian decoder of fixed variance s^2 its negative is, up to an additive constant
and the factor 1/(2 s^2), the loss ``||H(z) - x||^2 + 2 s^2 KL`` that :func:`vae_loss`
computes (``lam`` = 2 s^2). Every loss here is something its optimizer *minimizes*.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from tqdm.auto import tqdm

from . import checks, divergences
from .nets import MLP
from .train import History, check_finite

LOG2PI = math.log(2 * math.pi)


# --------------------------------------------------------------------------- Gaussian pieces
# The KL term KL(q(z | x) || N(0, I)) is ganlib.divergences.kl_to_standard_normal.
def reparameterize(mu: torch.Tensor, logvar: torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I) and sigma = exp(logvar / 2); (..., d) -> (..., d).

    The randomness sits in eps, so z is a differentiable function of (mu, logvar).
    """
    mu, logvar = checks.check_tensor("mu", mu), checks.check_tensor("logvar", logvar)
    checks.same_shape("mu", mu, "logvar", logvar)
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_log_prob(x: torch.Tensor, mean: torch.Tensor, logvar) -> torch.Tensor:
    """log N(x; mean, diag e^logvar) summed over the last axis; (..., n) -> (...).

    ``logvar`` is a tensor broadcastable to ``x`` or a float (a shared log-variance).
    """
    x, mean = checks.check_tensor("x", x), checks.check_tensor("mean", mean)
    logvar = torch.as_tensor(logvar, dtype=x.dtype, device=x.device)
    return -0.5 * (LOG2PI + logvar + (x - mean).pow(2) / logvar.exp()).sum(-1)


# --------------------------------------------------------------------------- models
class Autoencoder(nn.Module):
    """x (B, n) -> z = F(x) (B, d) -> x_hat = H(z) (B, n); trained on ||H(F(x)) - x||^2.

    Decoder output goes through tanh, since the book's images live in [-1, 1].
    """

    def __init__(self, data_dim: int, latent_dim: int, width: int = 256, depth: int = 2):
        super().__init__()
        data_dim = checks.check_int("data_dim", data_dim)
        latent_dim = checks.check_int("latent_dim", latent_dim)
        self.encoder = MLP(data_dim, latent_dim, width, depth, "relu")
        self.decoder = MLP(latent_dim, data_dim, width, depth, "relu")
        self.data_dim, self.latent_dim = data_dim, latent_dim

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.decoder(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class VAE(nn.Module):
    """Encoder x (B, n) -> (mu, logvar) (B, d) each; decoder z (B, d) -> x_hat (B, n) in [-1, 1].

    ``forward(x, generator)`` returns (x_hat, mu, logvar) with x_hat = H(mu + sigma * eps).
    """

    def __init__(self, data_dim: int, latent_dim: int, width: int = 256, depth: int = 2):
        super().__init__()
        data_dim = checks.check_int("data_dim", data_dim)
        latent_dim = checks.check_int("latent_dim", latent_dim)
        self.encoder = MLP(data_dim, 2 * latent_dim, width, depth, "relu")
        self.decoder = MLP(latent_dim, data_dim, width, depth, "relu")
        self.data_dim, self.latent_dim = data_dim, latent_dim

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x.flatten(1))                  # (B, 2d)
        mu, logvar = h.chunk(2, dim=1)                  # (B, d), (B, d)
        return mu, logvar.clamp(-12.0, 8.0)             # keep exp(logvar) finite

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.decoder(z))              # (B, n)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar, generator)), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """x = H(z), z ~ N(0, I_d): (n, data_dim)."""
        n = checks.check_int("n", n)
        device = next(self.parameters()).device
        return self.decode(torch.randn(n, self.latent_dim, generator=generator, device=device))


def vae_loss(x: torch.Tensor, x_hat: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             lam: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """L = mean_x[ ||x_hat - x||^2 + lam * KL(q(z|x) || N(0, I)) ]; the VAE minimizes it.

    ``x`` and ``x_hat`` are (B, ...) (flattened per example), ``mu``/``logvar`` (B, d). One
    reparameterized sample per x estimates the expectation in the reconstruction term. With a
    decoder N(x_hat, s^2 I) this equals 2 s^2 (-ELBO) + const when ``lam`` = 2 s^2.
    Returns (loss, reconstruction term, KL term), each a batch mean.
    """
    lam = checks.check_positive("lam", lam, allow_zero=True)
    x = checks.check_shape("x", checks.check_tensor("x", x), ("B", "n", ...))
    x_hat = checks.check_shape("x_hat", checks.check_tensor("x_hat", x_hat), ("B", "n", ...))
    checks.same_shape("x.flatten(1)", x.flatten(1), "x_hat.flatten(1)", x_hat.flatten(1))
    rec = (x_hat.flatten(1) - x.flatten(1)).pow(2).sum(1).mean()
    kl = divergences.kl_to_standard_normal(mu, logvar).mean()
    return rec + lam * kl, rec, kl


def train_vae(model: VAE, data: torch.Tensor, steps: int, batch_size: int = 128, lam: float = 1.0,
              lr: float = 1e-3, generator: torch.Generator | None = None, log_every: int = 100,
              progress: bool = True, desc: str = "vae") -> History:
    """Minimize :func:`vae_loss` with Adam on minibatches of ``data`` (N, ...); returns a History
    with ``loss``, ``rec`` and ``kl`` (means since the last log). Raises DivergenceError on NaN.
    """
    steps = checks.check_int("steps", steps)
    batch_size = checks.check_int("batch_size", batch_size)
    log_every = checks.check_int("log_every", log_every)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = History()
    buf = []
    bar = tqdm(range(1, steps + 1), desc=desc, disable=not progress, mininterval=1.0)
    for step in bar:
        idx = torch.randint(len(data), (batch_size,), generator=generator, device=data.device)
        x = data[idx]
        x_hat, mu, logvar = model(x, generator)
        loss, rec, kl = vae_loss(x, x_hat, mu, logvar, lam)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        buf.append(torch.stack([loss.detach(), rec.detach(), kl.detach()]))
        if step % log_every == 0 or step == steps:
            m = torch.stack(buf).mean(0).cpu()
            check_finite(step, loss=m[0], rec=m[1], kl=m[2])
            history.log(step, loss=m[0], rec=m[1], kl=m[2])
            bar.set_postfix(loss=f"{m[0]:.2f}", kl=f"{m[2]:.2f}")
            buf = []
    return history


# --------------------------------------------------------------------------- a model with exact log p(x)
class LinearGaussianModel:
    """p(z) = N(0, I_d), p(x | z) = N(W z + b, s^2 I_n): a latent-variable model whose evidence,
    posterior and ELBO are all in closed form (float64 torch).

    ``W`` is (n, d), ``b`` (n,), ``s`` > 0. Then p(x) = N(b, W W^T + s^2 I) and
    p(z | x) = N(S W^T (x - b) / s^2, S) with S = (I + W^T W / s^2)^{-1}.
    """

    def __init__(self, W, b, s: float):
        self.W = checks.check_shape("W", torch.as_tensor(W, dtype=torch.float64), ("n", "d"))
        self.b = checks.check_shape("b", torch.as_tensor(b, dtype=torch.float64), (self.W.shape[0],))
        self.s = checks.check_positive("s", s)
        self.n, self.d = self.W.shape

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) = log N(x; b, W W^T + s^2 I), exact; (B, n) -> (B,)."""
        cov = self.W @ self.W.T + self.s**2 * torch.eye(self.n, dtype=torch.float64)
        return torch.distributions.MultivariateNormal(self.b, cov).log_prob(x)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact p(z | x) = N(m(x), S): returns m (B, d) and S (d, d)."""
        S = torch.linalg.inv(torch.eye(self.d, dtype=torch.float64) + self.W.T @ self.W / self.s**2)
        m = (x - self.b) @ self.W @ S / self.s**2          # S symmetric: (S W^T (x-b))^T
        return m, S

    def log_joint(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x, z) = log N(x; W z + b, s^2 I) + log N(z; 0, I); x (..., n), z (..., d) -> (...)."""
        return (gaussian_log_prob(x, z @ self.W.T + self.b, 2 * math.log(self.s))
                + gaussian_log_prob(z, torch.zeros_like(z), 0.0))

    def elbo(self, x: torch.Tensor, q_mean: torch.Tensor, q_logvar: torch.Tensor) -> torch.Tensor:
        """ELBO(q) = E_q[log p(x|z)] - KL(q || p(z)) in closed form for q = N(q_mean, diag e^q_logvar).

        E_q[log p(x|z)] = -n/2 log(2 pi s^2) - (||x - W m - b||^2 + tr(W diag(v) W^T)) / (2 s^2).
        Shapes: x (B, n), q_mean and q_logvar (B, d) -> (B,).
        """
        v = q_logvar.exp()
        resid = x - q_mean @ self.W.T - self.b
        trace = (v * (self.W**2).sum(0)).sum(-1)
        expected = -0.5 * self.n * (LOG2PI + 2 * math.log(self.s)) \
            - (resid.pow(2).sum(-1) + trace) / (2 * self.s**2)
        return expected - divergences.kl_to_standard_normal(q_mean, q_logvar)

    def log_weights(self, x: torch.Tensor, q_mean: torch.Tensor, q_logvar: torch.Tensor, k: int,
                    generator: torch.Generator | None = None) -> torch.Tensor:
        """log w_j = log p(x, z_j) - log q(z_j | x), z_j ~ q i.i.d.; x (B, n) -> (k, B)."""
        k = checks.check_int("k", k)
        z = reparameterize(q_mean.expand(k, *q_mean.shape), q_logvar.expand(k, *q_logvar.shape),
                           generator)                                        # (k, B, d)
        return self.log_joint(x, z) - gaussian_log_prob(z, q_mean, q_logvar)


def iwae_bound(log_w: torch.Tensor) -> torch.Tensor:
    """L_K = log (1/K) sum_j w_j from K log-weights along axis 0; (K, ...) -> (...).

    E[L_K] <= log p(x), increases with K and E[L_1] is the ELBO (Burda et al. 2016, Thm 1).
    """
    log_w = checks.check_shape("log_w", checks.check_tensor("log_w", log_w), ("K", ...))
    return torch.logsumexp(log_w, 0) - math.log(log_w.shape[0])


# --------------------------------------------------------------------------- gradient estimators
def reparameterization_gradients(f: Callable[[torch.Tensor], torch.Tensor], mu: torch.Tensor,
                                 sigma: torch.Tensor, n: int,
                                 generator: torch.Generator | None = None):
    """Per-sample pathwise estimates of grad_{mu, sigma} E_{z ~ N(mu, diag sigma^2)}[f(z)].

    With z = mu + sigma * eps: grad_mu = f'(z), grad_sigma = f'(z) * eps (elementwise).
    ``f`` maps (n, d) -> (n,). Returns two (n, d) tensors; their means are the estimates.
    """
    mu, sigma = checks.check_tensor("mu", mu, dims=1), checks.check_tensor("sigma", sigma, dims=1)
    checks.same_shape("mu", mu, "sigma", checks.all_positive("sigma", sigma))
    mu, sigma, n = mu.detach(), sigma.detach(), checks.check_int("n", n)
    m = mu.expand(n, -1).clone().requires_grad_(True)      # (n, d): one copy per sample
    s = sigma.expand(n, -1).clone().requires_grad_(True)
    eps = torch.randn(m.shape, generator=generator, dtype=mu.dtype, device=mu.device)
    g_mu, g_sigma = torch.autograd.grad(f(m + s * eps).sum(), (m, s))
    return g_mu, g_sigma


def score_function_gradients(f: Callable[[torch.Tensor], torch.Tensor], mu: torch.Tensor,
                             sigma: torch.Tensor, n: int,
                             generator: torch.Generator | None = None):
    """Per-sample score-function (REINFORCE) estimates of grad_{mu, sigma} E_q[f(z)]:
    f(z) * grad log q(z; mu, sigma), z ~ q = N(mu, diag sigma^2) (Williams 1992).

    Only values of f are used (f need not be differentiable). Returns two (n, d) tensors.
    """
    mu, sigma = checks.check_tensor("mu", mu, dims=1), checks.check_tensor("sigma", sigma, dims=1)
    checks.same_shape("mu", mu, "sigma", checks.all_positive("sigma", sigma))
    mu, sigma, n = mu.detach(), sigma.detach(), checks.check_int("n", n)
    m = mu.expand(n, -1).clone().requires_grad_(True)
    s = sigma.expand(n, -1).clone().requires_grad_(True)
    with torch.no_grad():
        z = mu + sigma * torch.randn(m.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        fz = f(z)                                            # (n,)
    log_q = gaussian_log_prob(z, m, 2 * torch.log(s))        # (n,)
    g_mu, g_sigma = torch.autograd.grad((fz * log_q).sum(), (m, s))
    return g_mu, g_sigma
