"""ganlib.train: steps move the right player, train() logs a History and stops on divergence."""
import math

import numpy as np
import pytest
import torch

from ganlib import data, losses, nets, train


def _models(seed=0):
    torch.manual_seed(seed)
    G = nets.mlp_generator(2, 1, width=8, depth=1)
    D = nets.mlp_discriminator(1, width=8, depth=1)
    return G, D


def _params(m):
    return [p.detach().clone() for p in m.parameters()]


def _changed(before, m):
    return any(not torch.equal(a, b) for a, b in zip(before, m.parameters()))


def test_d_step_updates_only_d_and_lowers_loss():
    G, D = _models()
    opt_d = torch.optim.SGD(D.parameters(), lr=0.05)
    real, z = torch.full((64, 1), 2.0), torch.randn(64, 2)
    g0, d0 = _params(G), _params(D)
    first = train.d_step(D, G, opt_d, real, z)
    assert _changed(d0, D) and not _changed(g0, G)
    for _ in range(50):
        last = train.d_step(D, G, opt_d, real, z)
    assert last < first
    assert not last.requires_grad


def test_g_step_updates_only_g_and_leaves_no_d_grads():
    G, D = _models()
    opt_g = torch.optim.SGD(G.parameters(), lr=0.05)
    g0, d0 = _params(G), _params(D)
    train.g_step(D, G, opt_g, torch.randn(64, 2))
    assert _changed(g0, G) and not _changed(d0, D)
    assert all(p.grad is None for p in D.parameters())
    assert all(p.requires_grad for p in D.parameters())  # flags restored


def test_g_step_restores_the_saved_flags():
    G, D = _models()
    frozen_w = D.net[0].weight
    frozen_w.requires_grad_(False)                       # the caller froze one layer of D
    train.g_step(D, G, torch.optim.SGD(G.parameters(), lr=0.05), torch.randn(8, 2))
    assert not frozen_w.requires_grad
    assert all(p.requires_grad for p in D.parameters() if p is not frozen_w)


def test_g_step_raises_d_output_on_fakes():
    G, D = _models(1)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.05)
    z = torch.randn(256, 2)
    with torch.no_grad():
        before = D(G(z)).mean()
    for _ in range(20):
        train.g_step(D, G, opt_g, z)
    with torch.no_grad():
        assert D(G(z)).mean() > before


def test_d_step_penalty_is_added():
    G, D = _models()
    opt_d = torch.optim.SGD(D.parameters(), lr=0.0)
    real, z = torch.randn(8, 1), torch.randn(8, 2)
    plain = train.d_step(D, G, opt_d, real, z)
    pen = train.d_step(D, G, opt_d, real, z, penalty=lambda D_, r, f: torch.tensor(3.0))
    assert math.isclose(pen.item(), plain.item() + 3.0, rel_tol=1e-6)


def _run(steps=20, d_loss=losses.gan_d_loss, batch_size=16, **kw):
    G, D = _models()
    target = data.mixture_1d()
    gen = torch.Generator().manual_seed(0)
    return train.train(D, G, torch.optim.Adam(D.parameters(), 1e-3), torch.optim.Adam(G.parameters(), 1e-3),
                       lambda n: target.sample(n, generator=gen), lambda n: data.latent(n, 2, generator=gen),
                       steps=steps, batch_size=batch_size, progress=False, d_loss=d_loss, **kw)


def test_train_history_and_callback():
    calls = []
    h = _run(steps=25, log_every=10, d_steps=2, callback=lambda s: calls.append(s) or {"m": s / 2})
    assert list(h["step"]) == [10, 20, 25] and calls == [10, 20, 25]
    assert np.allclose(h["m"], [5, 10, 12.5])
    assert "d_loss" in h and "g_loss" in h and set(h.keys()) == {"step", "d_loss", "g_loss", "m"}
    assert np.all(np.isfinite(h["d_loss"])) and h.last("m") == 12.5
    # the discriminator loss of a fresh pair is near log 4 (D ~ 1/2)
    assert abs(h["d_loss"][0] - math.log(4)) < 0.3


def test_train_raises_on_nan_naming_the_step():
    calls = {"n": 0}

    def bad_loss(real, fake):
        calls["n"] += 1
        loss = losses.gan_d_loss(real, fake)
        return loss * float("nan") if calls["n"] == 7 else loss

    with pytest.raises(train.DivergenceError, match="step 7"):
        _run(steps=20, d_loss=bad_loss, log_every=5)


def test_check_finite():
    train.check_finite(3, a=1.0, b=torch.tensor(2.0))
    with pytest.raises(train.DivergenceError, match="step 4: x = inf"):
        train.check_finite(4, x=float("inf"))
    with pytest.raises(train.DivergenceError, match="step 5"):
        train.check_finite(5, max_abs=10, y=11.0)


def test_history():
    h = train.History()
    h.log(1, a=1.0)
    h.log(2, a=torch.tensor(3.0))
    assert np.array_equal(h["step"], [1, 2]) and np.array_equal(h["a"], [1.0, 3.0])
    with pytest.raises(KeyError, match="'b'"):
        h["b"]


def test_train_projects_after_every_d_step():
    calls = []

    def project(D):
        calls.append(1)
        with torch.no_grad():
            for p in D.parameters():
                p.clamp_(-0.05, 0.05)

    G, D = _models()
    target = data.mixture_1d()
    gen = torch.Generator().manual_seed(0)
    train.train(D, G, torch.optim.SGD(D.parameters(), 0.5), torch.optim.SGD(G.parameters(), 0.1),
                lambda n: target.sample(n, generator=gen), lambda n: data.latent(n, 2, generator=gen),
                steps=4, batch_size=8, d_steps=3, progress=False, project=project)
    assert len(calls) == 12
    assert max(p.abs().max().item() for p in D.parameters()) <= 0.05 + 1e-8


@pytest.mark.parametrize("kw", [{"steps": 0}, {"batch_size": 1.5}, {"d_steps": True}, {"log_every": -1}])
def test_train_bad_arguments(kw):
    args = {"steps": 5, **kw}
    with pytest.raises(ValueError):
        _run(**args)
    with pytest.raises(TypeError, match="penalty must be callable"):
        _run(steps=5, penalty=3.0)
