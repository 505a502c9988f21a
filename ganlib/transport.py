"""Wasserstein distances: exact optimal transport (POT), closed forms on the line and between
Gaussians, and the sliced Wasserstein distance.

For probability measures P, Q on R^d and p >= 1,

    W_p(P, Q)^p = min_{pi in Pi(P, Q)} E_{(x, y)~pi} ||x - y||_2^p,

the minimum over couplings pi with marginals P and Q (Villani 2009, Def. 6.1). Between two
empirical measures (uniform, or with weights ``a``, ``b``) this is a linear program, solved
exactly by the network simplex of POT, ``ot.emd2`` (Flamary et al. 2021): :func:`w1_exact`,
:func:`w1_exact_torch` (differentiable in the points) and :func:`w2_exact`.

In one dimension the optimal coupling is monotone, so

    W1(P, Q) = int_0^1 |F^{-1}(u) - G^{-1}(u)| du = int |F(t) - G(t)| dt,

which for two samples of equal size n is (1/n) sum_i |x_(i) - y_(i)| (sorted samples):
:func:`w1_1d_sorted`, :func:`w1_1d_cdf` (samples of any sizes), :func:`w1_from_cdfs` (two CDFs).

Between Gaussians W2 has a closed form (Dowson and Landau 1982; Givens and Shortt 1984),

    W2^2(N(mu_a, S_a), N(mu_b, S_b)) = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2}),

:func:`w2_squared_gaussians`; the Frechet distance of :mod:`ganlib.metrics` is this number for
Gaussians fitted to two feature sets.

The sliced Wasserstein distance (Rabin et al. 2011; Bonneel et al. 2015) averages 1D distances
over directions theta drawn uniformly on the unit sphere,

    SW_p(P, Q)^p = E_{theta ~ U(S^{d-1})} W_p(theta#P, theta#Q)^p,

each 1D W_p computed exactly by sorting (:func:`sliced_wasserstein`). It is differentiable in
the samples, so a generator can minimize it directly.
"""
from __future__ import annotations

import warnings

import numpy as np
import ot
import torch
from scipy import linalg

from . import checks

METRICS = ("euclidean", "cityblock")   # ground norms of w1_exact: ||.||_2 and ||.||_1


def _emd(x: np.ndarray, y: np.ndarray, a, b, metric: str) -> float:
    """min_pi sum_ij pi_ij c(x_i, y_j) for the (n, m) cost matrix ot.dist(x, y, metric)."""
    n, m = len(x), len(y)
    a = np.full(n, 1.0 / n) if a is None else a / a.sum()
    b = np.full(m, 1.0 / m) if b is None else b / b.sum()
    cost = ot.dist(x, y, metric=metric)               # (n, m)
    return float(ot.emd2(a, b, cost, numItermax=10_000_000))


def w1_exact(x, y, a=None, b=None, metric: str = "euclidean") -> float:
    """W1 between sum_i a_i delta_{x_i} and sum_j b_j delta_{y_j}: min_pi sum pi_ij ||x_i - y_j||.

    ``x`` (n, d) or (n,), ``y`` (m, d) or (m,); ``a`` (n,), ``b`` (m,) default to uniform.
    ``metric`` is the ground norm: "euclidean" (||.||_2, the default and the book's W1) or
    "cityblock" (||.||_1). Solved exactly with ``ot.emd2`` on the (n, m) cost matrix, so
    memory is O(n m): keep n, m to a few thousand.
    """
    metric = checks.check_choice("metric", metric, METRICS)
    x, y = checks.points("x", x, allow_1d=True), checks.points("y", y, allow_1d=True)
    checks.same_dim("x", x, "y", y)
    a = None if a is None else checks.probability_vector("a", a, len(x))
    b = None if b is None else checks.probability_vector("b", b, len(y))
    return _emd(x, y, a, b, metric)


def w2_exact(x, y, a=None, b=None) -> float:
    """W2 = (min_pi sum_ij pi_ij ||x_i - y_j||^2)^{1/2} between two empirical measures.

    Shapes and weights as in :func:`w1_exact` (``ot.emd2`` on the squared Euclidean costs).
    """
    x, y = checks.points("x", x, allow_1d=True), checks.points("y", y, allow_1d=True)
    checks.same_dim("x", x, "y", y)
    a = None if a is None else checks.probability_vector("a", a, len(x))
    b = None if b is None else checks.probability_vector("b", b, len(y))
    return float(np.sqrt(max(_emd(x, y, a, b, "sqeuclidean"), 0.0)))


def w1_exact_torch(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """W1 between the uniform empirical measures on x (n, d) and y (m, d), differentiable.

    POT's torch backend returns the optimal cost as a float64 scalar tensor whose gradient with
    respect to the points is that of sum_ij pi*_ij ||x_i - y_j|| at the optimal plan pi* (an
    envelope theorem), so autograd gives d W1 / d theta for points that depend on theta.
    """
    x, y = checks.tensor_points("x", x), checks.tensor_points("y", y)
    checks.same_dim("x", x, "y", y)
    x, y = x.double(), y.double()
    cost = torch.cdist(x, y)                           # (n, m), differentiable
    a = torch.full((len(x),), 1.0 / len(x), dtype=x.dtype, device=x.device)
    b = torch.full((len(y),), 1.0 / len(y), dtype=y.dtype, device=y.device)
    return ot.emd2(a, b, cost)


def w1_1d_sorted(x, y) -> float:
    """W1 = (1/n) sum_i |x_(i) - y_(i)| for two 1D samples x, y of the same size n (sorted).

    ``x``, ``y`` are (n,) or (n, 1); for different sizes use :func:`w1_1d_cdf`.
    """
    x = checks.check_shape("x", checks.points("x", x, allow_1d=True), ("n", 1))[:, 0]
    y = checks.check_shape("y", checks.points("y", y, allow_1d=True), ("n", 1))[:, 0]
    checks.same_shape("x", x, "y", y)
    return float(np.abs(np.sort(x) - np.sort(y)).mean())


def w1_1d_cdf(x, y) -> float:
    """W1 = int |F_x(t) - F_y(t)| dt between two 1D empirical measures x (n,), y (m,), any n, m.

    The empirical CDFs are step functions, so the integral is an exact finite sum over the
    intervals between consecutive points of the merged sample (the number that
    ``scipy.stats.wasserstein_distance(x, y)`` returns). ``x``, ``y`` may also be (n, 1).
    """
    x = checks.check_shape("x", checks.points("x", x, allow_1d=True), ("n", 1))[:, 0]
    y = checks.check_shape("y", checks.points("y", y, allow_1d=True), ("m", 1))[:, 0]
    xs, ys = np.sort(x), np.sort(y)
    t = np.sort(np.concatenate([xs, ys]))              # (n + m,)
    fx = np.searchsorted(xs, t[:-1], side="right") / len(xs)
    fy = np.searchsorted(ys, t[:-1], side="right") / len(ys)
    return float(np.sum(np.abs(fx - fy) * np.diff(t)))


def w1_from_cdfs(cdf_p, cdf_q, lo: float, hi: float, n: int = 200_001) -> float:
    """W1 = int_lo^hi |F(t) - G(t)| dt for two CDFs F, G given as vectorised functions.

    The trapezoid rule on ``n`` equally spaced points; ``cdf_p`` and ``cdf_q`` map (n,) -> (n,).
    [lo, hi] must hold (almost) all the mass of both distributions.
    """
    lo, hi = checks.check_interval("integration interval", lo, hi)
    n = checks.check_int("n", n, 2)
    t = np.linspace(lo, hi, n)
    return float(np.trapezoid(np.abs(np.asarray(cdf_p(t)) - np.asarray(cdf_q(t))), t))


def w2_squared_gaussians(mu_a, cov_a, mu_b, cov_b) -> float:
    """W2^2(N(mu_a, S_a), N(mu_b, S_b)) = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2}).

    ``mu_a``, ``mu_b`` (d,); ``cov_a``, ``cov_b`` (d, d) symmetric positive semi-definite (for
    d = 1 scalars and 1-element lists are accepted). The matrix square root is
    ``scipy.linalg.sqrtm``; a tiny imaginary part from round-off is dropped, and a singular
    product is regularized by adding 1e-6 I to both covariances (as in the FID reference code).
    """
    mu_a, mu_b = (np.atleast_1d(np.asarray(m, dtype=np.float64)) for m in (mu_a, mu_b))
    cov_a, cov_b = (np.atleast_2d(np.asarray(c, dtype=np.float64)) for c in (cov_a, cov_b))
    d = len(mu_a)
    checks.check_shape("mu_a", mu_a, ("d",))
    checks.check_shape("mu_b", mu_b, (d,))
    checks.check_shape("cov_a", cov_a, (d, d))
    checks.check_shape("cov_b", cov_b, (d, d))
    with warnings.catch_warnings():   # dead ReLU features make S_a S_b singular: harmless
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(cov_a @ cov_b)
        if not np.all(np.isfinite(covmean)):
            eps = 1e-6 * np.eye(d)
            covmean = linalg.sqrtm((cov_a + eps) @ (cov_b + eps))
    covmean = np.real(covmean)
    diff = mu_a - mu_b
    return float(max(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(covmean), 0.0))


def random_directions(n: int, dim: int, generator: torch.Generator | None = None, device=None,
                      dtype=torch.float32) -> torch.Tensor:
    """n directions theta ~ U(S^{dim-1}) as normalized Gaussians, (n, dim)."""
    n, dim = checks.check_int("n", n), checks.check_int("dim", dim)
    dev = device if device is not None else (generator.device if generator is not None else "cpu")
    theta = torch.randn(n, dim, generator=generator, device=dev, dtype=dtype)
    return theta / theta.norm(dim=1, keepdim=True)


def sliced_wasserstein(x: torch.Tensor, y: torch.Tensor, n_projections: int = 128, p: int = 2,
                       generator: torch.Generator | None = None,
                       directions: torch.Tensor | None = None) -> torch.Tensor:
    """SW_p(P, Q) = (E_theta W_p(theta#P, theta#Q)^p)^(1/p), a Monte-Carlo average over directions.

    x (n, d) and y (n, d) must have the same shape: each 1D W_p between empirical measures of
    n atoms is (mean_i |x_(i) - y_(i)|^p)^(1/p) with sorted projections. ``p`` is 1 or 2.
    ``directions`` (L, d) overrides the ``n_projections`` random ones. A generator minimizes it.
    Returns a scalar tensor, differentiable in x and y.
    """
    x, y = checks.tensor_points("x", x), checks.tensor_points("y", y)
    checks.same_shape("x", x, "y", y)
    p = checks.check_option("power p", p, (1, 2))
    if directions is None:
        n_projections = checks.check_int("n_projections", n_projections)
        directions = random_directions(n_projections, x.shape[1], generator, x.device, x.dtype)
    else:
        checks.same_dim("x", x, "directions", checks.tensor_points("directions", directions))
    px = torch.sort(x @ directions.T, dim=0).values                     # (n, L)
    py = torch.sort(y @ directions.T, dim=0).values
    return ((px - py).abs() ** p).mean().pow(1.0 / p)
