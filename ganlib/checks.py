"""Input checks for ganlib's public functions: bad values raise and name what is allowed.

Every public function validates its arguments here, once, at its entry; the private kernels
it calls (and every solver loop) trust their inputs. Each check returns the value in the
form the caller computes with, so a check reads as one line at the top of a function:

    d_real, d_fake = scores("d_real", d_real), scores("d_fake", d_fake)

TypeError means "not the right kind of object", ValueError "the right kind, a bad value".
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch


def lookup(table: Mapping, name, what: str):
    """``table[name]``, or ValueError("unknown {what} 'x'; choose one of: a, b, c").

    The one way ganlib looks things up by name (``losses.get_loss``,
    ``fdiv.get_divergence``, ``cyclegan.get_transform``, ``wgan.get_critic_config``, ...).
    """
    try:
        return table[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown {what} {name!r}; choose one of: {', '.join(map(str, table))}") from None


def check_choice(name: str, v, choices) -> str:
    """``v`` when it is one of ``choices``; ValueError naming ``name`` and the choices otherwise."""
    if isinstance(v, str) and v in choices:
        return v
    raise ValueError(f"unknown {name} {v!r}; choose one of: {', '.join(map(str, choices))}")


def check_int(name: str, v, low: int = 1) -> int:
    """``v`` as a Python int when it is an integer (Python or NumPy, not bool) >= ``low``.

    Otherwise raise ValueError naming ``name``, the bad value and what is allowed
    ("a positive integer" for low = 1, "a non-negative integer" for low = 0).
    """
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        allowed = {1: "a positive integer", 0: "a non-negative integer"}.get(low, f"an integer >= {low}")
        raise ValueError(f"{name} must be {allowed}, got {v!r}")
    return int(v)


def check_positive(name: str, v, allow_zero: bool = False) -> float:
    """``v`` as a float when it is a finite real number > 0 (>= 0 with ``allow_zero``)."""
    ok = (not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating))
          and math.isfinite(v) and (v >= 0 if allow_zero else v > 0))
    if not ok:
        raise ValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} "
                         f"finite number, got {v!r}")
    return float(v)


def check_probability(name: str, v) -> float:
    """``v`` as a float when it lies in [0, 1]."""
    ok = not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating)) and 0 <= v <= 1
    if not ok:
        raise ValueError(f"{name} must be a probability in [0, 1], got {v!r}")
    return float(v)


def check_tensor(name: str, t, dims: int | tuple[int, ...] | None = None,
                 nonempty: bool = True) -> torch.Tensor:
    """``t`` when it is a torch.Tensor (with ``dims`` dimensions, one of them if a tuple)."""
    if not torch.is_tensor(t):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if dims is not None:
        allowed = (dims,) if isinstance(dims, int) else tuple(dims)
        if t.dim() not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimensions, "
                             f"got shape {tuple(t.shape)}")
    if nonempty and t.numel() == 0:
        raise ValueError(f"{name} is empty")
    return t


def scores(name: str, t) -> torch.Tensor:
    """A batch of per-sample scores (logits or critic values) as shape (B,); accepts (B, 1).

    ``name`` is the argument's name in the caller (``d_real`` or ``d_fake``). Every loss in
    ganlib passes its scores through this check.
    """
    t = check_tensor(name, t)
    if t.dim() == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.dim() != 1:
        raise ValueError(f"{name} must have shape (B,) or (B, 1), got {tuple(t.shape)}")
    return t


def points(name: str, x, min_n: int = 1, allow_1d: bool = False) -> np.ndarray:
    """A sample of n points as a float64 NumPy array of shape (n, d), finite.

    Accepts tensors (detached, moved to the CPU) and array-likes; with ``allow_1d`` a shape
    (n,) is read as n points on the line, (n, 1).
    """
    a = x.detach().cpu().double().numpy() if torch.is_tensor(x) else np.asarray(x, dtype=np.float64)
    if allow_1d and a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] < min_n:
        shape = "(n,) or (n, d)" if allow_1d else "(n, d)"
        raise ValueError(f"{name} must have shape {shape} with n >= {min_n}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    return a


def same_dim(x_name: str, x: np.ndarray | torch.Tensor, y_name: str, y) -> None:
    """ValueError unless the two samples of points have the same dimension d (last axis)."""
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(f"{x_name} and {y_name} must have the same dimension, got "
                         f"{x.shape[-1]} and {y.shape[-1]}")


# ----------------------------------------------------------------------------- distributions,
# distances, metrics and data (shapes, probability vectors, intervals, positivity)
def check_option(name: str, v, options):
    """``v`` when it equals one of ``options``, numbers such as an image size or a power p.

    The numeric counterpart of :func:`check_choice` (which takes strings): ValueError("unknown
    {name} 12; choose one of: 8, 16, 32") otherwise. A bool never matches, although True == 1.
    """
    ok = (not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating))
          and v in options)
    if not ok:
        raise ValueError(f"unknown {name} {v!r}; choose one of: {', '.join(map(str, options))}")
    return v


def check_interval(name: str, lo, hi, finite: bool = True) -> tuple[float, float]:
    """``(lo, hi)`` as floats when lo < hi (and both are finite unless ``finite=False``).

    ``name`` says what the interval is for ("integration interval", "bracket", ...).
    """
    def number(v):
        return not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating))
    ok = (number(lo) and number(hi) and lo < hi
          and (not finite or (math.isfinite(lo) and math.isfinite(hi))))
    if not ok:
        raise ValueError(f"{name} needs {'finite ' if finite else ''}lo < hi, "
                         f"got lo={lo!r}, hi={hi!r}")
    return float(lo), float(hi)


def check_shape(name: str, t, shape):
    """``t`` (a tensor or an array) when its shape matches ``shape``.

    Each entry of ``shape`` is an int (that size exactly) or a string (any size; the string
    names the axis in the message); a final ``...`` allows any number of further axes:
    ``check_shape("samples", x, ("n", 2))``, ``check_shape("log_w", w, ("K", ...))``.
    """
    got = getattr(t, "shape", None)
    if got is None:
        raise TypeError(f"{name} must be a tensor or an array, got {type(t).__name__}")
    got, spec = tuple(got), tuple(shape)
    tail = len(spec) > 0 and spec[-1] is Ellipsis
    head = spec[:-1] if tail else spec
    ok = (len(got) >= len(head)) if tail else (len(got) == len(head))
    ok = ok and all(isinstance(s, str) or got[i] == s for i, s in enumerate(head))
    if not ok:
        want = ", ".join(map(str, head)) + (", ..." if tail else "," if len(head) == 1 else "")
        raise ValueError(f"{name} must have shape ({want}), got {got}")
    return t


def same_shape(x_name: str, x, y_name: str, y) -> None:
    """ValueError unless the tensors (or arrays) ``x`` and ``y`` have the same shape."""
    if tuple(x.shape) != tuple(y.shape):
        raise ValueError(f"{x_name} and {y_name} must have the same shape, got "
                         f"{tuple(x.shape)} and {tuple(y.shape)}")


def tensor_points(name: str, t, min_n: int = 1) -> torch.Tensor:
    """A sample of n points as a torch.Tensor of shape (n, d), n >= ``min_n``, d >= 1.

    The tensor itself (not a copy), so gradients flow: the torch counterpart of :func:`points`.
    """
    t = check_tensor(name, t, nonempty=False)
    if t.dim() != 2 or t.shape[0] < min_n or t.shape[1] < 1:
        raise ValueError(f"{name} must have shape (n, d) with n >= {min_n}, got {tuple(t.shape)}")
    return t


def _float_vector(name: str, v) -> np.ndarray:
    a = v.detach().cpu().double().numpy() if torch.is_tensor(v) else np.asarray(v, dtype=np.float64)
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be a non-empty 1-D array of finite numbers, got shape "
                         f"{a.shape}")
    return a


def probability_vector(name: str, p, size: int | None = None) -> np.ndarray:
    """``p`` as a float64 array (K,) when its entries are >= 0 and sum to 1 (within 1e-6).

    With ``size`` the length must be K = ``size``. Accepts tensors and array-likes.
    """
    a = _float_vector(name, p)
    if (size is not None and a.size != size) or np.any(a < 0) or abs(a.sum() - 1.0) > 1e-6:
        raise ValueError(f"{name} must be {size if size is not None else 'K'} non-negative numbers "
                         f"summing to 1, got shape {a.shape} and sum {a.sum()!r}")
    return a


def counts(name: str, c) -> np.ndarray:
    """``c`` as a float64 array (K,) of non-negative counts (or weights) with a positive sum."""
    a = _float_vector(name, c)
    if np.any(a < 0) or a.sum() <= 0:
        raise ValueError(f"{name} must be non-negative with a positive sum, got {a!r}")
    return a


def all_positive(name: str, v):
    """``v`` unchanged when it is a number, an array or a tensor whose entries are all finite
    and > 0 (variances, standard deviations, kernel bandwidths)."""
    if torch.is_tensor(v):
        ok = v.numel() > 0 and bool((torch.isfinite(v) & (v > 0)).all())
    else:
        a = np.asarray(v)
        ok = a.size > 0 and a.dtype.kind in "iuf" and bool(np.all(np.isfinite(a) & (a > 0)))
    if not ok or isinstance(v, bool):
        raise ValueError(f"{name} must be positive and finite, got {v!r}")
    return v


def unit_box(name: str, t) -> torch.Tensor:
    """``t`` when it is a torch.Tensor whose entries all lie in the box [0, 1] (NaN does not)."""
    t = check_tensor(name, t, nonempty=False)
    bad = ~((t >= 0) & (t <= 1))
    if bool(bad.any()):
        raise ValueError(f"{name} must lie in the box [0, 1]; found {t[bad][0].item()!r}")
    return t
