"""Smoke tests for the 2D mode-coverage benchmark (python -m ganlib.bench toy)."""
import math

import pytest
import torch

from ganlib.bench import __main__ as bench_main
from ganlib.bench import toy

TINY = dict(seeds=2, iters=3, batch=16, width=8, depth=1, n_eval=200, log_every=2)


def test_run_benchmark_tiny():
    res = toy.run_benchmark(losses=("gan", "wgan-clip", "wgan-gp"), progress=False, **TINY)
    assert len(res) == 3 * 2
    for r in res:
        assert r["status"] == "ok"
        assert 0 <= r["modes"] <= r["n_modes"] == 8
        assert 0.0 <= r["high_quality"] <= 1.0
        assert r["seed_iters_per_s"] > 0 and r["seed_iters_per_cpu_s"] > 0
        assert r["config"]["iters"] == 3
    rows = toy.summarize(res)
    assert [r["loss"] for r in rows] == ["gan", "wgan-clip", "wgan-gp"]
    table = toy.format_table(res)
    assert "wgan-gp" in table and "seed-it/s" in table


def test_train_loss_is_seeded():
    cfg = toy.ToyConfig(dataset="grid", losses=("wgan-gp",), **TINY)
    _, g1, h1, _ = toy.train_loss(cfg, "wgan-gp", progress=False)
    _, g2, h2, _ = toy.train_loss(cfg, "wgan-gp", progress=False)
    assert h1["d_loss"].tolist() == h2["d_loss"].tolist()
    s1, s2 = toy.evaluate(g1, cfg), toy.evaluate(g2, cfg)
    assert [s.counts.tolist() for s in s1] == [s.counts.tolist() for s in s2]
    assert s1[0].n_modes == 25


def test_wgan_clip_keeps_weights_clipped():
    cfg = toy.ToyConfig(losses=("wgan-clip",), **TINY)
    D, _, _, _ = toy.train_loss(cfg, "wgan-clip", progress=False)
    assert max(p.abs().max().item() for p in D.parameters()) <= 0.01 + 1e-9


def test_fgan_losses():
    res = toy.run_benchmark(losses=("fgan-kl", "fgan-hellinger"), progress=False, **TINY)
    assert len(res) == 4
    assert all(r["status"] == "ok" or "diverged" in r["status"] for r in res)


@pytest.mark.parametrize("name", ["mmd", "sw"])
def test_adversary_free_losses_train_the_generator_only(name):
    cfg = toy.ToyConfig(losses=(name,), seeds=2, iters=60, batch=64, width=32, depth=2,
                        n_eval=200, log_every=10)
    D, G, hist, _ = toy.train_loss(cfg, name, progress=False)
    g = hist["g_loss"]
    assert g[-1] < 0.5 * g[0], g                     # the distance to the data falls
    assert (hist["d_loss"] == 0).all()                # no critic is trained
    D0, _, _, _ = toy.train_loss(toy.ToyConfig(losses=(name,), seeds=2, iters=1, batch=64, width=32,
                                               depth=2, n_eval=200, log_every=1), name, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(D.parameters(), D0.parameters()))


def test_cli(capsys):
    rc = bench_main.main(["toy", "--losses", "gan", "--seeds", "1", "--iters", "2", "--batch", "8",
                          "--width", "8", "--depth", "1", "--device", "cpu", "--no-progress"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "ToyConfig" in out and "gan" in out


def test_bad_input():
    with pytest.raises(ValueError, match="ring, grid"):
        toy.run_benchmark(dataset="moons", progress=False)
    with pytest.raises(ValueError, match="wgan-gp"):
        toy.run_benchmark(losses=("wgan-lp",), progress=False)
    with pytest.raises(ValueError):
        toy.run_benchmark(seeds=0, progress=False)
    with pytest.raises(SystemExit):
        toy.main(["--dataset", "moons"])
    with pytest.raises(ValueError, match="unknown loss 'fgan-chi'; choose one of: gan, fgan-kl"):
        toy.get_recipe("fgan-chi")
    with pytest.raises(ValueError, match="lr_scale"):
        toy.run_benchmark(lr_scale=0.0, progress=False)
    assert math.isfinite(toy.ToyConfig().n_eval)


def test_recipes():
    from ganlib import losses, wgan
    assert toy.ALL_LOSSES == tuple(toy.RECIPES)
    gan = toy.get_recipe("gan")
    assert gan.loss is losses.get_loss("gan") and gan.n_critic == 1
    assert gan.penalty is None and gan.project is None and gan.direct is None
    fgan = toy.get_recipe("fgan-js")
    assert fgan.loss.name == "fgan-js"
    clip, gp = toy.get_recipe("wgan-clip"), toy.get_recipe("wgan-gp")
    for r, cfg in ((clip, wgan.get_critic_config("clip")), (gp, wgan.get_critic_config("gp"))):
        assert r.loss is losses.get_loss("wgan")
        assert (r.optimizer, r.lr, r.n_critic) == (cfg.optimizer, cfg.lr, cfg.n_critic)
    assert clip.penalty is None and clip.project.func is wgan.clip_weights
    assert clip.project.keywords == {"c": 0.01}
    assert gp.project is None and gp.penalty.func is wgan.gradient_penalty
    assert gp.penalty.keywords == {"lam": 10.0}
    assert toy.get_recipe("mmd").loss is None and toy.get_recipe("sw").direct is not None
