"""Tests for ganlib.fdiv: conjugate pairs, the variational bound, closed forms and bad input."""
import math

import mpmath    # a dependency of torch (through sympy): 60-digit references
import numpy as np
import pytest
import torch
from scipy import stats

from ganlib import divergences, fdiv

NAMES = list(fdiv.DIVERGENCES)
U = torch.tensor([0.03, 0.2, 0.7, 1.0, 1.6, 4.0, 15.0], dtype=torch.float64)


def _t_grid(d):
    """A grid on dom f for the brute-force conjugate."""
    if d.dom_f == "u in R":
        return np.linspace(-40.0, 40.0, 400_001)
    return np.exp(np.linspace(-14.0, 9.0, 400_001))


def test_names_and_get_divergence():
    for name in ("kl", "reverse_kl", "pearson", "neyman", "hellinger", "js", "gan", "tv", "logd"):
        assert fdiv.get_divergence(name).name == name
    with pytest.raises(ValueError, match="kll.*choose one of: kl, reverse_kl"):
        fdiv.get_divergence("kll")
    with pytest.raises(ValueError):
        fdiv.get_divergence(None)


@pytest.mark.parametrize("name", NAMES)
def test_f_normalized_and_convex(name):
    d = fdiv.get_divergence(name)
    one = torch.tensor([1.0], dtype=torch.float64)
    expected = -math.log(4.0) if name == "gan" else 0.0  # gan: f(1) = -log 4 by design
    assert d.f(one).item() == pytest.approx(expected, abs=1e-12)
    u = torch.linspace(0.05, 6.0, 400, dtype=torch.float64)
    fu = d.f(u).numpy()
    assert np.all(np.diff(fu, 2) >= -1e-12)  # discrete second differences of a convex f


@pytest.mark.parametrize("name", NAMES)
def test_fenchel_young_equality_and_f_prime_1(name):
    """f*(f'(u)) = u f'(u) - f(u) (Lemma 3.2), f'(1) matches, and (f*)' = (f')^{-1}."""
    d = fdiv.get_divergence(name)
    u = U if name != "tv" else torch.tensor([0.3, 1.0, 2.0], dtype=torch.float64)
    t = d.f_prime(u)
    assert torch.allclose(d.conjugate(t), t * u - d.f(u), atol=1e-9, rtol=1e-9)
    one = torch.tensor([1.0], dtype=torch.float64)
    assert d.f_prime(one).item() == pytest.approx(d.f_prime_1, abs=1e-12)
    if name != "tv":  # f* is differentiable inside its domain; its slope is the maximizer
        tt = t.clone().requires_grad_(True)
        d.conjugate(tt).sum().backward()
        assert torch.allclose(tt.grad, u, rtol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_conjugate_matches_brute_force_sup(name):
    d = fdiv.get_divergence(name)
    t = d.f_prime(torch.tensor([0.1, 0.5, 1.3, 3.0], dtype=torch.float64))
    if name == "tv":
        t = torch.tensor([-0.5, -0.2, 0.1, 0.5], dtype=torch.float64)
    num = fdiv.numerical_conjugate(d.f, t.numpy(), _t_grid(d))
    assert np.allclose(num, d.conjugate(t).numpy(), atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_biconjugate_is_f(name):
    """f** = f: sup_t (t u - f*(t)) over a grid of dom f* recovers f(u)."""
    d = fdiv.get_divergence(name)
    if name == "tv":
        grid = np.linspace(-0.5, 0.5, 100_001)
    else:  # dom f* is the image of f' (plus possibly its upper end)
        grid = d.f_prime(torch.exp(torch.linspace(-14.0, 9.0, 200_001, dtype=torch.float64))).numpy()
    u = torch.tensor([0.2, 0.8, 1.0, 2.5], dtype=torch.float64)
    num = fdiv.numerical_conjugate(d.conjugate, u.numpy(), grid)
    assert np.allclose(num, d.f(u).numpy(), atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_activation_lands_in_domain(name):
    d = fdiv.get_divergence(name)
    v = torch.linspace(-20.0, 20.0, 81, dtype=torch.float64)
    vals = d.conjugate(d.activation(v))
    assert torch.isfinite(vals).all()
    assert d.activation(v).max().item() <= d.b_star + 1e-12


def test_conjugate_outside_domain_is_inf():
    for name, t in (("reverse_kl", 0.5), ("neyman", 1.5), ("hellinger", 1.0), ("gan", 0.1),
                    ("js", 0.4), ("tv", 0.6), ("logd", 0.2)):
        assert fdiv.get_divergence(name).conjugate(torch.tensor([t], dtype=torch.float64)).item() == math.inf


def test_closed_ends_of_dom_f_star():
    """Where dom f* has a closed end, f* is finite there: Neyman's f*(1) = sup_u (2 - 1/u) = 2."""
    one = torch.tensor([1.0], dtype=torch.float64)
    ney = fdiv.get_divergence("neyman")
    assert ney.domain == "t <= 1" and ney.conjugate(one).item() == 2.0
    assert ney.conjugate(one + 1e-12).item() == math.inf
    assert fdiv.numerical_conjugate(ney.f, [1.0], np.exp(np.linspace(-5, 18, 100_001)))[0] \
        == pytest.approx(2.0, abs=1e-6)
    half = torch.tensor([-0.5, 0.5], dtype=torch.float64)
    assert fdiv.get_divergence("tv").conjugate(half).tolist() == [-0.5, 0.5]
    assert fdiv.get_divergence("logd").conjugate(torch.zeros(1, dtype=torch.float64)).item() == 1.0


# ------------------------------------------------------- f*(g_f(v)) in float32, |v| <= 100
def _mp_logd_conj(t):
    """f*(t) = t u* - f(u*) for the log-D f, u* = (f')^{-1}(t) by bisection in s = log u."""
    f = lambda u: (u - 1) * mpmath.log(u / (u + 1))                       # noqa: E731
    fp = lambda u: mpmath.log(u / (u + 1)) + (u - 1) / (u * (u + 1))      # noqa: E731
    if t == 0:
        return mpmath.mpf(1)
    lo, hi = mpmath.mpf(-120), mpmath.mpf(160)
    for _ in range(400):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fp(mpmath.exp(mid)) < t else (lo, mid)
    u = mpmath.exp((lo + hi) / 2)
    return t * u - f(u)


def _mp_activation_and_conjugate(name, v):
    """(g_f(v), f*(g_f(v))) in 60-digit arithmetic, by the textbook formulas composed naively."""
    e, log, sp = mpmath.exp, mpmath.log, (lambda x: mpmath.log(1 + mpmath.exp(x)))
    g = {"kl": lambda: v, "pearson": lambda: v, "reverse_kl": lambda: -e(-v),
         "neyman": lambda: 1 - e(-v), "hellinger": lambda: 1 - e(-v),
         "js": lambda: (log(2) - sp(-v)) / 2, "gan": lambda: -sp(-v), "logd": lambda: -sp(-v),
         "tv": lambda: mpmath.tanh(v) / 2}[name]()
    conj = {"kl": lambda t: e(t - 1), "pearson": lambda t: t + t ** 2 / 4,
            "reverse_kl": lambda t: -1 - log(-t), "neyman": lambda t: 2 - 2 * mpmath.sqrt(1 - t),
            "hellinger": lambda t: t / (1 - t), "js": lambda t: -log(2 - e(2 * t)) / 2,
            "gan": lambda t: -log(1 - e(t)), "tv": lambda t: t, "logd": _mp_logd_conj}[name]
    return g, conj(g)


def _reference(name, v32, what):
    """float64 reference of the composition (what=1) or of g_f (what=0) at float32 points."""
    with mpmath.workdps(60):
        return np.array([float(_mp_activation_and_conjugate(name, mpmath.mpf(float(x)))[what])
                         for x in v32.tolist()])


F32_MAX = float(np.finfo(np.float32).max)


@pytest.mark.parametrize("name", NAMES)
def test_conjugate_of_activation_is_stable_in_float32(name):
    """f*(g_f(v)) in float32 over v in [-100, 100] matches the 60-digit composition: finite and
    accurate wherever the true value is representable in float32, inf (never NaN) beyond."""
    n = 201 if name == "logd" else 2001
    v = torch.linspace(-100.0, 100.0, n, dtype=torch.float32)
    v = torch.cat([v, torch.tensor([-20.0, -1e-3, 0.0, 1e-3, 20.0, 37.0, 90.0])])
    ref = _reference(name, v, 1)
    d = fdiv.get_divergence(name)
    vv = v.clone().requires_grad_(True)
    got = d.conjugate_activation(vv)
    assert got.dtype == torch.float32 and got.shape == v.shape
    out = got.detach().double().numpy()
    assert not np.isnan(out).any()
    inside = np.abs(ref) < F32_MAX / 2
    assert np.isfinite(out[inside]).all(), v[~np.isfinite(out) & inside]
    np.testing.assert_allclose(out[inside], ref[inside], rtol=2e-6, atol=2e-6)
    beyond = np.abs(ref) > 2 * F32_MAX
    assert (out[beyond] == np.sign(ref[beyond]) * np.inf).all()
    # its gradient is finite wherever the value stays well inside the float32 range
    got.sum().backward()
    assert torch.isfinite(vv.grad[torch.as_tensor(np.abs(ref) < 1e30)]).all()
    # the naive float32 composition, for comparison, is inf or inaccurate for these divergences
    if name in ("js", "hellinger", "neyman", "reverse_kl"):
        naive = d.conjugate(d.activation(v)).double().numpy()[inside]
        assert not (np.isfinite(naive).all() and np.allclose(naive, ref[inside], rtol=1e-5))


@pytest.mark.parametrize("name", NAMES)
def test_fgan_losses_finite_at_large_scores(name):
    """The issue's case: fgan_d_loss(name, v, v) at v = 20 was inf for js, hellinger and neyman,
    and gan and reverse_kl overflowed near v = 100. Now each loss equals its float64 reference
    wherever that reference is representable in float32."""
    v = torch.tensor([-100.0, -20.0, 20.0, 100.0])
    g_ref, c_ref = _reference(name, v, 0), _reference(name, v, 1)
    for i, x in enumerate(v):
        batch = x.repeat(4)
        d_loss = fdiv.fgan_d_loss(name, batch, batch).item()
        g_loss = fdiv.fgan_g_loss(name, batch).item()
        want_d, want_g = -(g_ref[i] - c_ref[i]), -c_ref[i]
        for got, want in ((d_loss, want_d), (g_loss, want_g)):
            if abs(want) < F32_MAX / 2 and abs(g_ref[i]) < F32_MAX / 2:
                assert got == pytest.approx(want, rel=2e-6, abs=2e-6), (name, x.item())
    for name20 in ("js", "hellinger", "neyman"):
        assert math.isfinite(fdiv.fgan_d_loss(name20, torch.full((3,), 20.0), torch.full((3,), 20.0)).item())


def test_logd_conjugate_at_boundary_and_b_star():
    """f*(0) = -inf_u f(u) = 1 for the log-D f, since f(u) -> -1 as u -> inf."""
    d = fdiv.get_divergence("logd")
    assert d.conjugate(torch.tensor([0.0], dtype=torch.float64)).item() == pytest.approx(1.0)
    assert d.conjugate(torch.tensor([-1e-9], dtype=torch.float64)).item() == pytest.approx(1.0, abs=1e-3)
    # lim f(u)/u = b* for every divergence (the slope of f at infinity)
    for name in NAMES:
        dd = fdiv.get_divergence(name)
        big = torch.tensor([1e12], dtype=torch.float64)
        slope = (dd.f(big) / big).item()
        if math.isinf(dd.b_star):
            assert slope > 20
        else:
            assert slope == pytest.approx(dd.b_star, abs=1e-3)


def _gauss_grid(mp, sp, mq, sq):
    x = np.linspace(-15, 15, 6001)
    return stats.norm.logpdf(x, mp, sp), stats.norm.logpdf(x, mq, sq), x


def test_divergence_closed_forms():
    mp, sp, mq, sq = 1.0, 0.8, 0.0, 1.0
    lp, lq, x = _gauss_grid(mp, sp, mq, sq)
    kl = divergences.kl_normal(mp, sp ** 2, mq, sq ** 2)
    rkl = divergences.kl_normal(mq, sq ** 2, mp, sp ** 2)
    h2 = 2 * (1 - math.sqrt(2 * sp * sq / (sp ** 2 + sq ** 2))
              * math.exp(-(mp - mq) ** 2 / (4 * (sp ** 2 + sq ** 2))))
    p, q = (lambda t: stats.norm.pdf(t, mp, sp)), (lambda t: stats.norm.pdf(t, mq, sq))
    js = divergences.js_divergence_1d(p, q, -15, 15)
    # TV: p and q cross at the roots of log p = log q; TV = sum over regions where p > q
    roots = np.roots([1 / (2 * sq ** 2) - 1 / (2 * sp ** 2), mp / sp ** 2 - mq / sq ** 2,
                      mq ** 2 / (2 * sq ** 2) - mp ** 2 / (2 * sp ** 2) + math.log(sq / sp)])
    a, b = np.sort(roots.real)
    tv = (stats.norm.cdf(b, mp, sp) - stats.norm.cdf(a, mp, sp)
          - stats.norm.cdf(b, mq, sq) + stats.norm.cdf(a, mq, sq))
    expect = {"kl": kl, "reverse_kl": rkl, "hellinger": h2, "js": js,
              "gan": 2 * js - math.log(4), "tv": tv}
    for name, val in expect.items():
        assert fdiv.fdivergence_grid(name, lp, lq, x) == pytest.approx(val, rel=1e-5, abs=1e-7), name
    # Pearson chi^2(P||Q) for equal unit variances is exp(delta^2) - 1
    lp2, lq2, x2 = _gauss_grid(0.7, 1.0, 0.0, 1.0)
    assert fdiv.fdivergence_grid("pearson", lp2, lq2, x2) == pytest.approx(math.expm1(0.49), rel=1e-6)
    assert fdiv.fdivergence_grid("neyman", lp2, lq2, x2) == pytest.approx(math.expm1(0.49), rel=1e-6)


def test_logd_divergence_identity():
    """D_logd(P||Q) = E_P[log D*] - E_Q[log D*] with D* = p / (p + q) (Wang 2020, Example 4)."""
    lp, lq, x = _gauss_grid(1.0, 0.8, 0.0, 1.0)
    log_d = lp - np.logaddexp(lp, lq)
    rhs = np.trapezoid((np.exp(lp) - np.exp(lq)) * log_d, x)
    assert fdiv.fdivergence_grid("logd", lp, lq, x) == pytest.approx(rhs, rel=1e-6)


@pytest.mark.parametrize("name", ["kl", "reverse_kl", "hellinger", "js", "gan", "pearson", "neyman", "logd"])
def test_optimal_critic_attains_bound(name):
    """E_P[T*] - E_Q[f*(T*)] = D_f(P||Q) at T* = f'(p/q), and a perturbed critic does worse."""
    lp, lq, x = _gauss_grid(0.5, 0.9, 0.0, 1.0)
    d = fdiv.get_divergence(name)
    r = torch.exp(torch.as_tensor(lp - lq))
    t_star = fdiv.optimal_critic(name, r)
    p, q = np.exp(lp), np.exp(lq)
    bound = lambda t: np.trapezoid(p * t.numpy() - q * d.conjugate(t).numpy(), x)  # noqa: E731
    exact = fdiv.fdivergence_grid(name, lp, lq, x)
    assert bound(t_star) == pytest.approx(exact, rel=1e-5, abs=1e-8)
    shift = -0.05 if d.b_star < math.inf else 0.05
    assert bound(t_star + shift) < exact - 1e-5


def test_losses_signs_and_shapes():
    torch.manual_seed(0)
    d_real, d_fake = torch.randn(64, 1), torch.randn(64)
    for name in NAMES:
        d = fdiv.get_divergence(name)
        loss = fdiv.fgan_d_loss(name, d_real, d_fake)
        bound = fdiv.variational_bound(name, d.activation(d_real), d.activation(d_fake))
        assert torch.allclose(loss, -bound)
        sad = fdiv.fgan_g_loss(name, d_fake)
        assert torch.allclose(sad, -d.conjugate(d.activation(d_fake)).mean())
        alt = fdiv.fgan_g_loss(name, d_fake, kind="alternative")
        assert torch.allclose(alt, -d.activation(d_fake).mean())
    # gan divergence: the critic loss is the BCE discriminator loss minus log 4
    from ganlib import losses
    assert torch.allclose(fdiv.fgan_d_loss("gan", d_real, d_fake),
                          losses.gan_d_loss(d_real, d_fake))
    assert torch.allclose(fdiv.fgan_g_loss("gan", d_fake, kind="alternative"),
                          losses.nonsaturating_g_loss(d_fake))


def test_losses_are_differentiable():
    v = torch.linspace(-4, 4, 33, requires_grad=True)
    for name in NAMES:
        v.grad = None
        (fdiv.fgan_d_loss(name, v, v.flip(0)) + fdiv.fgan_g_loss(name, v)).backward()
        assert torch.isfinite(v.grad).all(), name


def test_bad_input():
    with pytest.raises(ValueError, match="choose one of: saddle, alternative"):
        fdiv.fgan_g_loss("kl", torch.zeros(3), kind="nonsat")
    with pytest.raises(ValueError, match="shape"):
        fdiv.fgan_d_loss("kl", torch.zeros(3, 2), torch.zeros(3))
    with pytest.raises(ValueError, match="empty"):
        fdiv.variational_bound("kl", torch.zeros(0), torch.zeros(3))
    with pytest.raises(TypeError):
        fdiv.fgan_d_loss("kl", [0.0], torch.zeros(3))
    with pytest.raises(ValueError, match="unknown divergence"):
        fdiv.fgan_d_loss("wasserstein", torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match="grid"):
        fdiv.numerical_conjugate(fdiv.get_divergence("kl").f, [0.0], [1.0])
    with pytest.raises(ValueError, match="same shape"):
        fdiv.fdivergence_grid("kl", np.zeros(3), np.zeros(4), np.zeros(3))


# ----------------------------------------------------------------------------- edge cases
def test_fdivergence_objects_accepted_and_missing_f_prime():
    kl = fdiv.DIVERGENCES["kl"]
    t = torch.tensor([0.2, -0.4])
    assert torch.equal(fdiv.variational_bound(kl, t, t), fdiv.variational_bound("kl", t, t))
    assert torch.equal(fdiv.fgan_d_loss(kl, t, t), fdiv.fgan_d_loss("kl", t, t))
    import dataclasses
    no_fp = dataclasses.replace(kl, name="kl_without_f_prime", f_prime=None)
    with pytest.raises(ValueError, match="^divergence 'kl_without_f_prime' has no f' registered"):
        fdiv.optimal_critic(no_fp, torch.ones(2))
    assert fdiv.get_divergence("hellinger").conjugate(torch.tensor([1.5], dtype=torch.float64)).item() == math.inf


def test_logd_argmax_is_float64():
    u = fdiv.logd_argmax(torch.tensor([-0.5, -2.0], dtype=torch.float32))
    assert u.dtype == torch.float64
    fp = fdiv.get_divergence("logd").f_prime(u)
    torch.testing.assert_close(fp, torch.tensor([-0.5, -2.0], dtype=torch.float64), rtol=1e-12, atol=1e-12)


def test_numerical_conjugate_details():
    pear = fdiv.get_divergence("pearson").f
    # a grid of two points is enough: max(0 * 0.5 - f(0), 1 * 0.5 - f(1)) = 0.5
    assert fdiv.numerical_conjugate(pear, [0.5], [0.0, 1.0])[0] == 0.5
    with pytest.raises(ValueError, match="^grid must be a 1D array of at least 2 points"):
        fdiv.numerical_conjugate(pear, [0.5], [[0.0, 1.0]])
    with pytest.raises(TypeError, match="^f must be callable, got int"):
        fdiv.numerical_conjugate(3, [0.5], [0.0, 1.0])
    # NaN values of f (u < 0 for u log u) are ignored, not +inf
    kl_f = fdiv.get_divergence("kl").f
    assert fdiv.numerical_conjugate(kl_f, [0.0], np.linspace(-1, 3, 4001))[0] == pytest.approx(math.exp(-1), abs=1e-6)
    # the grid is used in float64 even when given in float32
    grid32 = np.linspace(0.01, 3.0, 1001, dtype=np.float32)
    got = fdiv.numerical_conjugate(kl_f, [0.3, 1.1], grid32)
    want = fdiv.numerical_conjugate(kl_f, [0.3, 1.1], grid32.astype(np.float64))
    assert got.dtype == np.float64 and np.array_equal(got, want)


def test_fdivergence_grid_where_q_vanishes_and_log_ratio_clipping():
    # P = U(-1/2, 1/2), Q = U(-1, 1) on [-2, 2]: log q = -inf outside [-1, 1]; KL(P || Q) = log 2
    x = np.linspace(-2, 2, 40001)
    lp = np.where(np.abs(x) <= 0.5, 0.0, -np.inf)
    lq = np.where(np.abs(x) <= 1.0, math.log(0.5), -np.inf)
    with np.errstate(invalid="ignore"):
        assert fdiv.fdivergence_grid("kl", lp, lq, x) == pytest.approx(math.log(2), abs=1e-3)
    # Q = N(0, 0.1^2) underflows to ~1e-310 where P = N(0, 1) does not: the clipped log ratio
    # keeps the integrand finite (without the clip p/q overflows to inf)
    lp, lq, x = _gauss_grid(0.0, 1.0, 0.0, 0.1)
    kl = fdiv.fdivergence_grid("kl", lp, lq, x)
    assert math.isfinite(kl) and kl == pytest.approx(divergences.kl_normal(0.0, 1.0, 0.0, 0.01), rel=0.05)
    # inputs are used in float64
    lp, lq, x = _gauss_grid(0.3, 0.9, 0.0, 1.0)
    got = fdiv.fdivergence_grid("js", lp.astype(np.float32), lq.astype(np.float32), x.astype(np.float32))
    want = fdiv.fdivergence_grid("js", *(a.astype(np.float32).astype(np.float64) for a in (lp, lq, x)))
    assert got == want
