"""f-divergences, their convex conjugates, and the f-GAN losses (Nowozin et al. 2016).

Convention used in the whole book (the one of Nowozin et al. 2016 and of Wang 2020, eq. 3.1):

    D_f(P || Q) = E_Q[ f(p / q) ] = int q(x) f(p(x) / q(x)) dx,     f convex, f(1) = 0,

so that f(u) = u log u gives KL(P || Q) = E_P[log(p / q)], the book's KL convention.
With the convex conjugate f*(t) = sup_u (t u - f(u)) one has the variational lower bound
(Nguyen, Wainwright and Jordan 2010)

    D_f(P || Q) >= sup_T  E_P[T(x)] - E_Q[f*(T(x))],                 T : X -> dom f*,

with equality at T*(x) = f'(p(x) / q(x)) when P << Q. In an f-GAN, P is the data and Q the
model; the critic T(x) = g_f(V(x)) is a raw network output V(x) in R squashed into dom f* by
the output activation g_f. The critic *ascends* the bound, the generator *descends* it.
Every loss below is returned as the quantity its player *minimizes*.

As in the glossary of :mod:`ganlib`, ``d_real`` is the raw output V(x) for data x ~ P and
``d_fake`` is V(G(z)) for generated samples ~ Q, (B,) or (B, 1) tensors;
``t_real``, ``t_fake`` (in :func:`variational_bound`) are critic values T = g_f(V) already in
dom f*. The losses evaluate f*(g_f(V)) through a closed form per divergence
(``FDivergence.conjugate_activation``) that stays finite in float32 wherever the true value
is: composing g_f and f* naively loses it (for "js", g_f(20) rounds to the end of dom f*).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from . import checks

LOG2 = math.log(2.0)
_INF = float("inf")


@dataclass(frozen=True)
class FDivergence:
    """One f-divergence D_f(P || Q) = E_Q[f(p/q)] with everything an f-GAN needs.

    All callables act elementwise on torch tensors and are differentiable inside their domains.
    """

    name: str                                            # key in DIVERGENCES
    f: Callable[[torch.Tensor], torch.Tensor]            # u -> f(u), convex, f(1) = 0
    conjugate: Callable[[torch.Tensor], torch.Tensor]    # t -> f*(t); +inf outside dom f*
    activation: Callable[[torch.Tensor], torch.Tensor]   # v in R -> g_f(v) in dom f*
    f_prime_1: float                                     # f'(1) (a subgradient for "tv")
    domain: str                                          # dom f*, in words (closed ends shown)
    f_prime: Callable[[torch.Tensor], torch.Tensor] | None = None  # u -> f'(u); T* = f'(p/q)
    b_star: float = _INF                                 # sup dom f* = lim_{u->inf} f(u)/u
    dom_f: str = "u > 0"                                 # the domain of f used here
    tex: tuple[str, str, str] = ("", "", "")             # LaTeX of f(u), f*(t), g_f(v)
    description: str = ""                                # what D_f(P || Q) equals
    conjugate_activation: Callable[[torch.Tensor], torch.Tensor] = field(kw_only=True)
    # v -> f*(g_f(v)), the composition in a closed form that is finite in float32 wherever
    # its value is representable (the f-GAN losses use it, not conjugate(activation(v)))

    def __repr__(self) -> str:  # the callables make the default repr unreadable
        return f"FDivergence({self.name!r}: {self.description})"


def _where_inside(inside: torch.Tensor, value_fn, t: torch.Tensor, safe: float) -> torch.Tensor:
    """value_fn(t) where ``inside``, +inf elsewhere, without NaN gradients leaking out."""
    t_safe = torch.where(inside, t, torch.full_like(t, safe))
    return torch.where(inside, value_fn(t_safe), torch.full_like(t, _INF))


# ---------------------------------------------------------------- the individual divergences
def _kl_f(u):
    return torch.xlogy(u, u)


def _kl_conj(t):
    return torch.exp(t - 1.0)


def _rkl_f(u):
    return -torch.log(u)


def _rkl_conj(t):
    return _where_inside(t < 0, lambda s: -1.0 - torch.log(-s), t, -1.0)


def _pearson_f(u):
    return (u - 1.0) ** 2


def _pearson_conj(t):
    return t + 0.25 * t ** 2


def _neyman_f(u):
    return (1.0 - u) ** 2 / u


def _neyman_conj(t):
    # dom f* is t <= 1, closed: f*(1) = sup_u (u - f(u)) = sup_u (2 - 1/u) = 2
    return _where_inside(t <= 1, lambda s: 2.0 - 2.0 * torch.sqrt(1.0 - s), t, 0.0)


def _hellinger_f(u):
    return (torch.sqrt(u) - 1.0) ** 2


def _hellinger_conj(t):
    return _where_inside(t < 1, lambda s: s / (1.0 - s), t, 0.0)


def _js_f(u):
    return 0.5 * (torch.xlogy(u, u) - torch.xlogy(u + 1.0, (u + 1.0) / 2.0))


def _js_conj(t):
    # -1/2 log(2 - e^{2t}) = -1/2 [log 2 + log(1 - e^{2t - log 2})]
    return _where_inside(t < 0.5 * LOG2,
                         lambda s: -0.5 * (LOG2 + torch.log(-torch.expm1(2.0 * s - LOG2))),
                         t, 0.0)


def _gan_f(u):
    return torch.xlogy(u, u) - torch.xlogy(u + 1.0, u + 1.0)


def _gan_conj(t):
    return _where_inside(t < 0, lambda s: -torch.log(-torch.expm1(s)), t, -1.0)


def _tv_f(u):
    return 0.5 * torch.abs(u - 1.0)


def _tv_conj(t):
    return _where_inside(torch.abs(t) <= 0.5, lambda s: s, t, 0.0)


def _logd_f(u):
    # (u - 1) log(u / (u + 1)) = -(u - 1) log(1 + 1/u)
    return -(u - 1.0) * torch.log1p(1.0 / u)


def _logd_fprime(u):
    # f'(u) = log(u / (u + 1)) + (u - 1) / (u (u + 1)), increasing from -inf (u -> 0) to 0 (u -> inf)
    return -torch.log1p(1.0 / u) + (u - 1.0) / (u * (u + 1.0))


_LOGD_S_RANGE = (-80.0, 80.0)  # the bisection brackets s = log u in this interval
_LOGD_ITERS = 110              # 160 / 2^110: far below float64 resolution


def logd_argmax(t: torch.Tensor) -> torch.Tensor:
    """u*(t) = (f')^{-1}(t) for the log-D-trick f, t < 0: the maximizer of t u - f(u).

    Vectorized bisection on s = log u over [-80, 80] in float64 (f' is increasing, so the
    root of f'(e^s) = t is bracketed and unique). Returns a float64 tensor of t's shape; for
    t >= 0 the supremum is approached as u -> inf and this returns e^80.
    """
    t64 = t.detach().to(torch.float64)
    lo = torch.full_like(t64, _LOGD_S_RANGE[0])
    hi = torch.full_like(t64, _LOGD_S_RANGE[1])
    for _ in range(_LOGD_ITERS):
        mid = 0.5 * (lo + hi)
        right = _logd_fprime(torch.exp(mid)) < t64  # root lies to the right of mid
        lo = torch.where(right, mid, lo)
        hi = torch.where(right, hi, mid)
    return torch.exp(0.5 * (lo + hi))


class _LogDConjugate(torch.autograd.Function):
    """f*(t) = t u* - f(u*), d f*/dt = u* (envelope theorem); t <= 0, +inf for t > 0."""

    @staticmethod
    def forward(ctx, t):
        u = logd_argmax(t)
        t64 = t.detach().to(torch.float64)
        val = t64 * u - _logd_f(u)
        val = torch.where(t64 == 0, torch.ones_like(val), val)  # sup_u (-f(u)) = -inf f = 1
        val = torch.where(t64 > 0, torch.full_like(val, _INF), val)
        ctx.save_for_backward(u)
        return val.to(t.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (u,) = ctx.saved_tensors
        return grad_out * u.to(grad_out.dtype)


def _logd_conj(t):
    return _LogDConjugate.apply(t)


def _neg_softplus_neg(v):
    return -F.softplus(-v)  # log sigmoid(v), in (-inf, 0)


# f*(g_f(v)) in closed form, one per divergence. Each is the composition simplified by hand,
# e.g. js: e^{2 g(v)} = 2 sigmoid(v), so f*(g(v)) = -1/2 log(2 sigmoid(-v))
# = (softplus(v) - log 2)/2.
# They stay finite in float32 wherever the composition is representable.
def _kl_conj_act(v):         # g = v, f*(t) = e^{t - 1}
    return torch.exp(v - 1.0)


def _rkl_conj_act(v):        # g = -e^{-v}, f*(t) = -1 - log(-t)
    return v - 1.0


def _pearson_conj_act(v):    # g = v, f*(t) = t + t^2/4
    return v + 0.25 * v ** 2


def _neyman_conj_act(v):     # g = 1 - e^{-v}, f*(t) = 2 - 2 sqrt(1 - t) = 2 - 2 e^{-v/2}
    return -2.0 * torch.expm1(-0.5 * v)


def _hellinger_conj_act(v):  # g = 1 - e^{-v}, f*(t) = t / (1 - t) = e^v - 1
    return torch.expm1(v)


def _js_conj_act(v):         # g = (log 2 - softplus(-v))/2, f*(t) = -1/2 log(2 - e^{2t})
    return 0.5 * (F.softplus(v) - LOG2)


def _gan_conj_act(v):        # g = -softplus(-v), f*(t) = -log(1 - e^t) = softplus(v)
    return F.softplus(v)


def _tv_conj_act(v):         # g = tanh(v)/2 in [-1/2, 1/2], f*(t) = t
    return 0.5 * torch.tanh(v)


def _logd_conj_act(v):       # g = -softplus(-v), f* by bisection; t is formed in float64, where
    return _logd_conj(-F.softplus(-v.double())).to(v.dtype)   # e^{-v} does not underflow to 0


DIVERGENCES: dict[str, FDivergence] = {
    "kl": FDivergence(
        "kl", _kl_f, _kl_conj, lambda v: v, 1.0, "t in R",
        f_prime=lambda u: torch.log(u) + 1.0, b_star=_INF,
        tex=(r"u\log u", r"e^{t-1}", r"v"), description="KL(P || Q)",
        conjugate_activation=_kl_conj_act),
    "reverse_kl": FDivergence(
        "reverse_kl", _rkl_f, _rkl_conj, lambda v: -torch.exp(-v), -1.0, "t < 0",
        f_prime=lambda u: -1.0 / u, b_star=0.0,
        tex=(r"-\log u", r"-1-\log(-t)", r"-e^{-v}"), description="KL(Q || P)",
        conjugate_activation=_rkl_conj_act),
    "pearson": FDivergence(
        "pearson", _pearson_f, _pearson_conj, lambda v: v, 0.0, "t in R",
        f_prime=lambda u: 2.0 * (u - 1.0), b_star=_INF, dom_f="u in R",
        tex=(r"(u-1)^2", r"t + t^2/4", r"v"), description="Pearson chi^2(P || Q)",
        conjugate_activation=_pearson_conj_act),
    "neyman": FDivergence(
        "neyman", _neyman_f, _neyman_conj, lambda v: 1.0 - torch.exp(-v), 0.0, "t <= 1",
        f_prime=lambda u: 1.0 - 1.0 / u ** 2, b_star=1.0,
        tex=(r"(1-u)^2/u", r"2-2\sqrt{1-t}", r"1-e^{-v}"), description="Neyman chi^2(P || Q)",
        conjugate_activation=_neyman_conj_act),
    "hellinger": FDivergence(
        "hellinger", _hellinger_f, _hellinger_conj, lambda v: 1.0 - torch.exp(-v), 0.0, "t < 1",
        f_prime=lambda u: 1.0 - 1.0 / torch.sqrt(u), b_star=1.0,
        tex=(r"(\sqrt u-1)^2", r"t/(1-t)", r"1-e^{-v}"),
        description="squared Hellinger int (sqrt p - sqrt q)^2",
        conjugate_activation=_hellinger_conj_act),
    "js": FDivergence(
        "js", _js_f, _js_conj, lambda v: 0.5 * (LOG2 + _neg_softplus_neg(v)), 0.0,
        "t < log(2)/2",
        f_prime=lambda u: 0.5 * torch.log(2.0 * u / (u + 1.0)), b_star=0.5 * LOG2,
        tex=(r"\tfrac12\big[u\log u-(u+1)\log\tfrac{u+1}{2}\big]",
             r"-\tfrac12\log(2-e^{2t})", r"\tfrac12(\log 2-\log(1+e^{-v}))"),
        description="JSD(P || Q), in [0, log 2]",
        conjugate_activation=_js_conj_act),
    "gan": FDivergence(
        "gan", _gan_f, _gan_conj, _neg_softplus_neg, -LOG2, "t < 0",
        f_prime=lambda u: torch.log(u / (u + 1.0)), b_star=0.0,
        tex=(r"u\log u-(u+1)\log(u+1)", r"-\log(1-e^{t})", r"-\log(1+e^{-v})"),
        description="2 JSD(P || Q) - log 4",
        conjugate_activation=_gan_conj_act),
    "tv": FDivergence(
        "tv", _tv_f, _tv_conj, lambda v: 0.5 * torch.tanh(v), 0.0, "|t| <= 1/2",
        f_prime=lambda u: 0.5 * torch.sign(u - 1.0), b_star=0.5, dom_f="u in R",
        tex=(r"\tfrac12|u-1|", r"t", r"\tfrac12\tanh v"),
        description="total variation sup_A |P(A) - Q(A)|",
        conjugate_activation=_tv_conj_act),
    "logd": FDivergence(
        "logd", _logd_f, _logd_conj, _neg_softplus_neg, -LOG2, "t <= 0",
        f_prime=_logd_fprime, b_star=0.0,
        tex=(r"(u-1)\log\tfrac{u}{u+1}", r"\text{numerical}", r"-\log(1+e^{-v})"),
        description="the log-D-trick divergence E_P[log D*] - E_Q[log D*], D* = p/(p+q)",
        conjugate_activation=_logd_conj_act),
}


def get_divergence(name: str) -> FDivergence:
    """The :class:`FDivergence` called ``name``; ValueError listing the valid names otherwise."""
    return checks.lookup(DIVERGENCES, name, "divergence")


def _div(d) -> FDivergence:
    """``d`` itself if it is an :class:`FDivergence`, else the divergence called ``d``."""
    return d if isinstance(d, FDivergence) else get_divergence(d)


# ------------------------------------------------------------------------------ f-GAN losses
def variational_bound(name, t_real: torch.Tensor, t_fake: torch.Tensor) -> torch.Tensor:
    """E_P[T] - E_Q[f*(T)]: the lower bound on D_f(P || Q) at the critic T (Nguyen et al. 2010).

    ``t_real`` is T(x) for x ~ P, (B,) or (B, 1); ``t_fake`` is T(x) for x ~ Q, (B',) or
    (B', 1). Both are critic values already in dom f* (in an f-GAN, T = g_f(V) for the raw
    output V: :func:`fgan_d_loss` takes V itself); a value of ``t_fake`` outside dom f* gives
    -inf. ``name`` is a key of :data:`DIVERGENCES` or an :class:`FDivergence`. Returns a
    scalar tensor.
    """
    d = _div(name)
    t_real, t_fake = checks.scores("t_real", t_real), checks.scores("t_fake", t_fake)
    return t_real.mean() - d.conjugate(t_fake).mean()


def fgan_d_loss(name, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """-(E_P[g_f(V(x))] - E_Q[f*(g_f(V(G(z))))]): the critic minimizes it (it ascends the bound).

    ``d_real`` is the raw critic output V(x) on data x ~ P, (B,) or (B, 1); ``d_fake`` is
    V(G(z)) on generated samples ~ Q, (B',) or (B', 1). f*(g_f(V)) is evaluated in its stable
    closed form (``FDivergence.conjugate_activation``). At the optimal critic the negated loss
    equals D_f(P || Q) (Nowozin et al. 2016, eq. 6). Returns a scalar tensor.
    """
    d = _div(name)
    d_real, d_fake = checks.scores("d_real", d_real), checks.scores("d_fake", d_fake)
    return -(d.activation(d_real).mean() - d.conjugate_activation(d_fake).mean())


GENERATOR_KINDS = ("saddle", "alternative")


def fgan_g_loss(name, d_fake: torch.Tensor, kind: str = "saddle") -> torch.Tensor:
    """-E_Q[f*(g_f(V(G(z))))] (``kind="saddle"``) or -E_Q[g_f(V(G(z)))] ("alternative").

    The generator minimizes the returned value. ``"saddle"`` (default) is the part of the
    bound E_P[T] - E_Q[f*(T)] that depends on the generator, so descending it descends the
    estimate of D_f(P || Q): the fixed points are those of min_Q D_f(P || Q), which is what
    the book checks against exact optima. ``"alternative"`` is the heuristic of Nowozin et al.
    (2016, Sec. 3.2), maximizing E_Q[g_f(V)], which for "gan" is the non-saturating log-D
    trick. ``d_fake`` is V(G(z)), (B,) or (B, 1). Returns a scalar tensor.
    """
    d = _div(name)
    kind = checks.check_choice("generator loss kind", kind, GENERATOR_KINDS)
    d_fake = checks.scores("d_fake", d_fake)
    if kind == "saddle":
        return -d.conjugate_activation(d_fake).mean()
    return -d.activation(d_fake).mean()


def optimal_critic(name, ratio: torch.Tensor) -> torch.Tensor:
    """T*(x) = f'(p(x) / q(x)): the critic that attains the bound when P << Q.

    ``ratio`` is the density ratio p/q at the points, any shape; returns the same shape.
    """
    d = _div(name)
    if d.f_prime is None:
        raise ValueError(f"divergence {d.name!r} has no f' registered")
    return d.f_prime(checks.check_tensor("ratio", ratio))


# ------------------------------------------------------------------------ numerical helpers
def numerical_conjugate(f: Callable, y, grid) -> np.ndarray:
    """sup_{t in grid} (t y - f(t)): the convex conjugate by brute force on a grid.

    ``f`` maps a float64 torch tensor to a tensor (values +inf are allowed); ``y`` (m,) and
    ``grid`` (n,) are array-likes. Returns a (m,) float64 array. The error for a smooth f is
    at most max f'' * h^2 / 8 for grid spacing h, if the maximizer lies inside the grid.
    """
    y = torch.as_tensor(np.asarray(y, dtype=np.float64))
    grid = torch.as_tensor(np.asarray(grid, dtype=np.float64))
    if grid.dim() != 1 or grid.numel() < 2:
        raise ValueError(f"grid must be a 1D array of at least 2 points, got shape {tuple(grid.shape)}")
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    fg = f(grid)  # (n,)
    vals = y.reshape(-1, 1) * grid.reshape(1, -1) - fg.reshape(1, -1)  # (m, n)
    vals = torch.where(torch.isnan(vals), torch.full_like(vals, -_INF), vals)
    return vals.max(dim=1).values.numpy()


def fdivergence_grid(name, log_p: np.ndarray, log_q: np.ndarray, x: np.ndarray,
                     max_log_ratio: float = 600.0) -> float:
    """D_f(P || Q) = int q f(p/q) dx on a fine grid ``x`` (Simpson's rule), from log-densities.

    ``log_p``, ``log_q``: (n,) log p(x), log q(x) on the sorted grid ``x`` (n,), n odd is best.
    The log ratio is clipped to +-``max_log_ratio`` so that f(p/q) stays finite where both
    densities underflow; this only changes the integrand where q f(p/q) is negligible.
    """
    from scipy import integrate

    d = _div(name)
    max_log_ratio = checks.check_positive("max_log_ratio", max_log_ratio)
    log_p, log_q, x = (np.asarray(a, dtype=np.float64) for a in (log_p, log_q, x))
    checks.check_shape("x", x, ("n",))
    checks.same_shape("log_p", log_p, "x", x)
    checks.same_shape("log_q", log_q, "x", x)
    lr = torch.as_tensor(np.clip(log_p - log_q, -max_log_ratio, max_log_ratio))
    fu = d.f(torch.exp(lr)).numpy()
    integrand = np.exp(log_q) * fu
    integrand = np.where(np.exp(log_q) == 0, 0.0, integrand)
    return float(integrate.simpson(integrand, x=x))
