"""Image data that needs no download: the scikit-learn digits, and MNIST from local files.

:func:`load_digits` returns scikit-learn's bundled copy of the UCI optical-recognition
handwritten digits (Alpaydin and Kaynak 1998): 1,797 greyscale images of 8x8 pixels with 17
grey levels (0..16), labels 0..9. The book's image chapters (DCGAN, PGGAN, CycleGAN, VAE)
train on it at CPU scale. Nothing is downloaded: the data ship inside scikit-learn.

Conventions shared by every image in the book:

* images are float32 tensors of shape ``(B, C, H, W)`` with values in ``[-1, 1]`` (the range
  of a ``tanh`` output layer); grey level ``v`` in 0..16 maps to ``v / 8 - 1``;
* the train/held-out split is FIXED (seed :data:`SPLIT_SEED`, independent of ``GANLIB_SEED``)
  and stratified by class, so every chapter and every seed compares against the same
  held-out images.

:func:`load_mnist` reads MNIST from local IDX files only behind an explicit call; it never
touches the network and raises a clear error when the files are absent. Grids of images for
figures are :func:`ganlib.plotting.show_images` and :func:`ganlib.plotting.make_grid`.
"""
from __future__ import annotations

import gzip
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import checks

SPLIT_SEED = 20_260_101   # fixed seed of the train/held-out split (not GANLIB_SEED)
N_TEST = 397              # held-out images (stratified); the other 1,400 are for training
SIZES = (8, 16, 32)       # resolutions load_digits offers


@dataclass(frozen=True, eq=False)
class Digits:
    """The digits at one resolution, split once into training and held-out images."""

    train: torch.Tensor         # (N, 1, size, size) float32 in [-1, 1]
    train_labels: torch.Tensor  # (N,) int64 class labels 0..9
    test: torch.Tensor          # (M, 1, size, size) held-out images, never trained on
    test_labels: torch.Tensor   # (M,) int64
    size: int                   # side length in pixels

    @property
    def device(self) -> torch.device:
        return self.train.device

    def batch(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n training images drawn uniformly with replacement: (n, 1, size, size).

        ``generator`` must live on the data's device (``rt.generator()`` does).
        """
        n = checks.check_int("batch size", n)
        idx = torch.randint(len(self.train), (n,), generator=generator, device=self.device)
        return self.train[idx]

    def __repr__(self) -> str:
        return (f"Digits(size={self.size}, train={tuple(self.train.shape)}, "
                f"test={tuple(self.test.shape)}, device={self.device})")


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of (B, C, h, w) images to (B, C, size, size), values clamped to [-1, 1].

    Bilinear interpolation (``align_corners=False``) is a convex combination of the four
    nearest pixels, so it cannot leave the input's range; bicubic would overshoot at the
    strokes' edges. Downsampling uses antialiasing.
    """
    images = checks.check_tensor("images", images, dims=4)
    size = checks.check_int("size", size)
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    out = F.interpolate(images, size=(size, size), mode="bilinear",
                        align_corners=False, antialias=size < images.shape[-1])
    return out.clamp(-1.0, 1.0)


def _split(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=N_TEST, stratify=y, random_state=SPLIT_SEED)
    return np.sort(tr), np.sort(te)


def load_digits(size: int = 16, device=None) -> Digits:
    """The scikit-learn digits scaled to [-1, 1] and resized (bilinear) to size x size.

    Parameters
    ----------
    size : one of 8 (native), 16, 32.
    device : where the tensors live (default CPU); the split does not depend on it.

    Returns
    -------
    Digits with ``train`` (1400, 1, size, size) and ``test`` (397, 1, size, size).
    """
    size = int(checks.check_option("digits size", size, SIZES))
    from sklearn.datasets import load_digits as _sk_load
    raw = _sk_load()
    x = torch.as_tensor(raw.images, dtype=torch.float32)[:, None] / 8.0 - 1.0   # (1797, 1, 8, 8)
    y = torch.as_tensor(raw.target, dtype=torch.int64)
    x = resize(x, size)
    tr, te = _split(raw.target)
    dev = torch.device("cpu") if device is None else torch.device(device)
    tr_t, te_t = torch.as_tensor(tr), torch.as_tensor(te)
    return Digits(train=x[tr_t].contiguous().to(dev), train_labels=y[tr_t].to(dev),
                  test=x[te_t].contiguous().to(dev), test_labels=y[te_t].to(dev), size=size)


# ----------------------------------------------------------------------------- MNIST (optional)
_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != math.prod(shape):
        raise ValueError(f"{path}: header says {shape} but holds {arr.size} values")
    return arr.reshape(shape)


def _find(root: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        for p in (root / name, root / "MNIST" / "raw" / name):
            if p.exists():
                return p
    return None


def load_mnist(root, size: int = 28, device=None, download: bool = False) -> Digits:
    """MNIST from local IDX files under ``root`` (optional; nothing in the book needs it).

    Looks for ``train-images-idx3-ubyte[.gz]`` etc. in ``root`` or ``root/MNIST/raw`` (the
    torchvision layout). Pixel value v in 0..255 maps to v / 127.5 - 1; ``size`` != 28
    resizes bilinearly. ``download=True`` is refused: the book never uses the network, so
    fetch the four files yourself.
    """
    if download:
        raise ValueError("load_mnist never downloads; fetch the four IDX files from the MNIST "
                         "site yourself and pass their folder as root (download=False)")
    size = checks.check_int("size", size)
    root = Path(root).expanduser()
    found = {}
    for split, stems in _MNIST_FILES.items():
        for stem in stems:
            p = _find(root, stem)
            if p is None:
                raise FileNotFoundError(
                    f"MNIST file {stem}[.gz] not found under {root} (or {root / 'MNIST/raw'}); "
                    "this loader is offline-only: place the IDX files there first")
            found[stem] = p
    parts = []
    for split, (img, lab) in _MNIST_FILES.items():
        x = torch.as_tensor(_read_idx(found[img]).copy(), dtype=torch.float32)[:, None] / 127.5 - 1
        y = torch.as_tensor(_read_idx(found[lab]).astype(np.int64))
        if len(x) != len(y):
            raise ValueError(f"MNIST {split}: {len(x)} images but {len(y)} labels")
        parts.append((resize(x, size), y))
    dev = torch.device("cpu") if device is None else torch.device(device)
    (xtr, ytr), (xte, yte) = parts
    return Digits(train=xtr.to(dev), train_labels=ytr.to(dev), test=xte.to(dev),
                  test_labels=yte.to(dev), size=size)
