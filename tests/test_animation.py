import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from torch import nn

from ganlib import animation

EXTENT = (-2.0, 2.0, -1.0, 1.0)


def _nets():
    G = nn.Linear(3, 2)
    D = nn.Sequential(nn.Linear(2, 1))
    return G, D


def test_snapshot_holds_the_generated_batch_and_d_on_the_grid():
    G, D = _nets()
    z = torch.randn(50, 3)
    f = animation.snapshot_2d(7, G, D, z, EXTENT, resolution=5)
    assert f.step == 7 and f.samples.shape == (50, 2) and f.field.shape == (5, 5)
    np.testing.assert_allclose(f.samples, G(z).detach().numpy(), rtol=1e-6)
    # row i, column j of the field is D at (x_j, y_i): corners pin the orientation
    xy = torch.tensor([[EXTENT[0], EXTENT[2]], [EXTENT[1], EXTENT[2]], [EXTENT[0], EXTENT[3]]])
    expect = torch.sigmoid(D(xy)).reshape(-1).detach().numpy()
    np.testing.assert_allclose([f.field[0, 0], f.field[0, -1], f.field[-1, 0]], expect, rtol=1e-5)
    raw = animation.snapshot_2d(7, G, D, z, EXTENT, resolution=5, transform=None)
    np.testing.assert_allclose(raw.field[0, 0], D(xy[:1]).item(), rtol=1e-5)


def test_animation_is_an_embedded_player_with_one_frame_per_snapshot():
    G, D = _nets()
    z = torch.randn(20, 3)
    frames = [animation.snapshot_2d(s, G, D, z, EXTENT, resolution=6) for s in (0, 10, 20)]
    html = animation.animate_2d({"a": frames, "b": frames}, EXTENT, modes=np.zeros((1, 2)))
    body = html.data
    assert "<script" in body and body.count("data:image/png;base64") == 3


@pytest.mark.parametrize("bad", [{}, {"a": []}])
def test_animation_rejects_empty_runs(bad):
    with pytest.raises(ValueError, match="runs|frames"):
        animation.animate_2d(bad, EXTENT)


def test_runs_of_unequal_length_are_rejected():
    G, D = _nets()
    z = torch.randn(4, 3)
    f = animation.snapshot_2d(0, G, D, z, EXTENT, resolution=3)
    with pytest.raises(ValueError, match="same"):
        animation.animate_2d({"a": [f], "b": [f, f]}, EXTENT)


def test_bad_extent_is_rejected():
    G, D = _nets()
    with pytest.raises(ValueError, match="extent"):
        animation.snapshot_2d(0, G, D, torch.randn(4, 3), (1.0, -1.0, 0.0, 1.0))
