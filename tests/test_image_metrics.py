"""Tests for ganlib.image_metrics: closed forms, and real vs degraded digit sets."""
import math

import numpy as np
import pytest
import torch
from scipy import linalg, stats

from ganlib import classifier, image_metrics as im
from ganlib.images import load_digits


def test_fd_1d_closed_form():
    # W2^2(N(m1, s1^2), N(m2, s2^2)) = (m1 - m2)^2 + (s1 - s2)^2
    fd = im.frechet_distance_gaussians([1.0], [[4.0]], [-0.5], [[0.25]])
    assert fd == pytest.approx(1.5 ** 2 + (2.0 - 0.5) ** 2, rel=1e-10)


def test_fd_diagonal_and_rotated_closed_form():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 3, 5), rng.uniform(0.1, 3, 5)
    mu_a, mu_b = rng.normal(size=5), rng.normal(size=5)
    want = ((mu_a - mu_b) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert im.frechet_distance_gaussians(mu_a, np.diag(a), mu_b, np.diag(b)) == pytest.approx(want)
    # a rotation of both Gaussians changes nothing
    q = stats.ortho_group.rvs(5, random_state=1)
    got = im.frechet_distance_gaussians(q @ mu_a, q @ np.diag(a) @ q.T, q @ mu_b, q @ np.diag(b) @ q.T)
    assert got == pytest.approx(want, rel=1e-8)
    # non-commuting covariances: the symmetric form Tr(A + B - 2 (A^1/2 B A^1/2)^1/2)
    A = np.cov(rng.normal(size=(5, 50)))
    B = np.cov(rng.normal(size=(5, 50)) * np.arange(1, 6)[:, None])
    ra = linalg.sqrtm(A).real
    sym = np.trace(A + B - 2 * linalg.sqrtm(ra @ B @ ra).real)
    assert im.frechet_distance_gaussians(np.zeros(5), A, np.zeros(5), B) == pytest.approx(sym, rel=1e-6)


def test_fd_from_samples():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20000, 3, generator=g, dtype=torch.float64)
    y = torch.randn(20000, 3, generator=g, dtype=torch.float64) * 2 + 1
    assert im.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    # closed form 3 * (1^2 + (2 - 1)^2) = 6
    assert im.frechet_distance(x, y) == pytest.approx(6.0, rel=0.05)


def test_class_counts_metrics():
    assert im.reverse_kl_to_uniform(np.full(10, 7)) == pytest.approx(0.0, abs=1e-12)
    one = np.eye(10)[3] * 50
    assert im.reverse_kl_to_uniform(one) == pytest.approx(math.log(10))
    assert im.reverse_kl_to_uniform([1, 1, 0, 0]) == pytest.approx(math.log(2))
    assert im.modes_covered(one) == 1 and im.modes_covered(np.full(10, 7)) == 10
    c = np.array([990, 5, 5] + [0] * 7)
    assert im.modes_covered(c) == 1 and im.modes_covered(c, min_share=0) == 3


def test_precision_recall_toy():
    g = torch.Generator().manual_seed(1)
    two = torch.cat([torch.randn(200, 2, generator=g), torch.randn(200, 2, generator=g) + 20])
    assert im.precision_recall(two, two) == (1.0, 1.0)
    far = torch.randn(100, 2, generator=g) + 100
    assert im.precision_recall(two, far) == (0.0, 0.0)
    # fake covers one of two clusters: precise but only about half the recall
    half = torch.randn(400, 2, generator=g)
    p, r = im.precision_recall(two, half)
    assert p > 0.9 and 0.4 < r < 0.6


def test_bad_input():
    with pytest.raises(ValueError, match="dimensions differ"):
        im.frechet_distance(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="n >= 2"):
        im.frechet_distance(np.zeros((1, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        im.precision_recall(np.full((4, 2), np.nan), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="k must be"):
        im.precision_recall(np.zeros((4, 2)), np.zeros((4, 2)), k=4)
    with pytest.raises(ValueError, match="counts"):
        im.reverse_kl_to_uniform([0, 0])
    with pytest.raises(ValueError, match="min_share"):
        im.modes_covered([1, 2], min_share=1.5)


@pytest.fixture(scope="module")
def setup8(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("GANLIB_CACHE", str(tmp_path_factory.mktemp("cache")))
    torch.set_num_threads(1)
    clf = classifier.get_classifier(8, verbose=False)
    yield load_digits(8), clf
    mp.undo()


def test_evaluate_real_vs_degraded(setup8):
    d, clf = setup8
    same = im.evaluate(d.test, d, clf)
    assert same["fd"] < 1e-6 and same["precision"] == 1.0 and same["recall"] == 1.0
    assert same["modes"] == 10 and same["reverse_kl"] < 0.01
    n = len(d.test)
    g = torch.Generator().manual_seed(0)
    train = d.train[torch.randperm(len(d.train), generator=g)[:n]]
    base = im.evaluate(train, d, clf)                    # a fresh real sample: the floor
    assert base["modes"] == 10 and base["precision"] > 0.7 and base["recall"] > 0.7
    noisy = (train + 0.5 * torch.randn(train.shape, generator=g)).clamp(-1, 1)
    bad = im.evaluate(noisy, d, clf)
    assert bad["fd"] > 3 * base["fd"] and bad["precision"] < base["precision"]
    zeros = d.train[d.train_labels == 0]
    one = zeros[torch.randint(len(zeros), (n,), generator=g)]
    mono = im.evaluate(one, d, clf)
    assert mono["modes"] == 1 and mono["reverse_kl"] > 0.95 * math.log(10)
    assert mono["recall"] < 0.3 and mono["fd"] > 3 * base["fd"]
    with pytest.raises(ValueError, match="fake_images"):
        im.evaluate(torch.zeros(3, 1, 16, 16), d, clf)
