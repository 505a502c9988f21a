"""2D mode-coverage benchmark: ``python -m ganlib.bench toy [options]``.

Trains the book's losses on the 8-Gaussian ring or the 25-Gaussian grid (``ganlib.data``,
VEEGAN/PacGAN protocol) for several seeds at once, each loss as ONE batched model
(:mod:`ganlib.batched`), and reports per loss, averaged over seeds: modes covered,
share of high-quality samples (within 3 std of the nearest mode) and the reverse KL of the
mode histogram (:func:`ganlib.metrics.mode_stats` on 2,500 generated samples per seed), plus
training throughput in seed-iterations per second (generator iterations x seeds / s).

Losses (each player minimizes its loss; see the modules named):

* ``gan``          non-saturating GAN (``losses.get_loss("gan")``), Adam, 1 D step per G step;
* ``pacgan2``, ``pacgan4``  the same with PacGAN packing (Lin et al. 2018): D scores packs of
  2 (4) samples concatenated, real and generated alike (:func:`ganlib.batched.pack`);
  the option ``pack`` packs every loss;
* ``fgan-<name>``  f-GAN with divergence <name> from ``ganlib.fdiv`` (kl, reverse_kl,
  pearson, hellinger, js, gan; ``losses.get_loss("fgan-<name>")``): the critic ascends the
  variational bound, the generator uses the "alternative" loss -E[g_f(V(G(z)))] of Nowozin
  et al. (2016, Sec. 3.2); Adam, 1 D step per G step;
* ``wgan-clip``    WGAN, weight clipping c = 0.01 as the projection, RMSProp, 5 critic steps
  (``wgan.get_critic_config("clip")``);
* ``wgan-gp``      WGAN-GP, the gradient penalty with lambda = 10 added to the critic's
  loss, Adam betas (0.5, 0.9), 5 critic steps (``wgan.get_critic_config("gp")``);
* ``mmd``, ``sw``  no adversary: the generator minimizes MMD^2 (Gaussian kernels of the
  config's ``mmd_bandwidths``, by default 0.01 to 3, :mod:`ganlib.distances`) or SW_2^2 (64 random directions a step,
  :mod:`ganlib.transport`) between its batch and a data batch, Adam lr 1e-3; the critic is
  not used.

Each loss is a :class:`Recipe` (:func:`get_recipe`); the adversarial ones train with
``ganlib.train.d_step`` and ``ganlib.train.g_step`` on the batched models, the same steps the
chapters use for one model. The logged d_loss is D's whole loss, penalty included.

Nets: generator and critic are MLPs with ``depth`` hidden ReLU layers of ``width`` units
(WGAN-GP's toy setting: 3 x 512, batch 256), latent z ~ N(0, I_2).

Example: ``python -m ganlib.bench toy --dataset grid --losses gan,wgan-gp --seeds 4 --iters 20000``
"""
from __future__ import annotations

import argparse
import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import partial

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import batched, checks, data, distances, losses, metrics, runtime, train, transport, wgan
from ..train import DivergenceError, History, check_finite

DATASETS = {"ring": data.ring, "grid": data.grid}
FGAN_NAMES = ("kl", "reverse_kl", "pearson", "hellinger", "js", "gan")
MMD_BANDWIDTHS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
DEFAULT_LOSSES = ("gan", "fgan-kl", "fgan-reverse_kl", "wgan-clip", "wgan-gp")


@dataclass(frozen=True)
class ToyConfig:
    """One benchmark run; printed at the start and stored in every result."""

    dataset: str = "ring"             # "ring" (8 modes, std 0.01) or "grid" (25 modes, std 0.05)
    losses: tuple = DEFAULT_LOSSES    # loss names from ALL_LOSSES
    seeds: int = 3                    # seeds trained at once (leading axis S of every weight)
    iters: int = 2000                 # generator iterations
    batch: int = 256                  # samples per step and seed
    width: int = 512                  # hidden units of G and D
    depth: int = 3                    # hidden layers of G and D
    latent_dim: int = 2               # z ~ N(0, I_latent_dim)
    lr_scale: float = 1.0             # multiplies every loss's default learning rate
    n_eval: int = 2500                # generated samples per seed for mode_stats
    log_every: int = 100              # steps between divergence checks / history records
    device: str = "cpu"               # "cpu" or "cuda"
    seed: int = 0                     # base seed; model and data streams derive from it
    pack: int = 1                     # PacGAN: D scores packs of `pack` samples (input 2 pack);
                                      # it must divide batch; 1 = no packing
    ema: float = 0.0                  # decay of the generator's weight average (0 = none);
                                      # when > 0 the average is the generator evaluated
    schedule: str = "constant"        # learning rate over training: constant, step or linear
    decay_start: float = 0.8          # fraction of the iterations after which the lr decays
    lr_end: float = 0.1               # lr multiplier reached at the end (step: after decay_start)
    betas: tuple | None = None        # Adam betas for every loss (None: each recipe's own)
    d_steps: int = 0                  # D steps per G step for every loss (0: each recipe's own
                                      # n_critic, e.g. 5 for the WGANs)
    curve_every: int = 0              # score the evaluated generator every this many G
                                      # iterations and at the end (0: only at the end)
    mmd_bandwidths: tuple = MMD_BANDWIDTHS  # Gaussian kernel bandwidths of the mmd loss


@dataclass(frozen=True)
class Recipe:
    """How one loss is trained: its losses, optimizer, critic steps and constraint on D."""

    loss: losses.GANLoss | None       # D's and G's losses (None for the adversary-free ones)
    optimizer: str = "adam"           # "adam" or "rmsprop" (wgan.make_optimizer)
    lr: float = 1e-4                  # default learning rate of both players
    betas: tuple = (0.5, 0.9)         # Adam betas
    n_critic: int = 1                 # D steps per G step
    penalty: Callable | None = None   # penalty(D, real, fake, generator=g), added to D's loss;
                                      # train_loss binds the run's generator g
    project: Callable | None = None   # project(D) after each D step (and at initialization)
    direct: Callable | None = None    # (fake (B, 2), real (B, 2), torch.Generator, ToyConfig)
                                      # -> scalar that G minimizes with no critic (MMD, SW)
    pack: int = 1                     # PacGAN packing of this loss, times the config's pack


def _critic_recipe(method: str, **constraint) -> Recipe:
    cfg = wgan.get_critic_config(method)
    return Recipe(losses.get_loss("wgan"), cfg.optimizer, cfg.lr, cfg.betas, cfg.n_critic,
                  **constraint)


RECIPES: dict[str, Recipe] = {
    "gan": Recipe(losses.get_loss("gan")),
    **{f"fgan-{n}": Recipe(losses.get_loss(f"fgan-{n}")) for n in FGAN_NAMES},
    "wgan-clip": _critic_recipe(
        "clip", project=partial(wgan.clip_weights, c=wgan.get_critic_config("clip").clip)),
    "wgan-gp": _critic_recipe(
        "gp", penalty=partial(wgan.gradient_penalty, lam=wgan.get_critic_config("gp").lam)),
    "mmd": Recipe(None, lr=1e-3,
                  direct=lambda f, r, g, cfg: distances.mmd2(f, r, cfg.mmd_bandwidths)),
    "sw": Recipe(None, lr=1e-3,
                 direct=lambda f, r, g, cfg: transport.sliced_wasserstein(f, r, 64,
                                                                          generator=g) ** 2),
    "pacgan2": Recipe(losses.get_loss("gan"), pack=2),
    "pacgan4": Recipe(losses.get_loss("gan"), pack=4),
}
ALL_LOSSES = tuple(RECIPES)


def get_recipe(name: str) -> Recipe:
    """The :class:`Recipe` of loss ``name``; ValueError listing :data:`ALL_LOSSES` otherwise."""
    return checks.lookup(RECIPES, name, "loss")


def _direct_step(G, opt_g, x, z, recipe: Recipe, g_data, cfg: ToyConfig) -> torch.Tensor:
    """One generator step on an adversary-free loss, summed over seeds; returns the mean."""
    fake = G(z)                                                  # (S, B, 2)
    loss = sum(recipe.direct(fake[s], x[s], g_data, cfg) for s in range(fake.shape[0]))
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    opt_g.step()
    return loss.detach() / fake.shape[0]


SCHEDULES = ("constant", "step", "linear")


def lr_factor(step: int, iters: int, schedule: str = "constant", decay_start: float = 0.8,
              lr_end: float = 0.1) -> float:
    """The learning-rate multiplier at generator iteration ``step`` (1..iters).

    ``constant``: 1. ``step``: 1 for step <= decay_start * iters, then lr_end (chapter 2's
    late drop). ``linear``: 1 up to t0 = decay_start * iters, then linear in the step down to
    lr_end at step = iters: 1 + (lr_end - 1) (step - t0) / (iters - t0).
    """
    checks.check_choice("schedule", schedule, SCHEDULES)
    t0 = decay_start * iters
    if schedule == "constant" or step <= t0:
        return 1.0
    if schedule == "step":
        return float(lr_end)
    return 1.0 + (lr_end - 1.0) * (step - t0) / (iters - t0)


def ema_decay(decay: float, n_updates: int) -> float:
    """The decay used at update ``n_updates`` (1, 2, ...): min(decay, (1 + n) / (10 + n)).

    The warm-up of ``tf.train.ExponentialMovingAverage``: early averages forget the random
    initial weights quickly, later ones average over about 1 / (1 - decay) steps.
    """
    return min(decay, (1.0 + n_updates) / (10.0 + n_updates))


@torch.no_grad()
def ema_update(avg: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """In place: every parameter of ``avg`` becomes decay * avg + (1 - decay) * model."""
    for pa, p in zip(avg.parameters(), model.parameters()):
        pa.lerp_(p, 1.0 - decay)


def _check_config(cfg: ToyConfig) -> ToyConfig:
    checks.check_choice("dataset", cfg.dataset, DATASETS)
    for name in cfg.losses:
        get_recipe(name)
    for name in ("seeds", "iters", "batch", "width", "latent_dim", "n_eval", "log_every"):
        checks.check_int(name, getattr(cfg, name))
    checks.check_int("depth", cfg.depth, 0)
    checks.check_int("d_steps", cfg.d_steps, 0)
    checks.check_int("curve_every", cfg.curve_every, 0)
    checks.check_positive("lr_scale", cfg.lr_scale)
    checks.check_int("pack", cfg.pack)
    for name in cfg.losses:
        m = cfg.pack * get_recipe(name).pack
        if cfg.batch % m:
            raise ValueError(f"pack must divide batch, got pack={m} ({name}) and batch={cfg.batch}")
    if not (isinstance(cfg.ema, (int, float)) and 0.0 <= cfg.ema < 1.0):
        raise ValueError(f"ema must be a decay in [0, 1), got {cfg.ema!r}")
    checks.check_choice("schedule", cfg.schedule, SCHEDULES)
    if not (isinstance(cfg.decay_start, (int, float)) and 0.0 <= cfg.decay_start < 1.0):
        raise ValueError(f"decay_start must be a fraction in [0, 1), got {cfg.decay_start!r}")
    checks.check_positive("lr_end", cfg.lr_end)
    checks.all_positive("mmd_bandwidths", cfg.mmd_bandwidths)
    if cfg.betas is not None and not (len(cfg.betas) == 2 and all(0 <= b < 1 for b in cfg.betas)):
        raise ValueError(f"betas must be two numbers in [0, 1), got {cfg.betas!r}")
    runtime.get_device(cfg.device)
    return cfg


def target(dataset: str) -> data.GaussianMixture:
    """The mixture called ``dataset``: ``data.ring()`` or ``data.grid()``."""
    return checks.lookup(DATASETS, dataset, "dataset")()


def train_loss(cfg: ToyConfig, name: str, progress: bool = True,
               curve: History | None = None):
    """Train loss ``name`` for ``cfg.seeds`` seeds at once; return (D, G, history, timing).

    D and G are :class:`ganlib.batched.BatchedMLP` with ``cfg.seeds`` seeds (D of input
    dimension 2 ``cfg.pack``: with packing it scores packs of real or of generated samples,
    :func:`ganlib.batched.pack`); with ``cfg.ema`` > 0 the returned G is the weight average
    of the trained generator (:func:`ema_update`). The learning rates follow
    :func:`lr_factor` (generator iteration by iteration, both players). ``timing`` is
    ``{"wall_s": ..., "cpu_s": ...}``, the wall time (synchronized on CUDA) and the process
    CPU time of the training loop alone. Raises
    :class:`ganlib.train.DivergenceError` naming the step if a loss becomes NaN/inf.

    With ``cfg.curve_every`` > 0 and a ``curve`` History, the generator that is evaluated
    (the weight average when ``cfg.ema`` > 0) is scored by :func:`evaluate` every
    ``cfg.curve_every`` iterations and at the end, and ``curve`` logs ``modes_<s>`` and
    ``high_quality_<s>`` for each seed s. The scoring draws its own latent codes, so the
    training streams, and the trained networks, are the same with or without it; its time
    is left out of ``timing``.
    """
    cfg = _check_config(cfg)
    recipe = get_recipe(name)
    dev = runtime.get_device(cfg.device)
    mix = target(cfg.dataset)
    offset = ALL_LOSSES.index(name)
    g_init = torch.Generator(device=dev).manual_seed(1000 * cfg.seed + offset)
    g_data = torch.Generator(device=dev).manual_seed(1000 * cfg.seed + 500 + offset)
    S, B, k = cfg.seeds, cfg.batch, cfg.latent_dim
    G = batched.BatchedMLP(S, k, 2, cfg.width, cfg.depth, "relu", g_init)
    m = cfg.pack * recipe.pack
    D = batched.BatchedMLP(S, 2 * m, 1, cfg.width, cfg.depth, "relu", g_init)
    G_pack = batched.Packed(G, m)                            # z (S, B, k) -> (S, B/m, 2m)
    G_avg = copy.deepcopy(G).requires_grad_(False) if cfg.ema > 0 else None
    if recipe.project is not None:
        recipe.project(D)
    scaled = replace(recipe, lr=recipe.lr * cfg.lr_scale)
    if cfg.d_steps:
        scaled = replace(scaled, n_critic=cfg.d_steps)
    if cfg.betas is not None:
        scaled = replace(scaled, betas=tuple(cfg.betas))
    opt_d = wgan.make_optimizer(D.parameters(), scaled)
    opt_g = wgan.make_optimizer(G.parameters(), scaled)
    penalty = None if recipe.penalty is None else partial(recipe.penalty, generator=g_data)

    def real():
        return mix.sample(S * B, g_data).view(S, B, 2)      # (S, B, 2)

    def real_packed():
        return batched.pack(real(), m)                       # (S, B/m, 2m)

    def set_lr(step):
        f = lr_factor(step, cfg.iters, cfg.schedule, cfg.decay_start, cfg.lr_end)
        for opt in (opt_d, opt_g):
            for group in opt.param_groups:
                group["lr"] = scaled.lr * f

    def noise():
        return torch.randn(S, B, k, generator=g_data, device=dev)

    def score(step):                    # the curve; its time is taken out of the timing
        nonlocal t0, c0
        if curve is None or not cfg.curve_every or (step % cfg.curve_every
                                                    and step != cfg.iters):
            return
        w1, c1 = time.perf_counter(), time.process_time()
        _log_curve(curve, step, G if G_avg is None else G_avg, cfg)
        t0, c0 = t0 + time.perf_counter() - w1, c0 + time.process_time() - c1

    history, d_buf, g_buf = History(), [], []
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    t0, c0 = time.perf_counter(), time.process_time()
    bar = tqdm(range(1, cfg.iters + 1), desc=f"{cfg.dataset}/{name}", disable=not progress,
               mininterval=1.0)
    for step in bar:
        set_lr(step)
        if recipe.direct is not None:
            g_buf.append(_direct_step(G, opt_g, real(), noise(), recipe, g_data, cfg))
            d_buf.append(torch.zeros((), device=dev))
            if G_avg is not None:
                ema_update(G_avg, G, ema_decay(cfg.ema, step))
            if step % cfg.log_every == 0 or step == cfg.iters:
                g_mean = torch.stack(g_buf).mean().item()
                check_finite(step, 1e8, g_loss=g_mean)
                history.log(step, d_loss=0.0, g_loss=g_mean)
                d_buf, g_buf = [], []
            score(step)
            continue
        for _ in range(scaled.n_critic):
            d_buf.append(train.d_step(D, G_pack, opt_d, real_packed(), noise(),
                                      recipe.loss.d_loss, penalty, recipe.project))
        g_buf.append(train.g_step(D, G_pack, opt_g, noise(), recipe.loss.g_loss))
        if G_avg is not None:
            ema_update(G_avg, G, ema_decay(cfg.ema, step))
        if step % cfg.log_every == 0 or step == cfg.iters:
            d_mean, g_mean = torch.stack(d_buf).mean().item(), torch.stack(g_buf).mean().item()
            check_finite(step, 1e8, d_loss=d_mean, g_loss=g_mean)
            history.log(step, d_loss=d_mean, g_loss=g_mean)
            bar.set_postfix(d=f"{d_mean:.3f}", g=f"{g_mean:.3f}")
            d_buf, g_buf = [], []
        score(step)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    timing = {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}
    return D, (G if G_avg is None else G_avg), history, timing


def _log_curve(curve: History, step: int, G: batched.BatchedMLP, cfg: ToyConfig) -> None:
    stats = evaluate(G, cfg)
    curve.log(step, **{f"{k}_{s}": getattr(st, k) for s, st in enumerate(stats)
                       for k in ("modes", "high_quality")})


def evaluate(G: batched.BatchedMLP, cfg: ToyConfig) -> list[metrics.ModeStats]:
    """mode_stats of ``cfg.n_eval`` samples from each seed's generator."""
    x = torch.from_numpy(generate(G, cfg))
    mix = target(cfg.dataset)
    out = []
    for s in range(G.n_seeds):
        xs = x[s]
        if not torch.isfinite(xs).all():
            raise DivergenceError(f"seed {s}: generated samples contain NaN/inf after training")
        out.append(metrics.mode_stats(xs, mix))
    return out


def run_benchmark(cfg: ToyConfig | None = None, progress: bool = True, save_samples=None,
                  **overrides) -> list[dict]:
    """Train every loss in ``cfg.losses``; return one result dict per (loss, seed).

    Keys: loss, dataset, seed, modes, n_modes, high_quality, reverse_kl, seed_iters_per_s
    and seed_iters_per_cpu_s (the loss's throughput per wall-clock and per CPU second, the
    same for all its seeds), cpu_s (the CPU seconds of the loss's training, all seeds),
    status ("ok" or the divergence message; metrics are NaN then) and config (the ToyConfig
    as a dict). With ``cfg.curve_every`` > 0, "curve" holds that seed's scores during
    training: ``{"step": [...], "modes": [...], "high_quality": [...]}``.
    ``overrides`` replace fields of ``cfg`` (e.g. ``run_benchmark(dataset="grid", seeds=2)``).
    With ``save_samples`` (a directory) each loss's and seed's ``n_eval`` generated points,
    the ones scored, are saved as :func:`sample_file` (an (n_eval, 2) float32 array). Seeds
    are numbered across runs: model s of base seed ``cfg.seed`` is seed
    ``cfg.seed * cfg.seeds + s`` (``--seed 1`` with 2 seeds trains seeds 2 and 3), in the
    files and in the results' "seed".
    """
    cfg = _check_config(replace(cfg or ToyConfig(), **overrides))
    if save_samples is not None:
        import os
        os.makedirs(save_samples, exist_ok=True)
    results = []
    for name in cfg.losses:
        curve = History()
        try:
            _, G, _, timing = train_loss(cfg, name, progress, curve)
            stats, status = evaluate(G, cfg), "ok"
            if save_samples is not None:
                for s, xs in enumerate(generate(G, cfg)):
                    k = cfg.seed * cfg.seeds + s
                    np.save(sample_file(save_samples, cfg.dataset, name, k), xs)
            secs, cpu = timing["wall_s"], timing["cpu_s"]
        except DivergenceError as err:
            stats, status, secs, cpu = [None] * cfg.seeds, str(err), math.nan, math.nan
        n_modes = target(cfg.dataset).n_components
        for s, st in enumerate(stats):
            results.append({
                "loss": name, "dataset": cfg.dataset, "seed": cfg.seed * cfg.seeds + s,
                "modes": st.modes if st else math.nan, "n_modes": n_modes,
                "high_quality": st.high_quality if st else math.nan,
                "reverse_kl": st.reverse_kl if st else math.nan,
                "seed_iters_per_s": cfg.iters * cfg.seeds / secs,
                "seed_iters_per_cpu_s": cfg.iters * cfg.seeds / cpu,
                "cpu_s": cpu, "status": status, "config": asdict(cfg)})
            if cfg.curve_every and st:
                results[-1]["curve"] = {"step": curve["step"].tolist(),
                                        **{k: curve[f"{k}_{s}"].tolist()
                                           for k in ("modes", "high_quality")}}
    return results


def summarize(results: list[dict]) -> list[dict]:
    """Mean (and min) over seeds per (dataset, loss): modes, high_quality, reverse_kl, throughput."""
    rows = []
    keys = list(dict.fromkeys((r["dataset"], r["loss"]) for r in results))
    for ds, loss in keys:
        rs = [r for r in results if r["dataset"] == ds and r["loss"] == loss]
        ok = [r for r in rs if r["status"] == "ok"]
        def mean(k):
            return float(np.mean([r[k] for r in ok])) if ok else math.nan
        rows.append({"dataset": ds, "loss": loss, "seeds": len(rs), "diverged": len(rs) - len(ok),
                     "n_modes": rs[0]["n_modes"], "modes": mean("modes"),
                     "min_modes": min((r["modes"] for r in ok), default=math.nan),
                     "high_quality": mean("high_quality"), "reverse_kl": mean("reverse_kl"),
                     "seed_iters_per_s": rs[0]["seed_iters_per_s"],
                     "seed_iters_per_cpu_s": rs[0]["seed_iters_per_cpu_s"],
                     "cpu_s": rs[0].get("cpu_s", math.nan)})
    return rows


# The configuration the book's chapter 4 runs (chosen by ``python -m ganlib.bench toy_sweep``):
# 2 seeds, the non-saturating GAN next to PacGAN2 (packs of 2), G and D with 3 hidden layers
# of 128 ReLU units, batch 256, two D steps per G step, Adam betas (0.5, 0.999) at lr 1e-3
# for half the 3,000 iterations, then linearly down to 1e-5, and the generator's EMA (decay
# 0.999) evaluated, scored every 250 iterations for the curve the chapter plots. Defined
# once; ``--book`` runs exactly this.
BOOK_CONFIG = dict(losses=("gan", "pacgan2"), seeds=2, iters=3000, batch=256, width=128,
                   depth=3, lr_scale=10.0, betas=(0.5, 0.999), schedule="linear",
                   decay_start=0.5, lr_end=0.01, ema=0.999, d_steps=2, curve_every=250)


# On the grid the book adds the adversary-free MMD generator (chapter 10's loss), which needs
# more, cheaper iterations to sharpen: BOOK_CONFIG with these fields replaced. Kernels of
# 2, 6 and 20 grid standard deviations; 5,000 iterations with the linear decay from a
# fifth of the way; the last generator evaluated, as an average lags behind its sharpening
# (measured with the curves of ``toy_sweep --grid mmd``).
BOOK_MMD = dict(losses=("mmd",), iters=5000, decay_start=0.2, ema=0.0,
                mmd_bandwidths=(0.1, 0.3, 1.0))


def book_config(dataset: str = "ring", seed: int = 0, **overrides) -> ToyConfig:
    """The chapter's adversarial :class:`ToyConfig` on ``dataset`` with base seed ``seed``
    (:data:`BOOK_CONFIG`; ``overrides`` replace fields, e.g. for a tiny test)."""
    checks.check_choice("dataset", dataset, DATASETS)
    checks.check_int("seed", seed, 0)
    return _check_config(ToyConfig(**{**BOOK_CONFIG, "dataset": dataset, "seed": seed,
                                      **overrides}))


def book_configs(dataset: str = "ring", seed: int = 0, **overrides) -> tuple[ToyConfig, ...]:
    """Every run the chapter makes on ``dataset``: :func:`book_config`, and on the grid also
    the MMD run (:data:`BOOK_MMD`); ``overrides`` replace fields of each."""
    checks.check_choice("dataset", dataset, DATASETS)
    runs = ({}, BOOK_MMD) if dataset == "grid" else ({},)
    return tuple(book_config(dataset, seed, **{**run, **overrides}) for run in runs)


def sample_file(directory, dataset: str, loss: str, seed: int) -> str:
    """``directory/<dataset>_<loss>_seed<seed>.npy``, where ``--save-samples`` writes."""
    import os
    return os.path.join(directory, f"{dataset}_{loss}_seed{seed}.npy")


def generate(G: batched.BatchedMLP, cfg: ToyConfig) -> np.ndarray:
    """The ``cfg.n_eval`` points per seed that :func:`evaluate` scores, (S, n_eval, 2) float32."""
    dev = next(G.parameters()).device
    g = torch.Generator(device=dev).manual_seed(1000 * cfg.seed + 999)
    with torch.no_grad():
        x = G(torch.randn(G.n_seeds, cfg.n_eval, cfg.latent_dim, generator=g, device=dev))
    return x.cpu().numpy()


def format_table(results: list[dict]) -> str:
    """A plain-text table of :func:`summarize`."""
    head = (f"{'dataset':7} {'loss':16} {'seeds':>5} {'modes':>11} {'min':>4} {'HQ %':>6} "
            f"{'rev KL':>7} {'seed-it/s':>9} {'per CPU s':>9}")
    lines = [head, "-" * len(head)]
    for r in summarize(results):
        lines.append(f"{r['dataset']:7} {r['loss']:16} {r['seeds']:5d} "
                     f"{r['modes']:5.1f} / {r['n_modes']:3d} {r['min_modes']:4.0f} "
                     f"{100 * r['high_quality']:6.1f} {r['reverse_kl']:7.3f} "
                     f"{r['seed_iters_per_s']:9.1f} {r['seed_iters_per_cpu_s']:9.1f}"
                     + (f"  ({r['diverged']} diverged)" if r["diverged"] else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ganlib.bench toy",
                                description="2D mode-coverage benchmark (ring, grid) of the GAN losses.")
    p.add_argument("--dataset", default="ring", choices=tuple(DATASETS))
    p.add_argument("--losses", default=",".join(DEFAULT_LOSSES),
                   help=f"comma-separated, from: {', '.join(ALL_LOSSES)} (or 'all')")
    p.add_argument("--seeds", type=int, default=3, help="seeds trained at once")
    p.add_argument("--iters", type=int, default=2000, help="generator iterations")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--lr-scale", type=float, default=1.0,
                   help="multiply every loss's default learning rate (e.g. 10 for short runs)")
    p.add_argument("--device", default=None, choices=("cpu", "cuda"),
                   help="default: cuda when available")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pack", type=int, default=1, help="PacGAN packing of every loss")
    p.add_argument("--ema", type=float, default=0.0, help="generator EMA decay (0: none)")
    p.add_argument("--schedule", default="constant", choices=SCHEDULES)
    p.add_argument("--book", action="store_true",
                   help="run the book's configurations (toy.book_configs: BOOK_CONFIG, and on "
                        "the grid also BOOK_MMD) on --dataset and --seed; the other training "
                        "options are ignored")
    p.add_argument("--save-samples", default=None, metavar="DIR",
                   help="write each loss's and seed's generated points to "
                        "DIR/<dataset>_<loss>_seed<k>.npy")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    names = ALL_LOSSES if a.losses == "all" else tuple(s.strip() for s in a.losses.split(",") if s.strip())
    device = a.device or runtime.get_device().type
    try:
        if a.book:
            cfgs = book_configs(a.dataset, a.seed, device=device)
        else:
            cfgs = (_check_config(ToyConfig(a.dataset, names, a.seeds, a.iters, a.batch, a.width,
                                            a.depth, lr_scale=a.lr_scale, device=device,
                                            seed=a.seed, pack=a.pack, ema=a.ema,
                                            schedule=a.schedule)),)
    except ValueError as err:
        p.error(str(err))
    runtime.set_threads()
    results = []
    for cfg in cfgs:
        print(cfg)
        results += run_benchmark(cfg, progress=not a.no_progress, save_samples=a.save_samples)
    print(format_table(results))
    print("per seed: " + "; ".join(f"{r['loss']} seed {r['seed']}: {r['modes']} modes, "
                                  f"{100 * r['high_quality']:.1f}% HQ" for r in results))
    print("CPU s per loss: " + ", ".join(f"{r['loss']} {r['cpu_s']:.1f}"
                                         for r in summarize(results)))
    return 0
