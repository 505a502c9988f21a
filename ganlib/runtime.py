"""Runtime choices shared by every chapter: device, seed and threads.

Nothing here runs at import time; a chapter calls :func:`setup` once in its first cell.

* ``GANLIB_SEED``   (int, default 0): the seed every chapter starts from.
* ``GANLIB_DEVICE`` ("cpu" or "cuda", optional): force a device; by default CUDA is used
  when available.

There is one training scale for every device: each chapter runs the same configuration on a
laptop CPU, in CI and on a GPU (where it only runs faster), so what the published book shows
is what every reader runs.
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass

import numpy as np
import torch

from . import checks

DEFAULT_SEED = 0
_DEVICES = ("cpu", "cuda")


def get_device(prefer: str | None = None) -> torch.device:
    """CUDA when available (or when ``prefer``/``GANLIB_DEVICE`` says so), else CPU."""
    name = prefer if prefer is not None else os.environ.get("GANLIB_DEVICE")
    if name is None or name == "":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = checks.check_choice("device", name, _DEVICES)
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but torch.cuda.is_available() is False")
    return torch.device(name)


def get_seed(seed: int | None = None) -> int:
    """The seed: ``seed`` if given, else ``GANLIB_SEED``, else :data:`DEFAULT_SEED`."""
    if seed is None:
        raw = os.environ.get("GANLIB_SEED", "")
        if raw == "":
            return DEFAULT_SEED
        try:
            seed = int(raw)
        except ValueError:
            raise ValueError(f"GANLIB_SEED must be an integer, got {raw!r}") from None
    return checks.check_int("seed", seed, 0)


def seed_everything(seed: int | None = None) -> int:
    """Seed Python, NumPy and torch (all devices); return the seed used."""
    seed = get_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed


def set_threads(n: int | None = None) -> int:
    """Limit torch's intra-op threads (default: ``GANLIB_THREADS``, else the cores this process
    may use, at most 8).

    Small MLPs are overhead-bound: more threads than cores only adds contention. ``make test``
    runs two notebooks at once on two cores and sets ``GANLIB_THREADS=1``.
    """
    if n is None and os.environ.get("GANLIB_THREADS"):
        raw = os.environ["GANLIB_THREADS"]
        try:
            n = int(raw)
        except ValueError:
            raise ValueError(f"GANLIB_THREADS must be a positive integer, got {raw!r}") from None
    if n is None:
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - macOS/Windows
            n = os.cpu_count() or 1
        n = max(1, min(n, 8))
    n = checks.check_int("thread count", n)
    torch.set_num_threads(n)
    return n


@dataclass(frozen=True)
class Runtime:
    """What a chapter runs on; returned by :func:`setup`."""

    device: torch.device  # where tensors and models live
    seed: int             # the seed everything was seeded with
    threads: int          # torch intra-op threads

    def generator(self, offset: int = 0) -> torch.Generator:
        """A fresh torch.Generator on the runtime's device seeded with ``seed + offset``."""
        g = torch.Generator(device=self.device)
        g.manual_seed(self.seed + int(offset))
        return g

    def __str__(self) -> str:
        name = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu"
        return (f"device={self.device} ({name}) | seed={self.seed} | "
                f"threads={self.threads} | torch {torch.__version__}")


def setup(seed: int | None = None, device: str | None = None, verbose: bool = True) -> Runtime:
    """Pick the device, seed everything and set the threads; print them.

    Every chapter's first code cell calls this once.
    """
    dev = get_device(device)
    threads = set_threads()
    s = seed_everything(seed)
    rt = Runtime(device=dev, seed=s, threads=threads)
    if verbose:
        print(rt)
    return rt

