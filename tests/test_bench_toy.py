"""Smoke tests for the 2D mode-coverage benchmark (python -m ganlib.bench toy)."""
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from ganlib import metrics
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


def test_pack_shapes_and_order():
    from ganlib import batched
    x = torch.arange(2 * 6 * 2, dtype=torch.float32).view(2, 6, 2)      # (S=2, B=6, 2)
    p = batched.pack(x, 3)
    assert p.shape == (2, 2, 6)
    assert torch.equal(p[1, 0], torch.cat([x[1, 0], x[1, 1], x[1, 2]]))  # seeds never mix
    assert batched.pack(x, 1) is x
    assert batched.pack(x[0], 2).shape == (3, 4)                        # unbatched (B, d)
    with pytest.raises(ValueError, match="pack m=4 must divide the batch size, got batch 6"):
        batched.pack(x, 4)
    with pytest.raises(ValueError, match="pack must be a positive integer, got 0"):
        batched.pack(x, 0)
    G = batched.BatchedMLP(2, 2, 2, 8, 1)
    Gp = batched.Packed(G, 2)
    assert batched.is_batched(Gp) and batched.n_models(Gp) == 2
    z = torch.randn(2, 8, 2)
    assert torch.equal(Gp(z), batched.pack(G(z), 2))


def test_packed_benchmark_trains_a_wider_critic():
    cfg = toy.ToyConfig(losses=("gan", "wgan-gp"), pack=4, **TINY)
    for name in cfg.losses:
        D, G, _, _ = toy.train_loss(cfg, name, progress=False)
        assert D.in_dim == 8 and G.out_dim == 2
        assert toy.evaluate(G, cfg)[0].n_modes == 8
    msg = r"pack must divide batch, got pack=3 \(gan\) and batch=16"
    with pytest.raises(ValueError, match=msg):
        toy.run_benchmark(pack=3, progress=False, **TINY)


def test_pack_1_is_the_old_benchmark():
    # the loop without packing, EMA or schedule, written out: the benchmark must match it
    from ganlib import batched, train, wgan
    cfg = toy.ToyConfig(losses=("gan",), **TINY)
    D, G, hist, _ = toy.train_loss(cfg, "gan", progress=False)
    off = toy.ALL_LOSSES.index("gan")
    g_init = torch.Generator().manual_seed(off)
    g_data = torch.Generator().manual_seed(500 + off)
    S, B = cfg.seeds, cfg.batch
    G0 = batched.BatchedMLP(S, 2, 2, cfg.width, cfg.depth, "relu", g_init)
    D0 = batched.BatchedMLP(S, 2, 1, cfg.width, cfg.depth, "relu", g_init)
    rec = toy.get_recipe("gan")
    opt_d = wgan.make_optimizer(D0.parameters(), rec)
    opt_g = wgan.make_optimizer(G0.parameters(), rec)
    mix = toy.target("ring")
    for _ in range(cfg.iters):
        train.d_step(D0, G0, opt_d, mix.sample(S * B, g_data).view(S, B, 2),
                     torch.randn(S, B, 2, generator=g_data), rec.loss.d_loss)
        train.g_step(D0, G0, opt_g, torch.randn(S, B, 2, generator=g_data), rec.loss.g_loss)
    assert all(torch.equal(a, b) for a, b in zip(G.parameters(), G0.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(D.parameters(), D0.parameters()))


def test_ema_math():
    from ganlib import batched
    avg, model = batched.BatchedMLP(1, 2, 2, 4, 1), batched.BatchedMLP(1, 2, 2, 4, 1)
    a0 = [p.clone() for p in avg.parameters()]
    toy.ema_update(avg, model, 0.9)
    for a, p, q in zip(avg.parameters(), a0, model.parameters()):
        assert torch.allclose(a, 0.9 * p + 0.1 * q)
    toy.ema_update(avg, model, 0.0)                                    # decay 0 copies
    assert all(torch.equal(a, q) for a, q in zip(avg.parameters(), model.parameters()))
    assert toy.ema_decay(0.999, 1) == pytest.approx(2 / 11)            # warm-up ...
    assert toy.ema_decay(0.999, 10 ** 6) == 0.999                      # ... then the decay
    assert toy.ema_decay(0.5, 1) == pytest.approx(2 / 11)


def test_ema_generator_is_evaluated():
    cfg = toy.ToyConfig(losses=("gan",), ema=0.9, **TINY)
    _, G_avg, _, _ = toy.train_loss(cfg, "gan", progress=False)
    _, G, _, _ = toy.train_loss(replace(cfg, ema=0.0), "gan", progress=False)
    assert not all(torch.equal(a, b) for a, b in zip(G_avg.parameters(), G.parameters()))
    assert all(not p.requires_grad for p in G_avg.parameters())
    with pytest.raises(ValueError, match="ema must be a decay in"):
        toy.run_benchmark(ema=1.0, progress=False, **TINY)


def test_lr_schedule_values():
    f = toy.lr_factor
    assert [f(t, 10) for t in (1, 10)] == [1.0, 1.0]
    assert [f(t, 10, "step", 0.8, 0.1) for t in (1, 8, 9, 10)] == [1.0, 1.0, 0.1, 0.1]
    assert [f(t, 10, "linear", 0.5, 0.0) for t in (5, 6, 8, 10)] == pytest.approx([1, 0.8, 0.4, 0])
    assert f(100, 100, "linear", 0.5, 0.01) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="unknown schedule 'cosine'"):
        f(1, 10, "cosine")
    with pytest.raises(ValueError, match="decay_start must be a fraction"):
        toy.run_benchmark(decay_start=1.0, progress=False, **TINY)


def test_schedule_sets_the_optimizers_lr(monkeypatch):
    seen = []
    real_g_step = toy.train.g_step

    def spy(D, G, opt_g, z, g_loss):
        seen.append(opt_g.param_groups[0]["lr"])
        return real_g_step(D, G, opt_g, z, g_loss)

    monkeypatch.setattr(toy.train, "g_step", spy)
    cfg = toy.ToyConfig(losses=("gan",), **{**TINY, "iters": 4}, schedule="step",
                        decay_start=0.5, lr_end=0.1)
    toy.train_loss(cfg, "gan", progress=False)
    assert seen == pytest.approx([1e-4, 1e-4, 1e-5, 1e-5])


@pytest.mark.parametrize("loss, d_steps, expected", [("gan", 0, 1), ("gan", 2, 2),
                                                       ("wgan-gp", 0, 5), ("wgan-gp", 1, 1)])
def test_d_steps_overrides_the_recipe(monkeypatch, loss, d_steps, expected):
    calls = {"d": 0, "g": 0}
    real_d, real_g = toy.train.d_step, toy.train.g_step

    def d_spy(*a, **k):
        calls["d"] += 1
        return real_d(*a, **k)

    def g_spy(*a, **k):
        calls["g"] += 1
        return real_g(*a, **k)

    monkeypatch.setattr(toy.train, "d_step", d_spy)
    monkeypatch.setattr(toy.train, "g_step", g_spy)
    cfg = toy.ToyConfig(losses=(loss,), d_steps=d_steps, **TINY)
    toy.train_loss(cfg, loss, progress=False)
    assert calls == {"d": expected * TINY["iters"], "g": TINY["iters"]}
    with pytest.raises(ValueError, match="d_steps must be a non-negative integer, got -1"):
        toy.train_loss(toy.ToyConfig(losses=(loss,), d_steps=-1, **TINY), loss, progress=False)


def test_book_config():
    cfg = toy.book_config("grid", 3)
    assert cfg == toy.ToyConfig(**{**toy.BOOK_CONFIG, "dataset": "grid", "seed": 3})
    assert "gan" in cfg.losses and cfg.n_eval == 2500 and cfg.dataset == "grid"
    assert toy.book_config("ring", iters=7).iters == 7
    with pytest.raises(ValueError, match="unknown dataset 'moons'"):
        toy.book_config("moons")


def test_book_configs():
    (ring,) = toy.book_configs("ring", 2)
    assert ring == toy.book_config("ring", 2)
    adv, mmd = toy.book_configs("grid", 2, device="cpu")
    assert adv == toy.book_config("grid", 2)
    assert mmd == toy.ToyConfig(**{**toy.BOOK_CONFIG, **toy.BOOK_MMD, "dataset": "grid",
                                   "seed": 2})
    assert mmd.losses == ("mmd",) and mmd.seed == adv.seed and mmd.batch == adv.batch
    assert toy.book_configs("grid", iters=7)[1].iters == 7
    with pytest.raises(ValueError, match="unknown dataset 'moons'"):
        toy.book_configs("moons")


def test_mmd_bandwidths_are_the_configs(monkeypatch):
    seen = []
    real_mmd2 = toy.distances.mmd2
    monkeypatch.setattr(toy.distances, "mmd2",
                        lambda f, r, h: seen.append(tuple(h)) or real_mmd2(f, r, h))
    cfg = toy.ToyConfig(losses=("mmd",), mmd_bandwidths=(0.2, 0.7), **TINY)
    toy.train_loss(cfg, "mmd", progress=False)
    assert set(seen) == {(0.2, 0.7)} and len(seen) == TINY["iters"] * TINY["seeds"]
    assert toy.ToyConfig().mmd_bandwidths == toy.MMD_BANDWIDTHS
    with pytest.raises(ValueError, match="mmd_bandwidths must be positive"):
        toy.train_loss(toy.ToyConfig(losses=("mmd",), mmd_bandwidths=(0.1, 0.0), **TINY), "mmd",
                       progress=False)


def test_save_samples(tmp_path):
    cfg = toy.ToyConfig(losses=("gan", "pacgan2"), seed=1, **TINY)
    res = toy.run_benchmark(cfg, progress=False, save_samples=str(tmp_path / "s"))
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [
        "ring_gan_seed2.npy", "ring_gan_seed3.npy", "ring_pacgan2_seed2.npy",
        "ring_pacgan2_seed3.npy"]
    x = np.load(tmp_path / "s" / "ring_gan_seed3.npy")
    assert x.shape == (200, 2) and x.dtype == np.float32
    r = next(r for r in res if r["loss"] == "gan" and r["seed"] == 3)   # the points scored
    assert metrics.mode_stats(torch.from_numpy(x), toy.target("ring")).modes == r["modes"]


def test_cli_book(tmp_path, monkeypatch, capsys):
    tiny = {**toy.BOOK_CONFIG, **TINY, "n_eval": 2500}
    monkeypatch.setattr(toy, "BOOK_CONFIG", tiny)
    monkeypatch.setattr(toy, "BOOK_MMD", {**toy.BOOK_MMD, "iters": 4})
    rc = bench_main.main(["toy", "--book", "--dataset", "grid", "--seed", "0", "--device", "cpu",
                          "--no-progress", "--save-samples", str(tmp_path)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "iters=3" in out and "dataset='grid'" in out and "CPU s per loss" in out
    assert "iters=4" in out and "mmd_bandwidths=(0.1, 0.3, 1.0)" in out     # the MMD run
    for loss in (*tiny["losses"], "mmd"):
        for k in (0, 1):
            x = np.load(tmp_path / f"grid_{loss}_seed{k}.npy")
            assert x.shape == (2500, 2) and np.isfinite(x).all()


def test_curve_scores_the_evaluated_generator_without_changing_training(monkeypatch):
    cfg = toy.ToyConfig(losses=("gan",), ema=0.5, **{**TINY, "iters": 5})
    plain = toy.run_benchmark(cfg, progress=False)
    with_curve = toy.run_benchmark(cfg, progress=False, curve_every=2)
    assert "curve" not in plain[0]
    for a, b in zip(plain, with_curve):
        c = b["curve"]
        assert c["step"] == [2, 4, 5]                       # every 2 iterations and the end
        assert (c["modes"][-1], c["high_quality"][-1]) == (b["modes"], b["high_quality"])
    # the trained networks do not depend on the scoring
    _, G0, _, _ = toy.train_loss(cfg, "gan", False)
    calls, real_evaluate = [], toy.evaluate

    def spy(G, c):
        calls.append((G, [p.detach().clone() for p in G.parameters()]))
        return real_evaluate(G, c)

    monkeypatch.setattr(toy, "evaluate", spy)
    curve = toy.History()
    _, G1, _, _ = toy.train_loss(replace(cfg, curve_every=2), "gan", False, curve)
    for p0, p1 in zip(G0.parameters(), G1.parameters()):
        assert torch.equal(p0, p1)
    # it scores the averaged generator (the one returned), as it was at steps 2, 4 and 5
    assert len(calls) == 3 and all(G is G1 for G, _ in calls)
    assert all(torch.equal(a, b) for a, b in zip(calls[-1][1], G1.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(calls[0][1], G1.parameters()))
    assert curve["step"].tolist() == [2, 4, 5] and len(curve["modes_1"]) == 3
    sw = toy.run_benchmark(cfg, progress=False, curve_every=2, losses=("sw",))  # no critic
    assert sw[0]["curve"]["step"] == [2, 4, 5]
    with pytest.raises(ValueError, match="curve_every must be a non-negative integer"):
        toy.run_benchmark(cfg, progress=False, curve_every=-1)
