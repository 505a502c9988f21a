"""Tests for ganlib.checks: every validator accepts what it should, returns the form it promises
and rejects the rest with a message that names the value."""
import math
import re

import numpy as np
import pytest
import torch

from ganlib import checks
from ganlib.checks import check_int


def test_check_int_accepts_integers_and_returns_int():
    assert check_int("n", 3) == 3
    assert check_int("n", np.int64(5)) == 5 and type(check_int("n", np.int64(5))) is int
    assert check_int("stage", 0, 0) == 0
    assert check_int("k", 7, 2) == 7


@pytest.mark.parametrize("bad, low, allowed", [
    (0, 1, "a positive integer"), (-1, 0, "a non-negative integer"), (1, 2, "an integer >= 2"),
    (True, 1, "a positive integer"), (2.0, 1, "a positive integer"), ("3", 1, "a positive integer"),
])
def test_check_int_rejects_and_names_the_value(bad, low, allowed):
    with pytest.raises(ValueError, match=f"width must be {allowed}, got {bad!r}"):
        check_int("width", bad, low)


# ----------------------------------------------------------------------------- the other checks

def test_lookup_and_check_choice_list_the_choices():
    table = {"gan": 1, "wgan": 2}
    assert checks.lookup(table, "wgan", "loss") == 2
    for bad in ("lsgan", None, ["gan"]):          # a missing key, and an unhashable one
        with pytest.raises(ValueError, match=re.escape(f"unknown loss {bad!r}; choose one of: gan, wgan")):
            checks.lookup(table, bad, "loss")
    assert checks.check_choice("metric", "cityblock", ("euclidean", "cityblock")) == "cityblock"
    for bad in ("l3", 1):
        with pytest.raises(ValueError, match=re.escape(f"unknown metric {bad!r}; choose one of: euclidean, cityblock")):
            checks.check_choice("metric", bad, ("euclidean", "cityblock"))


def test_check_option_numbers_never_bools():
    assert checks.check_option("size", 16, (8, 16, 32)) == 16
    assert checks.check_option("size", np.int64(8), (8, 16, 32)) == 8
    for bad in (12, True, "8", None):
        with pytest.raises(ValueError, match="choose one of: 8, 16, 32"):
            checks.check_option("size", bad, (8, 16, 32))
    with pytest.raises(ValueError, match="unknown power p True"):
        checks.check_option("power p", True, (1, 2))      # True == 1, but not an option


@pytest.mark.parametrize("v, zero, ok", [
    (2, False, True), (0.5, False, True), (np.float32(3.0), False, True), (0.0, True, True),
    (0.0, False, False), (-1.0, True, False), (math.inf, False, False), (math.nan, True, False),
    (True, False, False), ("1", False, False),
])
def test_check_positive(v, zero, ok):
    if ok:
        assert checks.check_positive("lr", v, zero) == float(v)
        assert type(checks.check_positive("lr", v, zero)) is float
    else:
        kind = "non-negative" if zero else "positive"
        with pytest.raises(ValueError, match=f"lr must be a {kind} finite number"):
            checks.check_positive("lr", v, zero)


def test_check_probability():
    assert checks.check_probability("p", 0) == 0.0 and checks.check_probability("p", 1) == 1.0
    for bad in (-0.1, 1.5, math.nan, True, "0.5"):
        with pytest.raises(ValueError, match="p must be a probability in"):
            checks.check_probability("p", bad)


def test_check_interval():
    assert checks.check_interval("bracket", 0, 1) == (0.0, 1.0)
    assert checks.check_interval("interval", -math.inf, 2.0, finite=False) == (-math.inf, 2.0)
    for lo, hi in ((1.0, 1.0), (2.0, 1.0), (0.0, math.nan), (-math.inf, 0.0), (True, 2), ("0", 1)):
        with pytest.raises(ValueError, match="bracket needs finite lo < hi"):
            checks.check_interval("bracket", lo, hi)


def test_check_tensor_types_dims_and_emptiness():
    t = torch.zeros(2, 3)
    assert checks.check_tensor("x", t) is t and checks.check_tensor("x", t, dims=(1, 2)) is t
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got ndarray"):
        checks.check_tensor("x", np.zeros(3))
    with pytest.raises(ValueError, match=r"x must have 1 or 3 dimensions, got shape \(2, 3\)"):
        checks.check_tensor("x", t, dims=(1, 3))
    with pytest.raises(ValueError, match="x is empty"):
        checks.check_tensor("x", torch.zeros(0, 3))
    assert checks.check_tensor("x", torch.zeros(0), nonempty=False).numel() == 0


def test_scores_accepts_b_and_b1_only():
    assert checks.scores("d_real", torch.ones(4)).shape == (4,)
    s = checks.scores("d_fake", torch.arange(3.0)[:, None])
    assert s.shape == (3,) and s.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match=r"d_fake must have shape \(B,\) or \(B, 1\), got \(3, 2\)"):
        checks.scores("d_fake", torch.zeros(3, 2))
    with pytest.raises(TypeError, match="d_real"):
        checks.scores("d_real", [0.0, 1.0])


def test_points_and_tensor_points():
    a = checks.points("x", torch.ones(3, 2, dtype=torch.float32, requires_grad=True))
    assert isinstance(a, np.ndarray) and a.dtype == np.float64 and a.shape == (3, 2)
    assert checks.points("x", [1.0, 2.0], allow_1d=True).shape == (2, 1)
    with pytest.raises(ValueError, match=r"x must have shape \(n, d\) with n >= 1, got \(2,\)"):
        checks.points("x", [1.0, 2.0])
    with pytest.raises(ValueError, match=r"n >= 2"):
        checks.points("feat", np.zeros((1, 4)), min_n=2)
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        checks.points("x", [[0.0, math.inf]])
    t = torch.zeros(5, 2, requires_grad=True)
    assert checks.tensor_points("x", t) is t                   # no copy: gradients flow
    for bad in (torch.zeros(5), torch.zeros(1, 2), torch.zeros(3, 0)):
        with pytest.raises(ValueError, match=r"x must have shape \(n, d\) with n >= 2"):
            checks.tensor_points("x", bad, min_n=2)
    with pytest.raises(TypeError):
        checks.tensor_points("x", np.zeros((3, 2)))


def test_same_dim_and_same_shape():
    checks.same_dim("x", np.zeros((3, 2)), "y", torch.zeros(5, 2))
    with pytest.raises(ValueError, match="x and y must have the same dimension, got 2 and 3"):
        checks.same_dim("x", np.zeros((3, 2)), "y", np.zeros((3, 3)))
    checks.same_shape("mu", torch.zeros(2, 3), "logvar", np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"mu and logvar must have the same shape, got \(2, 3\) and \(3, 2\)"):
        checks.same_shape("mu", torch.zeros(2, 3), "logvar", torch.zeros(3, 2))


def test_check_shape():
    x = torch.zeros(4, 2)
    assert checks.check_shape("samples", x, ("n", 2)) is x
    assert checks.check_shape("log_w", torch.zeros(3), ("K", ...)) is not None
    assert checks.check_shape("log_w", np.zeros((3, 2, 2)), ("K", ...)).shape == (3, 2, 2)
    checks.check_shape("w", torch.zeros(3), (3,))
    for t, shape, want in [
        (torch.zeros(4, 3), ("n", 2), r"samples must have shape \(n, 2\), got \(4, 3\)"),
        (torch.zeros(4), ("n", 2), r"samples must have shape \(n, 2\), got \(4,\)"),
        (torch.zeros(4), (3,), r"samples must have shape \(3,\), got \(4,\)"),
        (torch.tensor(1.0), ("K", ...), r"samples must have shape \(K, ...\), got \(\)"),
        (torch.zeros(2, 1, 8, 8), ("B", 1, 16, 16), r"samples must have shape \(B, 1, 16, 16\)"),
    ]:
        with pytest.raises(ValueError, match=want):
            checks.check_shape("samples", t, shape)
    with pytest.raises(TypeError, match="samples must be a tensor or an array, got list"):
        checks.check_shape("samples", [[0.0, 1.0]], ("n", 2))


def test_probability_vector_and_counts():
    p = checks.probability_vector("p", torch.tensor([0.25, 0.75]))
    assert isinstance(p, np.ndarray) and p.dtype == np.float64 and p.tolist() == [0.25, 0.75]
    assert checks.probability_vector("p", [1 / 3] * 3, size=3).shape == (3,)
    assert checks.probability_vector("p", [0.5, 0.5 + 5e-7]).shape == (2,)       # float32 round-off
    for bad, size in (([0.5, 0.6], None), ([1.5, -0.5], None), ([0.5, 0.5], 3)):
        with pytest.raises(ValueError, match="p must be .* non-negative numbers summing to 1"):
            checks.probability_vector("p", bad, size)
    for bad in ([[0.5, 0.5]], [], [np.nan, 1.0]):
        with pytest.raises(ValueError, match="p must be a non-empty 1-D array of finite numbers"):
            checks.probability_vector("p", bad)
    assert checks.counts("counts", [0, 3, 1]).tolist() == [0.0, 3.0, 1.0]
    for bad in ([0, 0], [2, -1]):
        with pytest.raises(ValueError, match="counts must be non-negative with a positive sum"):
            checks.counts("counts", bad)


def test_all_positive():
    for ok in (2.0, [0.5, 1.0], np.array([3]), torch.tensor([1e-3, 2.0])):
        assert checks.all_positive("var", ok) is ok
    for bad in (0.0, [1.0, -1.0], [], np.array([1.0, np.inf]), torch.tensor([1.0, 0.0]),
                torch.tensor([math.nan]), True, "1"):
        with pytest.raises(ValueError, match="var must be positive and finite"):
            checks.all_positive("var", bad)


def test_unit_box():
    lam = torch.tensor([0.0, 0.5, 1.0])
    assert checks.unit_box("lam", lam) is lam
    for v in (-0.1, 1.5, math.nan, math.inf):
        with pytest.raises(ValueError, match="lam must lie in the box"):
            checks.unit_box("lam", torch.tensor([0.5, v]))
    with pytest.raises(TypeError):
        checks.unit_box("lam", np.array([0.5]))
