"""Pushforward samplers and the change-of-variables density.

A generator is a map g pushing a simple base distribution mu forward to g#mu, defined by
(g#mu)(A) = mu(g^{-1}(A)). The samplers below are classical pushforwards:

* :func:`inverse_cdf_sample`: X = F^{-1}(U), U ~ U(0, 1) has CDF F;
* :func:`box_muller`: two uniforms to two independent standard normals;
* :func:`gumbel_max`: argmax_k (logits_k + Gumbel noise) ~ Categorical(softmax(logits)).

:func:`pushforward_log_density` evaluates log q(y) = log p(g^{-1}(y)) + log|det J_{g^{-1}}(y)|
for an invertible g, and :class:`MonotoneFlow1d` is a small invertible 1D generator whose
likelihood is tractable (fitted by maximum likelihood in Chapter 1).
:func:`binned_chi2_test` and :func:`categorical_chi2_test` are the goodness-of-fit tests the
book uses to check samplers.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats

from . import checks
from .data import _device_of


def uniform(n: int, generator: torch.Generator | None = None, device=None, eps: float = 0.0) -> torch.Tensor:
    """U(eps, 1 - eps) samples of shape (n,), float64 for accurate tails (0 <= eps < 1/2)."""
    n = checks.check_int("n", n)
    eps = checks.check_probability("eps", eps)
    u = torch.rand(n, generator=generator, device=_device_of(generator, device), dtype=torch.float64)
    return u.clamp(eps, 1 - eps) if eps > 0 else u


def inverse_cdf_sample(icdf: Callable[[torch.Tensor], torch.Tensor], n: int,
                       generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """X = F^{-1}(U) with U ~ U(0, 1): samples with CDF F. ``icdf`` maps (n,) -> (n,)."""
    u = uniform(n, generator, device, eps=1e-12)
    return icdf(u)


def bisection_icdf(cdf: Callable[[torch.Tensor], torch.Tensor], lo: float, hi: float,
                   iters: int = 60) -> Callable[[torch.Tensor], torch.Tensor]:
    """Numerical F^{-1} for a continuous increasing CDF on [lo, hi], by vectorized bisection.

    After ``iters`` halvings the error is at most (hi - lo) / 2**iters. Nothing requires ``cdf``
    to be a CDF: any continuous increasing function on [lo, hi] is inverted on its range
    (:class:`MonotoneFlow1d` uses this for g = f^{-1}).
    """
    lo, hi = checks.check_interval("bracket", lo, hi)
    iters = checks.check_int("iters", iters)

    def icdf(u: torch.Tensor) -> torch.Tensor:
        a = torch.full_like(u, lo)
        b = torch.full_like(u, hi)
        for _ in range(iters):
            m = 0.5 * (a + b)
            below = cdf(m) < u
            a = torch.where(below, m, a)
            b = torch.where(below, b, m)
        return 0.5 * (a + b)

    return icdf


def box_muller(n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """(n, 2) independent N(0, 1) draws from 2n uniforms (Box and Muller 1958).

    R = sqrt(-2 log U1) and Theta = 2 pi U2; (R cos Theta, R sin Theta) is standard normal.
    """
    n = checks.check_int("n", n)
    dev = _device_of(generator, device)
    u1 = 1.0 - torch.rand(n, generator=generator, device=dev, dtype=torch.float64)  # in (0, 1]
    u2 = torch.rand(n, generator=generator, device=dev, dtype=torch.float64)
    r = torch.sqrt(-2.0 * torch.log(u1))
    theta = 2.0 * math.pi * u2
    return torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=1)


def gumbel(shape, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """Standard Gumbel noise G = -log(-log U), float64."""
    dev = _device_of(generator, device)
    u = torch.rand(shape, generator=generator, device=dev, dtype=torch.float64)
    u = u.clamp(1e-300, 1.0 - 1e-16)
    return -torch.log(-torch.log(u))


def gumbel_max(logits: torch.Tensor, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """n draws from Categorical(softmax(logits)) as argmax_k (logits_k + G_k), G_k iid Gumbel.

    ``logits`` has shape (K,); returns (n,) int64 indices in [0, K).
    """
    checks.points("logits", checks.check_tensor("logits", logits, dims=1), allow_1d=True)  # finite
    n = checks.check_int("n", n)
    g = gumbel((n, logits.numel()), generator, logits.device)
    return torch.argmax(logits.to(torch.float64)[None, :] + g, dim=1)


def pushforward_log_density(base_log_prob: Callable[[torch.Tensor], torch.Tensor],
                            g_inverse: Callable[[torch.Tensor], torch.Tensor],
                            y: torch.Tensor) -> torch.Tensor:
    """log q(y) = log p(g^{-1}(y)) + log |det J_{g^{-1}}(y)| for an invertible, differentiable g.

    ``y`` has shape (n, d) (or (n,) for d = 1); ``g_inverse`` maps (d,) -> (d,) per sample
    (it is vectorized with torch.func.vmap, so it must be vmap-compatible); ``base_log_prob``
    maps (n, d) -> (n,) (an (n, 1) result is accepted for d = 1). Returns (n,).
    """
    y = checks.check_tensor("y", y, dims=(1, 2))
    yy = y[:, None] if y.dim() == 1 else y                               # (n, d)
    n = yy.shape[0]
    x = torch.func.vmap(g_inverse)(yy)                                  # (n, d)
    jac = torch.func.vmap(torch.func.jacrev(g_inverse))(yy)             # (n, d, d)
    _, logabsdet = torch.linalg.slogdet(jac)                            # (n,)
    base = base_log_prob(x)
    if base.dim() == 2 and base.shape[1] == 1:
        base = base[:, 0]
    # Guard against silent broadcasting of an (n, d) or (n, 1) result against (n,).
    checks.check_shape("base_log_prob(x)", base, (n,))
    return base + logabsdet


def binned_chi2_test(samples, cdf: Callable[[np.ndarray], np.ndarray], edges) -> tuple[float, float]:
    """Pearson chi-square goodness of fit of 1D ``samples`` to the CDF F on bins given by ``edges``.

    statistic = sum_j (O_j - n P_j)^2 / (n P_j) with P_j = F(e_{j+1}) - F(e_j); the two tails
    (-inf, e_0) and (e_last, inf) are added as bins, so the bin probabilities sum to one. Returns
    (statistic, p-value) with len(edges) degrees of freedom (bins - 1). ``cdf`` maps an array of
    points to an array of probabilities. Bins should have n P_j >= 5 for the chi-square
    approximation to hold.
    """
    x = checks.points("samples", samples, allow_1d=True).ravel()
    e = checks.points("edges", edges, min_n=2, allow_1d=True).ravel()
    if not np.all(np.diff(e) > 0):
        raise ValueError(f"edges must be strictly increasing, got {e}")
    full = np.concatenate([[-np.inf], e, [np.inf]])
    counts = np.histogram(x, bins=full)[0].astype(np.float64)                  # (len(e) + 1,)
    cum = np.concatenate([[0.0], np.asarray(cdf(e), dtype=np.float64).ravel(), [1.0]])
    probs = np.diff(cum)
    if np.any(probs < 0) or not np.isfinite(probs).all():
        raise ValueError("cdf must be finite and non-decreasing on the edges")
    expected = x.size * probs
    if np.any((expected == 0) & (counts > 0)):
        return float("inf"), 0.0
    keep = expected > 0
    stat = float(((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum())
    dof = int(keep.sum()) - 1
    return stat, float(stats.chi2.sf(stat, dof))


def categorical_chi2_test(draws, probs) -> tuple[float, float]:
    """Pearson chi-square test that integer ``draws`` in [0, K) follow Categorical(``probs``).

    Returns (statistic, p-value) with K - 1 degrees of freedom.
    """
    p = checks.all_positive("probs", checks.probability_vector("probs", probs))
    checks.check_int("number of categories", p.size, 2)
    k_draws = np.asarray(draws.detach().cpu() if torch.is_tensor(draws) else draws).ravel()
    if k_draws.size < 1 or k_draws.min() < 0 or k_draws.max() >= p.size:
        raise ValueError(f"draws must be non-empty integers in [0, {p.size})")
    counts = np.bincount(k_draws.astype(np.int64), minlength=p.size).astype(np.float64)
    expected = k_draws.size * p
    stat = float(((counts - expected) ** 2 / expected).sum())
    return stat, float(stats.chi2.sf(stat, p.size - 1))


class MonotoneFlow1d(torch.nn.Module):
    """Increasing map f(x) = a x + b + sum_k w_k tanh(s (x - c_k)) + u_+ r(x - c_K) - u_- r(c_1 - x).

    Here r(t) = softplus(s t) / s is a smooth ramp, a, w_k, u_+, u_- > 0 are learned (as
    exponentials of unconstrained parameters), and the knots c_1 < ... < c_K and the slope s are
    fixed. f is the inverse g^{-1} of a generator g = f^{-1} that pushes Z ~ N(0, 1) forward to
    a model with density (change of variables)

        log p_theta(x) = log N(f(x); 0, 1) + log f'(x),
        f'(x) = a + sum_k w_k s (1 - tanh^2) + u_+ sigmoid(s (x - c_K)) + u_- sigmoid(s (c_1 - x)).

    The tanh terms bend f between the knots; the two ramps give f its own slope in each tail (a
    single linear term could not be both flat between two modes and steep in the tails). Since f
    is linear and f' is linear in (a, b, w, u_+, u_-), the negative log-likelihood
    mean_i [f(x_i)^2 / 2 - log f'(x_i)] is convex in them: no spurious local minima.

    With ``n_tanh = 0`` there are no tanh or ramp terms: f(x) = a x + b, g(z) = (z - b) / a, and
    the model is N(-b/a, 1/a^2). ``centers`` (K,) are the knots c_k (e.g. data quantiles);
    ``slope`` is s. Float64 throughout.
    """

    def __init__(self, n_tanh: int = 8, centers=None, slope: float = 3.0):
        super().__init__()
        k = checks.check_int("n_tanh", n_tanh, 0)
        slope = checks.check_positive("slope", slope)
        if centers is None:
            centers = torch.linspace(-2.0, 2.0, k) if k > 1 else torch.zeros(k)
        centers = torch.as_tensor(centers, dtype=torch.float64).reshape(-1).sort().values
        checks.check_shape("centers", centers, (k,))
        dt = torch.float64
        self.slope = float(slope)
        self.register_buffer("c", centers.clone())                            # knots c_k, (K,)
        self.log_a = torch.nn.Parameter(torch.zeros((), dtype=dt))          # a = exp(log_a)
        self.b = torch.nn.Parameter(torch.zeros((), dtype=dt))
        self.log_w = torch.nn.Parameter(torch.full((k,), -1.0, dtype=dt))   # w_k = exp(log_w_k)
        self.log_u = torch.nn.Parameter(torch.full((2 if k else 0,), -1.0, dtype=dt))  # (u_-, u_+)

    def g_inverse(self, x: torch.Tensor) -> torch.Tensor:
        """z = f(x) = g^{-1}(x); (n,) -> (n,)."""
        return self._f(checks.check_tensor("x", x, dims=1).to(torch.float64))

    def _f(self, x: torch.Tensor) -> torch.Tensor:
        """f(x) for a float64 tensor (n,): the kernel of g_inverse (no checks)."""
        z = self.log_a.exp() * x + self.b
        if self.c.numel():
            s = self.slope
            z = z + (self.log_w.exp() * torch.tanh(s * (x[:, None] - self.c))).sum(-1)   # (n, K) -> (n,)
            u = self.log_u.exp()
            z = z + u[1] * F.softplus(s * (x - self.c[-1])) / s - u[0] * F.softplus(s * (self.c[0] - x)) / s
        return z

    def _log_df(self, x: torch.Tensor) -> torch.Tensor:
        """log f'(x) = log |d g^{-1}/dx| for a float64 tensor (n,) (no checks)."""
        d = self.log_a.exp().expand(x.shape)
        if self.c.numel():
            s = self.slope
            t = torch.tanh(s * (x[:, None] - self.c))                                # (n, K)
            u = self.log_u.exp()
            d = d + (self.log_w.exp() * s * (1 - t * t)).sum(-1)
            d = d + u[1] * torch.sigmoid(s * (x - self.c[-1])) + u[0] * torch.sigmoid(s * (self.c[0] - x))
        return torch.log(d)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p_theta(x) = log N(f(x); 0, 1) + log f'(x); (n,) -> (n,)."""
        x = checks.check_tensor("x", x, dims=1).to(torch.float64)
        z = self._f(x)
        return -0.5 * z * z - 0.5 * math.log(2 * math.pi) + self._log_df(x)

    def cdf(self, x: torch.Tensor) -> torch.Tensor:
        """P_theta(X <= x) = Phi(f(x)), since f is increasing; (n,) -> (n,)."""
        return torch.special.ndtr(self.g_inverse(x))

    @torch.no_grad()
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """x = g(z) = f^{-1}(z) by bisection (f has no closed-form inverse); (n,) -> (n,).

        The bracket [lo, hi] starts at [-1, 1] and doubles until f(lo) <= min z, max z <= f(hi).
        """
        z = checks.check_tensor("z", z, dims=1).to(torch.float64)
        lo, hi = -1.0, 1.0
        for _ in range(64):
            ends = self._f(torch.tensor([lo, hi], dtype=torch.float64, device=z.device))
            if ends[0] <= z.min() and z.max() <= ends[1]:
                break
            lo, hi = 2 * lo, 2 * hi
        else:
            raise ValueError("could not bracket f^{-1}(z): f is too flat in the tails")
        return bisection_icdf(self._f, lo, hi, iters=60 + int(math.log2(hi)))(z)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n draws x = g(z), z ~ N(0, 1); (n,) float64."""
        n = checks.check_int("n", n)
        z = torch.randn(n, generator=generator, dtype=torch.float64, device=self.b.device)
        return self.forward(z)


def fit_by_mle(model: torch.nn.Module, x: torch.Tensor, max_iter: int = 200) -> list[float]:
    """Minimize the average NLL -mean_i log p_theta(x_i) by full-batch L-BFGS; return its history.

    ``model.log_prob(x)`` gives log p_theta at the (n,) data ``x``. Raises
    :class:`ganlib.train.DivergenceError` naming the evaluation if the NLL becomes NaN/inf.
    """
    from .train import check_finite

    max_iter = checks.check_int("max_iter", max_iter)
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=max_iter, history_size=20,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-10, tolerance_change=1e-14)
    history: list[float] = []

    def closure():
        opt.zero_grad()
        nll = -model.log_prob(x).mean()
        nll.backward()
        history.append(nll.item())
        return nll

    opt.step(closure)
    check_finite(len(history), nll=history[-1])
    return history
