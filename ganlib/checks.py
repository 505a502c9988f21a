"""Input checks shared by ganlib's public functions: bad values raise and name what is allowed."""
from __future__ import annotations

import numpy as np


def check_int(name: str, v, low: int = 1) -> int:
    """``v`` as a Python int when it is an integer (Python or NumPy, not bool) >= ``low``.

    Otherwise raise ValueError naming ``name``, the bad value and what is allowed
    ("a positive integer" for low = 1, "a non-negative integer" for low = 0).
    """
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        allowed = {1: "a positive integer", 0: "a non-negative integer"}.get(low, f"an integer >= {low}")
        raise ValueError(f"{name} must be {allowed}, got {v!r}")
    return int(v)
