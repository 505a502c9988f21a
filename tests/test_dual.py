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


def test_fourier_frequencies_and_features_reference():
    g = torch.Generator().manual_seed(0)
    omega = torch.randn(2, 64, generator=g, dtype=torch.float64)          # bandwidth 1
    b = 2 * math.pi * torch.rand(64, generator=g, dtype=torch.float64)
    o, bb = dual.fourier_frequencies(2, 64, 1.0)                            # seed 0
    assert torch.equal(o, omega) and torch.equal(bb, b)
    o3, b3 = dual.fourier_frequencies(2, 64, 0.5, seed=0)
    assert torch.equal(o3, omega / 0.5) and torch.equal(b3, b)
    x = torch.tensor([[0.3, -1.2], [2.0, 0.5]], dtype=torch.float64)
    want = torch.cat([math.sqrt(2 / 64) * torch.cos(x @ omega + b), torch.ones(2, 1, dtype=torch.float64)], 1)
    torch.testing.assert_close(dual.features(x, "fourier"), want, rtol=1e-14, atol=1e-14)   # K 64, h 1, seed 0
    o32, b32 = dual.fourier_frequencies(2, 4, 1.0, dtype=torch.float32, device="meta")
    assert o32.dtype == b32.dtype == torch.float32 and o32.device.type == b32.device.type == "meta"
    for kind in dual.FEATURE_MAPS:      # features keep the input's dtype and device
        assert dual.features(x.float(), kind).dtype == torch.float32
        assert dual.features(x.half(), kind if kind != "fourier" else "linear").dtype == torch.float16
        assert dual.features(torch.zeros(3, 2, device="meta"), kind).device.type == "meta"


def test_recover_w_and_hessian_exact():
    pr, pf = _problem(n=6, m=5, kind="quadratic")
    g = torch.Generator().manual_seed(5)
    lr, lf = torch.rand(6, generator=g, dtype=torch.float64), torch.rand(5, generator=g, dtype=torch.float64)
    want = (sum((1 - lr[i]) * pr[i] for i in range(6)) - sum(lf[j] * pf[j] for j in range(5))) / 0.3
    torch.testing.assert_close(dual.recover_w(lr, lf, pr, pf, 0.3), want)
    w = torch.randn(pr.shape[1], generator=g, dtype=torch.float64)
    hess = torch.func.hessian(lambda v: dual.primal_objective(v, pr, pf, 0.1))(w)
    torch.testing.assert_close(dual.primal_hessian(w, pr, pf, 0.1), hess, rtol=1e-13, atol=1e-13)


def test_solve_primal_meets_its_tolerance_in_float64():
    pr, pf = _problem(kind="quadratic")
    scale = 1.0 + pr.abs().sum().item() + pf.abs().sum().item()
    w = dual.solve_primal(pr, pf, 0.5)
    assert dual.primal_gradient(w, pr, pf, 0.5).norm().item() <= 1e-11 * scale
    w32 = dual.solve_primal(pr.float(), pf.float(), 0.5)
    assert w32.dtype == torch.float64
    grad = dual.primal_gradient(w32, pr.float().double(), pf.float().double(), 0.5)
    assert grad.norm().item() <= 1e-11 * scale


# --------------------------------------------------------------------------- solve_dual details
def _small(seed=7, n=5, m=4):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g, dtype=torch.float64) + 1.0
    y = 0.7 * torch.randn(m, 2, generator=g, dtype=torch.float64)
    return dual.features(x, "linear"), dual.features(y, "linear")


def _gap_and_q(sol, pr, pf, C):
    p = dual.primal_objective(sol.w, pr, pf, C).item()
    q = dual.dual_objective(sol.lam_real, sol.lam_fake, pr, pf, C).item()
    return p - q, q


@pytest.mark.parametrize("C", [0.5, 3.0])
def test_solve_dual_default_step_size_is_documented_formula(C):
    pr, pf = _small()
    phi = np.concatenate([pr.numpy(), pf.numpy()])
    L = np.linalg.svd(phi, compute_uv=False)[0] ** 2 / (4 * C)    # spectral norm, not Frobenius
    assert np.linalg.norm(phi, 2) < np.linalg.norm(phi) * 0.99     # the two norms differ here
    sol = dual.solve_dual(pr, pf, C, max_steps=3, tol=0.0)
    assert isinstance(sol.step_size, float)
    assert sol.step_size == pytest.approx(1.0 / (1.0 + L), rel=1e-12)
    explicit = dual.solve_dual(pr, pf, C, max_steps=3, tol=0.0, step_size=0.3)
    assert explicit.step_size == 0.3 and explicit.steps == 3


def test_solve_dual_iterates_match_independent_mirror_ascent():
    # a <- (1 - eta) a + eta * phi w(sigmoid(a)), from a = 0; gap P(w) - Q(lambda) after each step
    pr, pf = _small()
    C, eta, k = 0.5, 0.4, 4
    Pr, Pf = pr.numpy(), pf.numpy()
    sig = lambda a: 1.0 / (1.0 + np.exp(-a))
    H = lambda u: -(u * np.log(u) + (1 - u) * np.log(1 - u))
    sp = lambda s: np.logaddexp(0.0, s)
    ar, af = np.zeros(len(Pr)), np.zeros(len(Pf))
    w = (Pr.T @ (1 - sig(ar)) - Pf.T @ sig(af)) / C
    gaps = []
    for _ in range(k):
        ar, af = (1 - eta) * ar + eta * (Pr @ w), (1 - eta) * af + eta * (Pf @ w)
        w = (Pr.T @ (1 - sig(ar)) - Pf.T @ sig(af)) / C
        p = 0.5 * C * w @ w + sp(-(Pr @ w)).sum() + sp(Pf @ w).sum()
        q = -0.5 * C * w @ w + H(sig(ar)).sum() + H(sig(af)).sum()
        gaps.append(p - q)
    sol = dual.solve_dual(pr, pf, C, max_steps=k, tol=0.0, step_size=eta)
    assert sol.steps == k and len(sol.gaps) == k
    np.testing.assert_allclose(sol.gaps, gaps, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sol.lam_real.numpy(), sig(ar), rtol=1e-12)
    np.testing.assert_allclose(sol.lam_fake.numpy(), sig(af), rtol=1e-12)
    np.testing.assert_allclose(sol.w.numpy(), w, rtol=1e-10, atol=1e-12)
    assert min(gaps) > 0       # eta = 0.4 is above 1/(1 + L): the given step is used as is


@pytest.mark.parametrize("k", [1, 2, 7])
def test_solve_dual_takes_exactly_max_steps_when_tol_is_zero(k):
    pr, pf = _small()
    sol = dual.solve_dual(pr, pf, 0.5, max_steps=k, tol=0.0)    # tol = 0 is allowed
    assert sol.steps == k and isinstance(sol.steps, int) and len(sol.gaps) == k
    gap, _ = _gap_and_q(sol, pr, pf, 0.5)
    assert sol.gaps[-1] == pytest.approx(gap, rel=1e-12) and gap > 0


def test_solve_dual_recorded_gaps_are_primal_minus_dual_at_each_step():
    pr, pf = _small()
    full = dual.solve_dual(pr, pf, 0.5, max_steps=6, tol=0.0)
    for t in range(1, 7):       # deterministic: the run stopped after t steps holds the t-th iterate
        sol = dual.solve_dual(pr, pf, 0.5, max_steps=t, tol=0.0)
        gap, _ = _gap_and_q(sol, pr, pf, 0.5)
        assert full.gaps[t - 1] == pytest.approx(gap, rel=1e-12, abs=1e-15)


def test_solve_dual_stops_at_first_step_meeting_relative_gap_rule():
    pr, pf = _small()
    C, N = 0.5, 40
    full = dual.solve_dual(pr, pf, C, max_steps=N, tol=0.0)
    qs = []
    for t in range(1, N + 1):
        sol = dual.solve_dual(pr, pf, C, max_steps=t, tol=0.0)
        gap, q = _gap_and_q(sol, pr, pf, C)
        assert gap == pytest.approx(full.gaps[t - 1], rel=1e-12)
        qs.append(q)
    qs = np.array(qs)
    assert qs.min() > 4.0          # |Q| well away from 0: 1 + |Q| differs from 2 + |Q| and 1/(1 + |Q|)
    r = full.gaps / (1 + np.abs(qs))          # the documented rule: gap <= tol (1 + |Q|)
    s = full.gaps / (2 + np.abs(qs))
    assert np.all(np.diff(r) < 0)
    steps = []
    for j in (3, 12, 25):
        tol = math.sqrt(r[j] * s[j])          # strictly between the two candidate thresholds
        want = 1 + int(np.argmax(r <= tol))
        sol = dual.solve_dual(pr, pf, C, max_steps=N, tol=tol)
        assert sol.steps == want == j + 2 and len(sol.gaps) == want
        np.testing.assert_array_equal(sol.gaps, full.gaps[:want])
        gap, q = _gap_and_q(sol, pr, pf, C)
        assert gap <= tol * (1 + abs(q)) and sol.gaps[-2] > tol * (1 + abs(qs[want - 2]))
        steps.append(sol.steps)
    assert steps == sorted(steps) and len(set(steps)) == 3   # tighter tol, more steps


def test_solve_dual_default_tolerance_is_1e_12():
    pr, pf = _small()
    sol = dual.solve_dual(pr, pf, 0.5)
    gap, q = _gap_and_q(sol, pr, pf, 0.5)
    assert 10 < sol.steps < 100_000 and len(sol.gaps) == sol.steps
    assert gap <= 1e-12 * (1 + abs(q)) and sol.gaps[-2] > 1e-12 * (1 + abs(q))
    same = dual.solve_dual(pr, pf, 0.5, tol=1e-12)
    assert same.steps == sol.steps and np.array_equal(same.gaps, sol.gaps)


def test_solve_dual_zero_gap_stops_even_with_tol_zero():
    # equal feature sums: lambda = 1/2 gives w = 0, exactly optimal; the gap is exactly 0 <= 0 * (1 + |Q|)
    pr, _ = _small()
    sol = dual.solve_dual(pr, pr.clone(), 0.5, max_steps=50, tol=0.0)
    assert sol.steps == 1 and sol.gaps.tolist() == [0.0]
    assert torch.equal(sol.w, torch.zeros(3, dtype=torch.float64))
    assert torch.equal(sol.lam_real, torch.full((5,), 0.5, dtype=torch.float64))
    q = dual.dual_objective(sol.lam_real, sol.lam_fake, pr, pr, 0.5).item()
    assert q == pytest.approx(10 * math.log(2), rel=1e-14)


def test_solve_dual_float32_input_runs_in_float64():
    pr, pf = _small()
    pr32, pf32 = pr.float(), pf.float()
    sol = dual.solve_dual(pr32, pf32, 0.5, max_steps=20, tol=1e-9)
    ref = dual.solve_dual(pr32.double(), pf32.double(), 0.5, max_steps=20, tol=1e-9)
    assert sol.lam_real.dtype == sol.lam_fake.dtype == sol.w.dtype == torch.float64
    assert sol.gaps.dtype == np.float64 and sol.steps == ref.steps
    assert torch.equal(sol.w, ref.w) and torch.equal(sol.lam_real, ref.lam_real)
    assert np.array_equal(sol.gaps, ref.gaps)


def test_solve_dual_argument_errors_name_the_argument():
    pr, pf = _small()
    with pytest.raises(ValueError, match=r"^max_steps must be a positive integer"):
        dual.solve_dual(pr, pf, 1.0, max_steps=0)
    with pytest.raises(ValueError, match=r"^tol must be a non-negative"):
        dual.solve_dual(pr, pf, 1.0, tol=-1e-3)
    with pytest.raises(ValueError, match=r"^step_size must be a positive"):
        dual.solve_dual(pr, pf, 1.0, step_size=0.0)
    with pytest.raises(ValueError, match=r"^step_size must be a probability"):
        dual.solve_dual(pr, pf, 1.0, step_size=1.5)


# --------------------------------------------------------------------------- kkt box, feature_gap
def test_kkt_box_residual_flags_lambda_on_the_boundary_only():
    pr, pf = _small()
    w = torch.zeros(3, dtype=torch.float64)
    inner_r = torch.tensor([1e-300, 0.3, 0.5, 0.9, 1 - 1e-16], dtype=torch.float64)
    inner_f = torch.tensor([0.2, 1e-12, 0.999, 0.5], dtype=torch.float64)
    assert dual.kkt_residuals(w, inner_r, inner_f, pr, pf, 0.5)["box"] == 0.0
    for where, idx, value in [("real", 2, 0.0), ("real", 0, 1.0), ("fake", 3, 0.0), ("fake", 1, 1.0)]:
        lr, lf = inner_r.clone(), inner_f.clone()
        (lr if where == "real" else lf)[idx] = value
        assert dual.kkt_residuals(w, lr, lf, pr, pf, 0.5)["box"] == 1.0, (where, value)
    # both ends at once (one lambda at 0, another at 1) is flagged too
    lr = inner_r.clone()
    lr[0], lr[1] = 0.0, 1.0
    assert dual.kkt_residuals(w, lr, inner_f, pr, pf, 0.5)["box"] == 1.0


def test_feature_gap_is_log2_count_minus_certified_primal_minimum():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(50, 2, generator=g, dtype=torch.float64) + 1.0
    y = 0.7 * torch.randn(50, 2, generator=g, dtype=torch.float64)
    pr, pf, C = dual.features(x, "fourier"), dual.features(y, "fourier"), 1e-4
    w = dual.solve_primal(pr, pf, C)
    # C-strong convexity: P(w) - min P <= ||grad P(w)||^2 / (2C)
    assert dual.primal_gradient(w, pr, pf, C).norm().item() ** 2 / (2 * C) < 1e-15
    want = 100 * math.log(2) - dual.primal_objective(w, pr, pf, C).item()
    assert abs(dual.feature_gap(pr, pf, C) - want) < 2e-13
    # float32 features: computed in float64 on the float32 values
    pr32, pf32 = pr.float(), pf.float()
    got32 = dual.feature_gap(pr32, pf32, C)
    assert isinstance(got32, float)
    assert abs(got32 - dual.feature_gap(pr32.double(), pf32.double(), C)) < 1e-13
