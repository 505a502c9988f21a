"""Tests for ganlib.images: the digits split, scaling, resizing, batches, MNIST reader."""
import gzip

import numpy as np
import pytest
import torch

from ganlib import images


@pytest.fixture(scope="module")
def d16():
    return images.load_digits(16)


def test_split_sizes_range_and_stratification(d16):
    assert d16.train.shape == (1400, 1, 16, 16) and d16.test.shape == (397, 1, 16, 16)
    assert d16.train.dtype == torch.float32 and d16.train_labels.dtype == torch.int64
    assert d16.train.min() == -1.0 and d16.train.max() == 1.0
    # stratified: each class has 39 or 40 of the 397 held-out images
    counts = torch.bincount(d16.test_labels, minlength=10)
    assert counts.min() >= 39 and counts.max() <= 40


def test_native_size_is_the_sklearn_data_scaled():
    from sklearn.datasets import load_digits as sk
    raw = sk()
    d8 = images.load_digits(8)
    x = torch.cat([d8.train, d8.test])
    # every image of the split is an sklearn image mapped v -> v/8 - 1 (17 grey levels)
    levels = torch.unique((x + 1) * 8)
    assert torch.allclose(levels, torch.arange(17.0))
    assert len(x) == len(raw.images) == 1797
    flat = {tuple(r) for r in (raw.images.reshape(-1, 64) / 8 - 1).astype(np.float32).tolist()}
    assert all(tuple(r) in flat for r in x.reshape(-1, 64)[:50].tolist())


def test_split_is_fixed_and_disjoint(monkeypatch):
    a = images.load_digits(8)
    monkeypatch.setenv("GANLIB_SEED", "7")
    torch.manual_seed(99)
    b = images.load_digits(8)
    assert torch.equal(a.test, b.test) and torch.equal(a.train_labels, b.train_labels)
    tr = {tuple(r) for r in a.train.reshape(-1, 64).tolist()}
    te = [tuple(r) for r in a.test.reshape(-1, 64).tolist()]
    # sklearn's digits contain a few exact duplicates; almost no held-out image is in train
    assert sum(t in tr for t in te) <= 5


def test_resize_sizes_agree_on_average(d16):
    d8, d32 = images.load_digits(8), images.load_digits(32)
    assert d32.train.shape == (1400, 1, 32, 32)
    # bilinear upsampling by 2 or 4 (align_corners=False, edge pixels clamped) gives every
    # input pixel total weight 2 (or 4) per axis, so each image's mean grey level is kept
    for d in (d16, d32):
        assert torch.allclose(d.train.mean((1, 2, 3)), d8.train.mean((1, 2, 3)), atol=1e-5)
    # ...while a blur-free check would fail: the images are not piecewise constant
    assert (torch.nn.functional.avg_pool2d(d16.train, 2) - d8.train).abs().max() > 0.1
    assert torch.equal(d16.train_labels, d8.train_labels)


def test_batch_is_seeded_and_from_train(d16):
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a, b = d16.batch(32, g1), d16.batch(32, g2)
    assert a.shape == (32, 1, 16, 16) and torch.equal(a, b)
    tr = {r.numpy().tobytes() for r in d16.train.reshape(1400, -1)}
    assert all(r.numpy().tobytes() in tr for r in a.reshape(32, -1))
    assert not torch.equal(a, d16.batch(32, g1))


def test_bad_input_raises(d16):
    with pytest.raises(ValueError, match="choose one of"):
        images.load_digits(12)
    with pytest.raises(ValueError, match="positive integer"):
        d16.batch(0)
    with pytest.raises(ValueError, match="4 dimensions"):
        images.resize(torch.zeros(1, 8, 8), 16)
    with pytest.raises(ValueError, match="size must be a positive integer"):
        images.resize(torch.zeros(1, 1, 8, 8), 0)


def _write_idx(path, arr):
    arr = np.asarray(arr, dtype=np.uint8)
    head = bytes([0, 0, 8, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(head + arr.tobytes())


def test_mnist_offline_reader(tmp_path):
    with pytest.raises(FileNotFoundError, match="offline-only"):
        images.load_mnist(tmp_path)
    with pytest.raises(ValueError, match="never downloads"):
        images.load_mnist(tmp_path, download=True)
    rng = np.random.default_rng(0)
    for stem, n in (("train", 5), ("t10k", 3)):
        _write_idx(tmp_path / f"{stem}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(tmp_path / f"{stem}-labels-idx1-ubyte.gz", np.arange(n))
    m = images.load_mnist(tmp_path, size=16)
    assert m.train.shape == (5, 1, 16, 16) and m.test.shape == (3, 1, 16, 16)
    assert m.train.min() >= -1 and m.train.max() <= 1 and m.test_labels.tolist() == [0, 1, 2]
