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

from . import checks

FEATURE_MAPS = ("identity", "linear", "quadratic", "fourier")


# --------------------------------------------------------------------------- feature maps
def fourier_frequencies(d: int, n_features: int, bandwidth: float, seed: int = 0,
                        dtype=torch.float64, device=None):
    """Omega ~ N(0, I / bandwidth^2) (d, n_features) and phases b ~ U[0, 2 pi) (n_features,).

    Drawn from a private ``torch.Generator`` seeded with ``seed``: the same arguments always
    give the same frequencies, independently of the global random state.
    """
    d, n_features = checks.check_int("d", d), checks.check_int("n_features", n_features)
    bandwidth = checks.check_positive("bandwidth", bandwidth)
    g = torch.Generator().manual_seed(checks.check_int("seed", seed, 0))
    omega = torch.randn(d, n_features, generator=g, dtype=torch.float64) / bandwidth
    b = 2 * math.pi * torch.rand(n_features, generator=g, dtype=torch.float64)
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
    x = checks.tensor_points("x", x)
    kind = checks.check_choice("feature map", kind, FEATURE_MAPS)
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


# --------------------------------------------------------------------------- entry checks
def _checked(phi_real, phi_fake, C) -> float:
    """The checks shared by every public function of a problem (phi_real, phi_fake, C); C as float."""
    checks.tensor_points("phi_real", phi_real)
    checks.tensor_points("phi_fake", phi_fake)
    checks.same_dim("phi_real", phi_real, "phi_fake", phi_fake)
    return checks.check_positive("regularization C", C)


def _checked_lam(lam_real, lam_fake, phi_real, phi_fake) -> None:
    checks.check_shape("lam_real", checks.unit_box("lam_real", lam_real), (phi_real.shape[0],))
    checks.check_shape("lam_fake", checks.unit_box("lam_fake", lam_fake), (phi_fake.shape[0],))


def _checked_w(w, phi_real) -> None:
    checks.check_shape("w", checks.check_tensor("w", w), (phi_real.shape[1],))


# --------------------------------------------------------------------------- kernels (no checks)
def _primal(w, pr, pf, C):
    return 0.5 * C * (w * w).sum() + F.softplus(-(pr @ w)).sum() + F.softplus(pf @ w).sum()


def _primal_grad(w, pr, pf, C):
    return C * w - pr.T @ torch.sigmoid(-(pr @ w)) + pf.T @ torch.sigmoid(pf @ w)


def _primal_hess(w, pr, pf, C):
    phi = torch.cat([pr, pf])                                          # (n + m, k)
    s = torch.sigmoid(phi @ w)
    return C * torch.eye(phi.shape[1], dtype=phi.dtype, device=phi.device) + (phi.T * (s * (1 - s))) @ phi


def _entropy(lam):
    return -torch.special.xlogy(lam, lam) - torch.special.xlogy(1 - lam, 1 - lam)


def _recover_w(lr, lf, pr, pf, C):
    return (pr.T @ (1 - lr) - pf.T @ lf) / C


def _dual_at(w, lr, lf, C):
    """Q(lambda) = -C/2 ||w(lambda)||^2 + sum H(lambda), given w = w(lambda)."""
    return -0.5 * C * (w * w).sum() + _entropy(lr).sum() + _entropy(lf).sum()


def _solve_primal(pr, pf, C, tol, max_iter):
    pr = pr.detach().to(torch.float64).cpu()
    pf = pf.detach().to(torch.float64).cpu()

    def fun(wn):
        w = torch.from_numpy(wn)
        return _primal(w, pr, pf, C).item(), _primal_grad(w, pr, pf, C).numpy()

    res = optimize.minimize(fun, np.zeros(pr.shape[1]), jac=True, method="L-BFGS-B",
                            options={"maxiter": max_iter, "ftol": 1e-16, "gtol": 1e-12})
    w = torch.from_numpy(res.x)
    scale = 1.0 + pr.abs().sum().item() + pf.abs().sum().item()
    for _ in range(20):  # Newton steps: quadratic convergence from the L-BFGS point
        g = _primal_grad(w, pr, pf, C)
        if g.norm().item() <= tol * scale:
            break
        w = w - torch.linalg.solve(_primal_hess(w, pr, pf, C), g)
    return w


# --------------------------------------------------------------------------- primal
def primal_objective(w, phi_real, phi_fake, C: float) -> torch.Tensor:
    """P(w) = C/2 ||w||^2 + sum_x softplus(-w^T phi(x)) + sum_z softplus(w^T phi(G(z))).

    The discriminator's regularized cross-entropy (it minimizes it over w; the generator
    maximizes its minimum). ``w`` (k,), ``phi_real`` (n, k), ``phi_fake`` (m, k) -> scalar.
    """
    C = _checked(phi_real, phi_fake, C)
    _checked_w(w, phi_real)
    return _primal(w, phi_real, phi_fake, C)


def primal_gradient(w, phi_real, phi_fake, C: float) -> torch.Tensor:
    """grad P(w) = C w - sum_x (1 - D_w(x)) phi(x) + sum_z D_w(G(z)) phi(G(z)), shape (k,)."""
    C = _checked(phi_real, phi_fake, C)
    _checked_w(w, phi_real)
    return _primal_grad(w, phi_real, phi_fake, C)


def primal_hessian(w, phi_real, phi_fake, C: float) -> torch.Tensor:
    """Hess P(w) = C I + sum_{all samples} D(1 - D) phi phi^T (k, k): positive definite (>= C I)."""
    C = _checked(phi_real, phi_fake, C)
    _checked_w(w, phi_real)
    return _primal_hess(w, phi_real, phi_fake, C)


def solve_primal(phi_real, phi_fake, C: float, tol: float = 1e-11, max_iter: int = 2000) -> torch.Tensor:
    """argmin_w P(w) by L-BFGS (scipy, float64) followed by Newton polishing; returns (k,) float64.

    The minimizer is unique since P is C-strongly convex. ``tol`` bounds the final gradient norm
    relative to 1 + ||sum phi||.
    """
    C = _checked(phi_real, phi_fake, C)
    tol, max_iter = checks.check_positive("tol", tol), checks.check_int("max_iter", max_iter)
    return _solve_primal(phi_real, phi_fake, C, tol, max_iter)


# --------------------------------------------------------------------------- dual
def binary_entropy(lam: torch.Tensor) -> torch.Tensor:
    """H(lambda) = -lambda log lambda - (1 - lambda) log(1 - lambda), elementwise, 0 log 0 = 0 (nats)."""
    return _entropy(checks.unit_box("lam", lam))


def recover_w(lam_real, lam_fake, phi_real, phi_fake, C: float) -> torch.Tensor:
    """w(lambda) = (1/C) (sum_x (1 - lambda_x) phi(x) - sum_z lambda_z phi(G(z))), shape (k,).

    The minimizer of the Lagrangian over w; at the dual optimum it is the primal solution.
    """
    C = _checked(phi_real, phi_fake, C)
    _checked_lam(lam_real, lam_fake, phi_real, phi_fake)
    return _recover_w(lam_real, lam_fake, phi_real, phi_fake, C)


def dual_objective(lam_real, lam_fake, phi_real, phi_fake, C: float) -> torch.Tensor:
    """Q(lambda) = -C/2 ||w(lambda)||^2 + sum_x H(lambda_x) + sum_z H(lambda_z), maximized on [0, 1]^(n+m).

    Equal to -1/(2C) ||sum_x (1 - lambda_x) phi(x) - sum_z lambda_z phi(G(z))||^2 + sum H.
    Differentiable in lambda and in ``phi_fake`` (hence in the generator's parameters).
    """
    C = _checked(phi_real, phi_fake, C)
    _checked_lam(lam_real, lam_fake, phi_real, phi_fake)
    return _dual_at(_recover_w(lam_real, lam_fake, phi_real, phi_fake, C), lam_real, lam_fake, C)


def dual_gradient(lam_real, lam_fake, phi_real, phi_fake, C: float):
    """dQ/dlambda_x = w(lambda)^T phi(x) - logit(lambda_x), dQ/dlambda_z = w(lambda)^T phi(G(z)) - logit(lambda_z).

    Returns the pair ((n,), (m,)); it vanishes exactly when lambda = D_{w(lambda)} at every sample.
    Needs lambda in the open box (0, 1) (the entropy's slope is infinite on the boundary).
    """
    C = _checked(phi_real, phi_fake, C)
    _checked_lam(lam_real, lam_fake, phi_real, phi_fake)
    w = _recover_w(lam_real, lam_fake, phi_real, phi_fake, C)
    return phi_real @ w - torch.logit(lam_real), phi_fake @ w - torch.logit(lam_fake)


def kkt_residuals(w, lam_real, lam_fake, phi_real, phi_fake, C: float) -> dict:
    """Largest violations of the optimality conditions of the pair (w, lambda).

    * ``stationarity``: ||C w - sum_x (1 - lambda_x) phi(x) + sum_z lambda_z phi(G(z))||_inf;
    * ``real``: max_x |lambda_x - D_w(x)|;  ``fake``: max_z |lambda_z - D_w(G(z))|;
    * ``box``: distance of lambda to the open box: 0 when every lambda is strictly in (0, 1),
      so that the multipliers of the box constraints are zero (complementary slackness).
    """
    C = _checked(phi_real, phi_fake, C)
    _checked_w(w, phi_real)
    _checked_lam(lam_real, lam_fake, phi_real, phi_fake)
    w_lam = _recover_w(lam_real, lam_fake, phi_real, phi_fake, C)
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
    C = _checked(phi_real, phi_fake, C)
    max_steps = checks.check_int("max_steps", max_steps)
    tol = checks.check_positive("tol", tol, allow_zero=True)
    pr = phi_real.detach().to(torch.float64)
    pf = phi_fake.detach().to(torch.float64)
    if step_size is None:
        L = torch.linalg.matrix_norm(torch.cat([pr, pf]), ord=2).item() ** 2 / (4 * C)
        step_size = 1.0 / (1.0 + L)
    else:   # eta in (0, 1]
        step_size = checks.check_probability("step_size", checks.check_positive("step_size", step_size))
    a_r = torch.zeros(pr.shape[0], dtype=torch.float64, device=pr.device)   # lambda = 1/2
    a_f = torch.zeros(pf.shape[0], dtype=torch.float64, device=pf.device)
    gaps = []
    w = _recover_w(torch.sigmoid(a_r), torch.sigmoid(a_f), pr, pf, C)
    for t in range(1, max_steps + 1):
        a_r = (1 - step_size) * a_r + step_size * (pr @ w)
        a_f = (1 - step_size) * a_f + step_size * (pf @ w)
        lr_, lf_ = torch.sigmoid(a_r), torch.sigmoid(a_f)
        w = _recover_w(lr_, lf_, pr, pf, C)
        p, q = torch.stack([_primal(w, pr, pf, C), _dual_at(w, lr_, lf_, C)]).tolist()  # one sync
        gaps.append(p - q)
        if p - q <= tol * (1 + abs(q)):
            break
    return DualSolution(lr_, lf_, w, np.asarray(gaps), t, float(step_size))


def feature_gap(phi_real, phi_fake, C: float) -> float:
    """(n + m) log 2 - min_w P(w) >= 0; zero exactly when sum_x phi(x) = sum_z phi(G(z)).

    The generator's suboptimality in the dual GAN (its objective min_w P is at most
    (n + m) log 2, the value at w = 0). ``phi_real`` (n, k), ``phi_fake`` (m, k).
    """
    C = _checked(phi_real, phi_fake, C)
    w = _solve_primal(phi_real, phi_fake, C, 1e-11, 2000)
    pr = phi_real.detach().to(torch.float64).cpu()
    pf = phi_fake.detach().to(torch.float64).cpu()
    return (pr.shape[0] + pf.shape[0]) * math.log(2) - _primal(w, pr, pf, C).item()
