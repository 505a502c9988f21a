"""A log-linear discriminator, its convex training problem and its dual (Dualing GANs).

The discriminator is logistic regression on a fixed feature map phi:

    D_w(x) = sigmoid(w^T phi(x)).

Given data points x_1..x_n (features ``phi_real``, shape (n, k)) and generated points
G(z_1)..G(z_m) (features ``phi_fake``, shape (m, k)), the discriminator *minimizes* its
L2-regularized binary cross-entropy, summed (not averaged) over the samples as in
Schwing's notes:

    P(w) = C/2 ||w||^2 + sum_x softplus(-w^T phi(x)) + sum_z softplus(w^T phi(G(z))),

since -log D = softplus(-s) and -log(1 - D) = softplus(s) for the logit s = w^T phi. P is
C-strongly convex. Writing softplus(s) = max_{u in [0, 1]} (u s + H(u)) with the binary
entropy H(u) = -u log u - (1 - u) log(1 - u) and minimizing over w in closed form gives the
dual, which is *maximized* over the box 0 <= lambda <= 1:

    Q(lambda) = -1/(2C) ||sum_x (1 - lambda_x) phi(x) - sum_z lambda_z phi(G(z))||^2
                + sum_x H(lambda_x) + sum_z H(lambda_z),

with the primal solution recovered as

    w(lambda) = (1/C) (sum_x (1 - lambda_x) phi(x) - sum_z lambda_z phi(G(z))),

and, at the optimum, lambda_x = D_w(x) and lambda_z = D_w(G(z)) (KKT). Weak duality
Q(lambda) <= P(w) holds for every feasible lambda and every w; strong duality
max Q = min P holds (Li, Schwing, Wang and Zemel 2017, "Dualing GANs"). The generator
*maximizes* min_w P = max_lambda Q, so generator and lambda ascend the same objective.

Conventions: ``lam_real`` is (lambda_x) of shape (n,), ``lam_fake`` is (lambda_z) of shape
(m,); ``C`` > 0 is the regularization weight. All functions are pure (no argument is edited).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import optimize

from .checks import check_int

FEATURE_MAPS = ("identity", "linear", "quadratic", "fourier")


# --------------------------------------------------------------------------- feature maps
def _check_x(x) -> torch.Tensor:
    if not torch.is_tensor(x):
        raise TypeError(f"x must be a torch.Tensor of shape (n, d), got {type(x).__name__}")
    if x.dim() != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"x must have shape (n, d) with n, d >= 1, got {tuple(x.shape)}")
    return x


def fourier_frequencies(d: int, n_features: int, bandwidth: float, seed: int = 0,
                        dtype=torch.float64, device=None):
    """Omega ~ N(0, I / bandwidth^2) (d, n_features) and phases b ~ U[0, 2 pi) (n_features,).

    Drawn from a private ``torch.Generator`` seeded with ``seed``: the same arguments always
    give the same frequencies, independently of the global random state.
    """
    for name, v in (("d", d), ("n_features", n_features)):
        check_int(name, v)
    if not (isinstance(bandwidth, (int, float)) and bandwidth > 0 and math.isfinite(bandwidth)):
        raise ValueError(f"bandwidth must be a positive number, got {bandwidth!r}")
    g = torch.Generator().manual_seed(int(seed))
    omega = torch.randn(int(d), int(n_features), generator=g, dtype=torch.float64) / bandwidth
    b = 2 * math.pi * torch.rand(int(n_features), generator=g, dtype=torch.float64)
    return omega.to(dtype=dtype, device=device), b.to(dtype=dtype, device=device)


def features(x: torch.Tensor, kind: str = "linear", n_features: int = 64,
             bandwidth: float = 1.0, seed: int = 0) -> torch.Tensor:
    """phi(x): the discriminator's feature map, (n, d) -> (n, k). Differentiable in x.

    * ``identity``:  phi(x) = x,                                   k = d;
    * ``linear``:    phi(x) = (x, 1),                              k = d + 1;
    * ``quadratic``: phi(x) = (x, x_i x_j for i <= j, 1),          k = d + d(d+1)/2 + 1;
    * ``fourier``:   phi(x) = (sqrt(2/K) cos(Omega^T x + b), 1),   k = K + 1, K = ``n_features``
      random Fourier features (Rahimi and Recht 2007) with Omega ~ N(0, I/bandwidth^2) and
      b ~ U[0, 2 pi) drawn from ``seed``, so that phi(x)^T phi(y) - 1 approximates the
      Gaussian kernel exp(-||x - y||^2 / (2 bandwidth^2)).
    """
    x = _check_x(x)
    if kind not in FEATURE_MAPS:
        raise ValueError(f"unknown feature map {kind!r}; choose one of: {', '.join(FEATURE_MAPS)}")
    ones = torch.ones(x.shape[0], 1, dtype=x.dtype, device=x.device)
    if kind == "identity":
        return x
    if kind == "linear":
        return torch.cat([x, ones], dim=1)
    if kind == "quadratic":
        i, j = torch.triu_indices(x.shape[1], x.shape[1], device=x.device)
        return torch.cat([x, x[:, i] * x[:, j], ones], dim=1)        # (n, d + d(d+1)/2 + 1)
    omega, b = fourier_frequencies(x.shape[1], n_features, bandwidth, seed, x.dtype, x.device)
    return torch.cat([math.sqrt(2.0 / n_features) * torch.cos(x @ omega + b), ones], dim=1)


# --------------------------------------------------------------------------- checks
def _check_C(C) -> float:
    if isinstance(C, bool) or not isinstance(C, (int, float, np.floating, np.integer)) \
            or not math.isfinite(C) or C <= 0:
        raise ValueError(f"regularization C must be a positive finite number, got {C!r}")
    return float(C)


def _check_phi(phi_real, phi_fake):
    for name, t in (("phi_real", phi_real), ("phi_fake", phi_fake)):
        if not torch.is_tensor(t):
            raise TypeError(f"{name} must be a torch.Tensor of shape (n, k), got {type(t).__name__}")
        if t.dim() != 2 or t.shape[0] < 1:
            raise ValueError(f"{name} must have shape (n, k) with n >= 1, got {tuple(t.shape)}")
    if phi_real.shape[1] != phi_fake.shape[1]:
        raise ValueError(f"phi_real and phi_fake must have the same number of features, got "
                         f"{phi_real.shape[1]} and {phi_fake.shape[1]}")


def _check_lam(name, lam, n):
    if not torch.is_tensor(lam):
        raise TypeError(f"{name} must be a torch.Tensor of shape ({n},), got {type(lam).__name__}")
    if lam.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {tuple(lam.shape)}")
    bad = (lam < 0) | (lam > 1) | ~torch.isfinite(lam)
    if bool(bad.any()):
        v = lam[bad][0].item()
        raise ValueError(f"{name} must lie in the box [0, 1]; found {v!r}")


def _check_w(w, k):
    if not torch.is_tensor(w):
        raise TypeError(f"w must be a torch.Tensor of shape ({k},), got {type(w).__name__}")
    if w.shape != (k,):
        raise ValueError(f"w must have shape ({k},) to match the features, got {tuple(w.shape)}")


# --------------------------------------------------------------------------- primal
def primal_objective(w, phi_real, phi_fake, C: float) -> torch.Tensor:
    """P(w) = C/2 ||w||^2 + sum_x softplus(-w^T phi(x)) + sum_z softplus(w^T phi(G(z))).

    The discriminator's regularized cross-entropy (it minimizes it over w; the generator
    maximizes its minimum). ``w`` (k,), ``phi_real`` (n, k), ``phi_fake`` (m, k) -> scalar.
    """
    C = _check_C(C)
    _check_phi(phi_real, phi_fake)
    _check_w(w, phi_real.shape[1])
    return (0.5 * C * (w * w).sum() + F.softplus(-(phi_real @ w)).sum()
            + F.softplus(phi_fake @ w).sum())


def primal_gradient(w, phi_real, phi_fake, C: float) -> torch.Tensor:
    """grad P(w) = C w - sum_x (1 - D_w(x)) phi(x) + sum_z D_w(G(z)) phi(G(z)), shape (k,)."""
    C = _check_C(C)
    _check_phi(phi_real, phi_fake)
    _check_w(w, phi_real.shape[1])
    return C * w - phi_real.T @ torch.sigmoid(-(phi_real @ w)) + phi_fake.T @ torch.sigmoid(phi_fake @ w)


def primal_hessian(w, phi_real, phi_fake, C: float) -> torch.Tensor:
    """Hess P(w) = C I + sum_{all samples} D(1 - D) phi phi^T (k, k): positive definite (>= C I)."""
    C = _check_C(C)
    _check_phi(phi_real, phi_fake)
    _check_w(w, phi_real.shape[1])
    phi = torch.cat([phi_real, phi_fake])
    s = torch.sigmoid(phi @ w)
    return C * torch.eye(phi.shape[1], dtype=phi.dtype, device=phi.device) + (phi.T * (s * (1 - s))) @ phi


def solve_primal(phi_real, phi_fake, C: float, tol: float = 1e-11, max_iter: int = 2000) -> torch.Tensor:
    """argmin_w P(w) by L-BFGS (scipy, float64) followed by Newton polishing; returns (k,) float64.

    The minimizer is unique since P is C-strongly convex. ``tol`` bounds the final gradient norm
    relative to 1 + ||sum phi||.
    """
    C = _check_C(C)
    _check_phi(phi_real, phi_fake)
    pr = phi_real.detach().to(torch.float64).cpu()
    pf = phi_fake.detach().to(torch.float64).cpu()

    def fun(wn):
        w = torch.from_numpy(wn)
        return primal_objective(w, pr, pf, C).item(), primal_gradient(w, pr, pf, C).numpy()

    k = pr.shape[1]
    res = optimize.minimize(fun, np.zeros(k), jac=True, method="L-BFGS-B",
                            options={"maxiter": max_iter, "ftol": 1e-16, "gtol": 1e-12})
    w = torch.from_numpy(res.x)
    scale = 1.0 + pr.abs().sum().item() + pf.abs().sum().item()
    for _ in range(20):  # Newton steps: quadratic convergence from the L-BFGS point
        g = primal_gradient(w, pr, pf, C)
        if g.norm().item() <= tol * scale:
            break
        w = w - torch.linalg.solve(primal_hessian(w, pr, pf, C), g)
    return w


# --------------------------------------------------------------------------- dual
def binary_entropy(lam: torch.Tensor) -> torch.Tensor:
    """H(lambda) = -lambda log lambda - (1 - lambda) log(1 - lambda), elementwise, 0 log 0 = 0 (nats)."""
    if not torch.is_tensor(lam):
        raise TypeError(f"lam must be a torch.Tensor, got {type(lam).__name__}")
    if bool(((lam < 0) | (lam > 1) | ~torch.isfinite(lam)).any()):
        raise ValueError("binary entropy needs lambda in the box [0, 1]")
    return -torch.special.xlogy(lam, lam) - torch.special.xlogy(1 - lam, 1 - lam)


def recover_w(lam_real, lam_fake, phi_real, phi_fake, C: float) -> torch.Tensor:
    """w(lambda) = (1/C) (sum_x (1 - lambda_x) phi(x) - sum_z lambda_z phi(G(z))), shape (k,).

    The minimizer of the Lagrangian over w; at the dual optimum it is the primal solution.
    """
    C = _check_C(C)
    _check_phi(phi_real, phi_fake)
    _check_lam("lam_real", lam_real, phi_real.shape[0])
    _check_lam("lam_fake", lam_fake, phi_fake.shape[0])
    return (phi_real.T @ (1 - lam_real) - phi_fake.T @ lam_fake) / C


def dual_objective(lam_real, lam_fake, phi_real, phi_fake, C: float) -> torch.Tensor:
    """Q(lambda) = -C/2 ||w(lambda)||^2 + sum_x H(lambda_x) + sum_z H(lambda_z), maximized on [0, 1]^(n+m).

    Equal to -1/(2C) ||sum_x (1 - lambda_x) phi(x) - sum_z lambda_z phi(G(z))||^2 + sum H.
    Differentiable in lambda and in ``phi_fake`` (hence in the generator's parameters).
    """
    w = recover_w(lam_real, lam_fake, phi_real, phi_fake, C)
    return -0.5 * float(C) * (w * w).sum() + binary_entropy(lam_real).sum() + binary_entropy(lam_fake).sum()


def dual_gradient(lam_real, lam_fake, phi_real, phi_fake, C: float):
    """dQ/dlambda_x = w(lambda)^T phi(x) - logit(lambda_x), dQ/dlambda_z = w(lambda)^T phi(G(z)) - logit(lambda_z).

    Returns the pair ((n,), (m,)); it vanishes exactly when lambda = D_{w(lambda)} at every sample.
    Needs lambda in the open box (0, 1) (the entropy's slope is infinite on the boundary).
    """
    w = recover_w(lam_real, lam_fake, phi_real, phi_fake, C)
    return phi_real @ w - torch.logit(lam_real), phi_fake @ w - torch.logit(lam_fake)


def kkt_residuals(w, lam_real, lam_fake, phi_real, phi_fake, C: float) -> dict:
    """Largest violations of the optimality conditions of the pair (w, lambda).

    * ``stationarity``: ||C w - sum_x (1 - lambda_x) phi(x) + sum_z lambda_z phi(G(z))||_inf;
    * ``real``: max_x |lambda_x - D_w(x)|;  ``fake``: max_z |lambda_z - D_w(G(z))|;
    * ``box``: distance of lambda to the open box: 0 when every lambda is strictly in (0, 1),
      so that the multipliers of the box constraints are zero (complementary slackness).
    """
    C = _check_C(C)
    _check_phi(phi_real, phi_fake)
    _check_w(w, phi_real.shape[1])
    w_lam = recover_w(lam_real, lam_fake, phi_real, phi_fake, C)
    lam = torch.cat([lam_real, lam_fake])
    return {
        "stationarity": (C * (w - w_lam)).abs().max().item(),
        "real": (lam_real - torch.sigmoid(phi_real @ w)).abs().max().item(),
        "fake": (lam_fake - torch.sigmoid(phi_fake @ w)).abs().max().item(),
        "box": float(((lam <= 0) | (lam >= 1)).any().item()),
    }


@dataclass(frozen=True)
class DualSolution:
    """Result of :func:`solve_dual`."""

    lam_real: torch.Tensor   # (n,) lambda_x = D(x) at the optimum
    lam_fake: torch.Tensor   # (m,) lambda_z = D(G(z)) at the optimum
    w: torch.Tensor          # (k,) w(lambda), the recovered primal solution
    gaps: np.ndarray         # duality gap P(w(lambda_t)) - Q(lambda_t) after each step
    steps: int               # steps taken
    step_size: float         # mirror step eta


def solve_dual(phi_real, phi_fake, C: float, max_steps: int = 100_000, tol: float = 1e-12,
               step_size: float | None = None) -> DualSolution:
    """max_lambda Q(lambda) on the box by mirror ascent with the binary-entropy mirror map.

    In logit coordinates a = logit(lambda) the step is

        a <- a + eta dQ/dlambda = (1 - eta) a + eta * (scores of w(lambda)),

    i.e. lambda moves towards D_{w(lambda)} and never leaves the open box. Q is 1-strongly
    concave and (1 + L)-smooth relative to the negative entropy, L = ||Phi||_2^2 / (4C) with Phi
    the stacked features, so ``step_size`` eta = 1/(1 + L) (the default) converges linearly.
    Stops when the duality gap P(w(lambda)) - Q(lambda) <= tol * (1 + |Q|). Float64 throughout.
    """
    C = _check_C(C)
    _check_phi(phi_real, phi_fake)
    check_int("max_steps", max_steps, 1)
    pr = phi_real.detach().to(torch.float64)
    pf = phi_fake.detach().to(torch.float64)
    if step_size is None:
        L = torch.linalg.matrix_norm(torch.cat([pr, pf]), ord=2).item() ** 2 / (4 * C)
        step_size = 1.0 / (1.0 + L)
    if not (0 < step_size <= 1):
        raise ValueError(f"step_size must lie in (0, 1], got {step_size!r}")
    a_r = torch.zeros(pr.shape[0], dtype=torch.float64, device=pr.device)   # lambda = 1/2
    a_f = torch.zeros(pf.shape[0], dtype=torch.float64, device=pf.device)
    gaps = []
    w = recover_w(torch.sigmoid(a_r), torch.sigmoid(a_f), pr, pf, C)
    for t in range(1, max_steps + 1):
        a_r = (1 - step_size) * a_r + step_size * (pr @ w)
        a_f = (1 - step_size) * a_f + step_size * (pf @ w)
        lr_, lf_ = torch.sigmoid(a_r), torch.sigmoid(a_f)
        w = recover_w(lr_, lf_, pr, pf, C)
        q = dual_objective(lr_, lf_, pr, pf, C).item()
        gap = primal_objective(w, pr, pf, C).item() - q
        gaps.append(gap)
        if gap <= tol * (1 + abs(q)):
            break
    return DualSolution(lr_, lf_, w, np.asarray(gaps), t, float(step_size))


def feature_gap(phi_real, phi_fake, C: float) -> float:
    """(n + m) log 2 - min_w P(w) >= 0; zero exactly when sum_x phi(x) = sum_z phi(G(z)).

    The generator's suboptimality in the dual GAN (its objective min_w P is at most
    (n + m) log 2, the value at w = 0).
    """
    w = solve_primal(phi_real, phi_fake, C)
    pr = phi_real.detach().to(torch.float64).cpu()
    pf = phi_fake.detach().to(torch.float64).cpu()
    return (pr.shape[0] + pf.shape[0]) * math.log(2) - primal_objective(w, pr, pf, C).item()
