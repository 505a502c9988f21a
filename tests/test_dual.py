"""Tests for ganlib.dual: the log-linear discriminator's primal, its dual and their solvers."""
import math

import numpy as np
import pytest
import torch

from ganlib import dual


def _problem(seed=0, n=60, m=50, kind="linear", dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g, dtype=dtype) + torch.tensor([1.0, -0.5], dtype=dtype)
    y = 0.7 * torch.randn(m, 2, generator=g, dtype=dtype)
    return dual.features(x, kind), dual.features(y, kind)


def test_feature_shapes_and_values():
    x = torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=torch.float64)
    assert torch.equal(dual.features(x, "identity"), x)
    assert torch.equal(dual.features(x, "linear"), torch.tensor([[1.0, 2, 1], [3, -1, 1]], dtype=torch.float64))
    q = dual.features(x, "quadratic")   # (x1, x2, x1^2, x1 x2, x2^2, 1)
    assert torch.allclose(q[0], torch.tensor([1.0, 2, 1, 2, 4, 1], dtype=torch.float64))
    f = dual.features(x, "fourier", n_features=16, seed=3)
    assert f.shape == (2, 17) and torch.equal(f, dual.features(x, "fourier", n_features=16, seed=3))
    assert not torch.equal(f, dual.features(x, "fourier", n_features=16, seed=4))


def test_fourier_features_approximate_gaussian_kernel():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 2, generator=g, dtype=torch.float64)
    phi = dual.features(x, "fourier", n_features=20000, bandwidth=0.8, seed=1)
    approx = phi @ phi.T - 1.0
    exact = torch.exp(-torch.cdist(x, x) ** 2 / (2 * 0.8**2))
    assert (approx - exact).abs().max() < 0.03


def test_binary_entropy_values():
    lam = torch.tensor([0.0, 0.5, 1.0, 0.25], dtype=torch.float64)
    h = dual.binary_entropy(lam)
    expected = [0.0, math.log(2), 0.0, -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))]
    assert np.allclose(h.numpy(), expected)


def test_softplus_is_max_of_linear_plus_entropy():
    # softplus(s) = max_u (u s + H(u)), attained at u = sigmoid(s): the conjugate pair behind the dual
    s = torch.linspace(-6, 6, 25, dtype=torch.float64)
    u = torch.linspace(1e-9, 1 - 1e-9, 200001, dtype=torch.float64)
    best = (u[None] * s[:, None] + dual.binary_entropy(u)[None]).max(1).values
    assert torch.allclose(best, torch.nn.functional.softplus(s), atol=1e-8)
    at_sigmoid = torch.sigmoid(s) * s + dual.binary_entropy(torch.sigmoid(s))
    assert torch.allclose(at_sigmoid, torch.nn.functional.softplus(s), atol=1e-12)


@pytest.mark.parametrize("kind", ["linear", "quadratic", "fourier"])
def test_strong_duality_and_recovery(kind):
    pr, pf = _problem(kind=kind)
    C = 2.0
    w = dual.solve_primal(pr, pf, C)
    sol = dual.solve_dual(pr, pf, C, tol=1e-13)
    p = dual.primal_objective(w, pr, pf, C).item()
    q = dual.dual_objective(sol.lam_real, sol.lam_fake, pr, pf, C).item()
    assert abs(p - q) / abs(p) < 1e-9
    assert torch.allclose(sol.w, w, atol=1e-5)
    r = dual.kkt_residuals(w, sol.lam_real, sol.lam_fake, pr, pf, C)
    assert r["real"] < 1e-5 and r["fake"] < 1e-5 and r["stationarity"] < 1e-4 and r["box"] == 0
    # lambda_x is D(x) (not 1 - D(x)): the seed's (1 - lambda_x) convention
    assert torch.allclose(sol.lam_real, torch.sigmoid(pr @ w), atol=1e-5)
    # weak duality along the way: every recorded gap is nonnegative
    assert np.all(sol.gaps >= -1e-9)


def test_weak_duality_at_random_points():
    pr, pf = _problem(kind="quadratic", n=30, m=40)
    g = torch.Generator().manual_seed(1)
    for C in (0.1, 1.0, 10.0):
        for _ in range(50):
            lr = torch.rand(30, generator=g, dtype=torch.float64)
            lf = torch.rand(40, generator=g, dtype=torch.float64)
            w = 3 * torch.randn(pr.shape[1], generator=g, dtype=torch.float64)
            assert dual.dual_objective(lr, lf, pr, pf, C) <= dual.primal_objective(w, pr, pf, C) + 1e-12


def test_dual_gradient_matches_autograd():
    pr, pf = _problem(kind="quadratic", n=20, m=25)
    g = torch.Generator().manual_seed(2)
    lr = (0.05 + 0.9 * torch.rand(20, generator=g, dtype=torch.float64)).requires_grad_()
    lf = (0.05 + 0.9 * torch.rand(25, generator=g, dtype=torch.float64)).requires_grad_()
    dual.dual_objective(lr, lf, pr, pf, 0.7).backward()
    gr, gf = dual.dual_gradient(lr.detach(), lf.detach(), pr, pf, 0.7)
    assert torch.allclose(gr, lr.grad, atol=1e-10) and torch.allclose(gf, lf.grad, atol=1e-10)


def test_primal_gradient_and_hessian_match_autograd():
    pr, pf = _problem(kind="quadratic", n=20, m=25)
    w = torch.randn(pr.shape[1], dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    grad = torch.func.grad(lambda v: dual.primal_objective(v, pr, pf, 1.5))(w)
    hess = torch.func.hessian(lambda v: dual.primal_objective(v, pr, pf, 1.5))(w)
    assert torch.allclose(dual.primal_gradient(w, pr, pf, 1.5), grad, atol=1e-10)
    assert torch.allclose(dual.primal_hessian(w, pr, pf, 1.5), hess, atol=1e-10)
    assert torch.linalg.eigvalsh(hess).min() >= 1.5 - 1e-9   # C-strongly convex


def test_feature_gap_zero_iff_feature_sums_match():
    x = torch.randn(10, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    pr = dual.features(x, "linear")
    assert abs(dual.feature_gap(pr, dual.features(x.flip(0), "linear"), 1.0)) < 1e-10
    assert dual.feature_gap(pr, dual.features(x + 0.3, "linear"), 1.0) > 1e-3


def test_bad_input_raises():
    pr, pf = _problem()
    with pytest.raises(ValueError, match="identity, linear, quadratic, fourier"):
        dual.features(torch.zeros(3, 2), "cubic")
    with pytest.raises(ValueError, match="box"):
        dual.dual_objective(torch.full((60,), 1.5, dtype=torch.float64), torch.full((50,), 0.5, dtype=torch.float64), pr, pf, 1.0)
    with pytest.raises(ValueError, match="box"):
        dual.recover_w(torch.full((60,), 0.5, dtype=torch.float64), torch.full((50,), -0.1, dtype=torch.float64), pr, pf, 1.0)
    for C in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="C must be a positive"):
            dual.primal_objective(torch.zeros(3, dtype=torch.float64), pr, pf, C)
        with pytest.raises(ValueError, match="C must be a positive"):
            dual.solve_dual(pr, pf, C)
    with pytest.raises(ValueError, match="same dimension"):
        dual.primal_objective(torch.zeros(3, dtype=torch.float64), pr, pf[:, :2], 1.0)
    with pytest.raises(ValueError, match=r"w must have shape \(3,\)"):
        dual.primal_gradient(torch.zeros(4, dtype=torch.float64), pr, pf, 1.0)
    with pytest.raises(ValueError, match=r"lam_real must have shape \(60,\)"):
        dual.recover_w(torch.full((59,), 0.5, dtype=torch.float64), torch.full((50,), 0.5, dtype=torch.float64), pr, pf, 1.0)
    with pytest.raises(ValueError, match="box"):
        dual.binary_entropy(torch.tensor([0.5, float("nan")]))
    with pytest.raises(TypeError, match="lam_fake"):
        dual.dual_gradient(torch.full((60,), 0.5, dtype=torch.float64), np.full(50, 0.5), pr, pf, 1.0)
    for eta in (0.0, 1.5):
        with pytest.raises(ValueError, match="step_size"):
            dual.solve_dual(pr, pf, 1.0, step_size=eta)
    with pytest.raises(ValueError, match="shape"):
        dual.features(torch.zeros(3), "linear")
    with pytest.raises(ValueError, match="bandwidth"):
        dual.features(torch.zeros(3, 2), "fourier", bandwidth=0.0)
