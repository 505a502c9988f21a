"""ganlib.plotting: smoke tests (each helper draws on an axes and returns it) and the image grid layout."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from ganlib import data, plotting, train  # noqa: E402


def teardown_function():
    plt.close("all")


def test_plot_samples_2d():
    ring = data.ring()
    ax = plotting.plot_samples_2d(ring.sample(50), target=ring, title="ring")
    assert ax.get_xlabel() == "$x_1$" and ax.get_title() == "ring" and len(ax.collections) == 2
    with pytest.raises(ValueError, match=r"samples must have shape \(n, 2\)"):
        plotting.plot_samples_2d(np.zeros((5, 3)))


def test_plot_density_1d():
    xs = np.linspace(-3, 3, 50)
    ax = plotting.plot_density_1d(xs, {"a": np.exp(-xs**2)}, samples=np.random.randn(100))
    assert ax.get_ylabel() == "density" and len(ax.lines) == 1


def test_grid_and_contour():
    pts, gx, gy = plotting.grid_2d((-1, 1, -2, 2), resolution=10)
    assert pts.shape == (100, 2) and gx.shape == (10, 10) and pts[:, 1].max() == 2
    with pytest.raises(ValueError, match="x range needs finite lo < hi"):
        plotting.grid_2d((1, -1, 0, 1))
    with pytest.raises(ValueError, match="y range"):
        plotting.grid_2d((0, 1, 1, 1))
    ax = plotting.plot_contour_2d(lambda x: (x ** 2).sum(1, keepdim=True), (-1, 1, -1, 1),
                                  samples={"pts": torch.zeros(3, 2)}, resolution=20)
    assert ax.get_aspect() == 1.0


def test_plot_history():
    h = train.History()
    for s in range(1, 4):
        h.log(s, d_loss=1.0 / s, g_loss=s)
    ax = plotting.plot_history(h, hlines={"log 4": np.log(4)})
    assert ax.get_xlabel() == "step" and len(ax.lines) == 3


def test_make_grid_layout():
    x = torch.stack([torch.full((1, 2, 3), v) for v in (-1.0, 0.0, 1.0)])   # (3, 1, 2, 3)
    g = plotting.make_grid(x, nrow=2, padding=1, pad_value=0.0)
    assert g.shape == (2 * 3 + 1, 2 * 4 + 1)
    assert g[1, 1] == 0.0 and g[1, 5] == 0.5 and g[4, 1] == 1.0    # tiles mapped to [0, 1]
    assert g[0, 0] == 0.5                                            # padding at value 0 -> 0.5
    rgb = plotting.make_grid(torch.zeros(2, 3, 4, 4), nrow=2)
    assert rgb.shape == (6, 11, 3)


def test_show_images_draws():
    ax = plotting.show_images(torch.zeros(5, 1, 8, 8), nrow=3, title="t")
    assert ax.get_title() == "t" and len(ax.images) == 1


def test_make_grid_bad_input():
    with pytest.raises(ValueError, match="number of channels"):
        plotting.make_grid(torch.zeros(4, 2, 8, 8))
    with pytest.raises(ValueError, match="nrow"):
        plotting.make_grid(torch.zeros(4, 1, 8, 8), nrow=0)
    with pytest.raises(ValueError, match="empty"):
        plotting.make_grid(torch.zeros(0, 1, 8, 8))
    assert plotting.make_grid(np.zeros((2, 4, 4)), nrow=2).shape == (6, 11)   # (B, H, W) is C = 1
