"""Helpers for the book's notebooks that must also work in Colab and on bare GPU machines.

``glue`` stores a value for the prose (``{glue:text}`name`:.3f``) through myst-nb when it is
installed (the book build), and does nothing otherwise (Colab, nbval on a GPU box without the
Jupyter-Book stack), so a chapter never depends on the build tool to run.
"""
from __future__ import annotations

import numpy as np
import torch


def glue(name: str, value, display: bool = False):
    """Glue ``value`` under ``name`` for the book's text (myst-nb), or just return it.

    NumPy scalars and one-element tensors are glued as Python numbers.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"glue name must be a non-empty string, got {name!r}")
    # NumPy 2 scalars print as "np.float64(...)", which the {glue:text} format spec cannot parse.
    if isinstance(value, np.generic) or (torch.is_tensor(value) and value.numel() == 1):
        value = value.item()
    try:
        from myst_nb import glue as _glue
    except ImportError:
        return value
    _glue(name, value, display=display)
    return value
