"""Tests for ganlib.checks: the shared integer check and its messages."""
import numpy as np
import pytest

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
