"""ganlib.metrics: nearest_mode and mode_stats on perfect, collapsed and off-target samples
(VEEGAN/PacGAN protocol), and the image metrics on closed forms and real vs degraded digits."""
import math

import numpy as np
import pytest
import torch

from ganlib import classifier, data, metrics, transport
from ganlib.divergences import kl_to_uniform
from ganlib.images import load_digits


def test_nearest_mode_index_and_distance():
    grid = data.grid()
    g = torch.Generator().manual_seed(0)
    x, labels = grid.sample_with_labels(3000, g)
    index, dist = metrics.nearest_mode(x, grid)
    assert index.shape == dist.shape == (3000,) and index.dtype.kind == "i" and dist.dtype == np.float64
    # modes 2 apart with std 0.05: every sample's nearest mode is its own component
    assert np.array_equal(index, labels.numpy())
    np.testing.assert_allclose(dist, np.linalg.norm(x.double().numpy() - grid.means[index], axis=1),
                               rtol=1e-12)
    # brute force against a hand computation on a few points, and ties go to the lower index
    pts = np.array([[0.9, 0.1], [-3.1, 4.2], [1.0, 0.0]])
    want = [np.argmin(np.linalg.norm(grid.means - p, axis=1)) for p in pts]
    assert metrics.nearest_mode(pts, grid)[0].tolist() == want
    assert metrics.nearest_mode([[1.0, 0.0]], grid)[0][0] == min(
        k for k in range(25) if np.allclose(np.linalg.norm(grid.means[k] - [1.0, 0.0]), 1.0))
    with pytest.raises(ValueError, match="same dimension"):
        metrics.nearest_mode(np.zeros((4, 3)), grid)


def test_perfect_samples_cover_every_mode():
    ring = data.ring()
    x = ring.sample(2500, generator=torch.Generator().manual_seed(0))
    s = metrics.mode_stats(x, ring)
    assert s.modes == 8 and s.n_modes == 8
    assert s.high_quality > 0.98  # P(|N(0, I_2)| <= 3) = 1 - exp(-4.5) = 0.989
    assert s.reverse_kl < 0.01 and s.counts.sum() == round(s.high_quality * 2500)


def test_chi_distribution_of_high_quality_share():
    ring = data.ring()
    x = ring.sample(100_000, generator=torch.Generator().manual_seed(1))
    s = metrics.mode_stats(x, ring)
    assert abs(s.high_quality - (1 - math.exp(-4.5))) < 0.002


def test_collapsed_samples():
    ring = data.ring()
    x = np.tile(ring.means[3], (500, 1)) + 0.001
    s = metrics.mode_stats(x, ring)
    assert s.modes == 1 and s.high_quality == 1.0
    assert math.isclose(s.reverse_kl, math.log(8)) and s.counts[3] == 500
    assert s.reverse_kl == kl_to_uniform(s.counts)


def test_two_modes_half_half():
    grid = data.grid()
    x = np.concatenate([np.tile(grid.means[0], (10, 1)), np.tile(grid.means[7], (10, 1))])
    s = metrics.mode_stats(x, grid)
    assert s.modes == 2 and s.n_modes == 25
    assert math.isclose(s.reverse_kl, math.log(25 / 2))


def test_off_target_samples_are_low_quality():
    ring = data.ring()
    s = metrics.mode_stats(np.zeros((10, 2)), ring)
    assert s.high_quality == 0.0 and s.modes == 0 and s.reverse_kl == float("inf")


def test_min_count_and_n_std():
    ring = data.ring()
    x = np.concatenate([np.tile(ring.means[0], (5, 1)), np.tile(ring.means[1], (1, 1))])
    assert metrics.mode_stats(x, ring, min_count=2).modes == 1
    shifted = ring.means[:1] + np.array([[0.02, 0.0]])  # 2 stds away
    assert metrics.mode_stats(shifted, ring, n_std=3).high_quality == 1.0
    assert metrics.mode_stats(shifted, ring, n_std=1).high_quality == 0.0


def test_one_dimensional_mixture():
    mix = data.mixture_1d()
    s = metrics.mode_stats(mix.sample(1000, generator=torch.Generator().manual_seed(0)), mix)
    assert s.modes == 2 and s.high_quality > 0.98


@pytest.mark.parametrize("bad", [np.zeros((5, 3)), np.zeros(5), np.zeros((0, 2)),
                                 np.array([[np.nan, 0.0]])])
def test_bad_samples_raise(bad):
    with pytest.raises(ValueError):
        metrics.mode_stats(bad, data.ring())


@pytest.mark.parametrize("kw", [{"min_count": 0}, {"n_std": 0.0}, {"n_std": -1.0}])
def test_bad_options_raise(kw):
    with pytest.raises(ValueError):
        metrics.mode_stats(np.zeros((3, 2)), data.ring(), **kw)


# ----------------------------------------------------------------------------- images
def test_fd_from_samples():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20000, 3, generator=g, dtype=torch.float64)
    y = torch.randn(20000, 3, generator=g, dtype=torch.float64) * 2 + 1
    assert metrics.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    # closed form 3 * (1^2 + (2 - 1)^2) = 6
    assert metrics.frechet_distance(x, y) == pytest.approx(6.0, rel=0.05)
    # it is W2^2 between the fitted Gaussians
    xs, ys = x[:500].numpy(), y[:300].numpy()
    assert metrics.frechet_distance(xs, ys) == pytest.approx(transport.w2_squared_gaussians(
        xs.mean(0), np.cov(xs, rowvar=False), ys.mean(0), np.cov(ys, rowvar=False)), rel=1e-12)


def test_modes_covered():
    one = np.eye(10)[3] * 50
    assert metrics.modes_covered(one) == 1 and metrics.modes_covered(np.full(10, 7)) == 10
    c = np.array([990, 5, 5] + [0] * 7)
    assert metrics.modes_covered(c) == 1 and metrics.modes_covered(c, min_share=0) == 3


def test_precision_recall_toy():
    g = torch.Generator().manual_seed(1)
    two = torch.cat([torch.randn(200, 2, generator=g), torch.randn(200, 2, generator=g) + 20])
    assert metrics.precision_recall(two, two) == (1.0, 1.0)
    far = torch.randn(100, 2, generator=g) + 100
    assert metrics.precision_recall(two, far) == (0.0, 0.0)
    # fake covers one of two clusters: precise but only about half the recall
    half = torch.randn(400, 2, generator=g)
    p, r = metrics.precision_recall(two, half)
    assert p > 0.9 and 0.4 < r < 0.6


def test_bad_input():
    with pytest.raises(ValueError, match="same dimension"):
        metrics.frechet_distance(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="n >= 2"):
        metrics.frechet_distance(np.zeros((1, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        metrics.precision_recall(np.full((4, 2), np.nan), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="k must be"):
        metrics.precision_recall(np.zeros((4, 2)), np.zeros((4, 2)), k=4)
    with pytest.raises(ValueError, match="counts"):
        metrics.modes_covered([0, 0])
    with pytest.raises(ValueError, match="min_share"):
        metrics.modes_covered([1, 2], min_share=1.5)


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
    same = metrics.evaluate_images(d.test, d, clf)
    assert same["fd"] < 1e-6 and same["precision"] == 1.0 and same["recall"] == 1.0
    assert same["modes"] == 10 and same["reverse_kl"] < 0.01
    n = len(d.test)
    g = torch.Generator().manual_seed(0)
    train = d.train[torch.randperm(len(d.train), generator=g)[:n]]
    base = metrics.evaluate_images(train, d, clf)                    # a fresh real sample: the floor
    assert base["modes"] == 10 and base["precision"] > 0.7 and base["recall"] > 0.7
    noisy = (train + 0.5 * torch.randn(train.shape, generator=g)).clamp(-1, 1)
    bad = metrics.evaluate_images(noisy, d, clf)
    assert bad["fd"] > 3 * base["fd"] and bad["precision"] < base["precision"]
    zeros = d.train[d.train_labels == 0]
    one = zeros[torch.randint(len(zeros), (n,), generator=g)]
    mono = metrics.evaluate_images(one, d, clf)
    assert mono["modes"] == 1 and mono["reverse_kl"] > 0.95 * math.log(10)
    assert mono["recall"] < 0.3 and mono["fd"] > 3 * base["fd"]
    counts = metrics.class_histogram(one, clf)
    assert counts.shape == (10,) and counts.sum() == n and metrics.modes_covered(counts) == mono["modes"]
    assert mono["reverse_kl"] == kl_to_uniform(counts)
    with pytest.raises(ValueError, match="fake_images"):
        metrics.evaluate_images(torch.zeros(3, 1, 16, 16), d, clf)
