"""ganlib.metrics.mode_stats on perfect, collapsed and off-target samples (VEEGAN/PacGAN protocol)."""
import math

import numpy as np
import pytest
import torch

from ganlib import data, metrics


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
