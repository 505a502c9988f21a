"""The measured sweep that chose :data:`ganlib.bench.toy.BOOK_CONFIG`.

``python -m ganlib.bench toy_sweep [--grid NAME] [--datasets ring,grid] [--losses gan,wgan-gp]``.

Each point is a :class:`ganlib.bench.toy.ToyConfig` (the PacGAN/VEEGAN protocol unchanged:
ring std 0.01, grid std 0.05, 2,500 samples, high quality within 3 std); for each loss it
prints modes, high quality (means over the seeds) and the CPU seconds of training all seeds.
``--grid`` picks a named list of points (:data:`GRIDS`); ``--json FILE`` appends one JSON
line per (point, loss). Run it with ``GANLIB_THREADS=1``, the scale the book is built at.

Measured (2026-12-03, 1 thread on a loaded 2-core machine, means over the seeds; GAN = the
non-saturating GAN): on the ring, packing is what recovers the modes (1,000 it: GAN 3.5/8,
pack 2 8/8), a late lr decay and more iterations raise the high-quality share (3,000 it,
batch 128: 26% -> 33%; batch 256: 71-75%), EMA alone changes little, pack 4 at batch 128
collapses the quality (10%), a wider latent (8) loses whole seeds, depth 3 lifts the GAN's
quality to 90% (at 5.5/8 modes) and width 256 to 82% at twice the cost. BOOK_CONFIG with
one D step, on seeds 0-3: ring GAN 6.75/8 at 88.9%, PacGAN2 8/8 at 73.9%; grid GAN 18.0/25
at 41.7%, PacGAN2 22.25/25 at 3.4%; 132-144 CPU s for ring and grid together. The grid
against iterations (BOOK_CONFIG with one D step, seeds 0-1, ``--grid curve --datasets grid
--losses gan,pacgan2``): GAN 16.5, 18.5, 18.5 modes at 3.5%, 43.5%, 78.9% HQ after 1,000,
3,000, 6,000 iterations (13, 38, 91 CPU s); PacGAN2 19.5, 23.5, 17.0 modes at 1.7%, 3.4%, 26.7% (12, 31, 63 CPU s).

Measured (2026-12-04, same machine; the book's configuration with two D steps per G step on
base seeds 0-3, the second point of ``--grid d_steps``): two D steps per G step instead of
one lift the ring GAN to 8/8 modes at 93.7-94.3% HQ in every pair of seeds (PacGAN2 8/8 at 87-90%); on the grid the GAN
trades modes for sharpness (12.5-14/25 at 76-87% HQ, from 18/25 at 42%), PacGAN2
18.5-22/25 at 13-24%. 2,000 iterations at two D steps (the cost of 3,000 at one): ring GAN
8/8 at 90-92%, too close to the 90% target. Two D steps became BOOK_CONFIG's ``d_steps``.

Measured (2026-12-05, same machine, seeds 0-1): the adversary-free MMD generator on the grid
(``--grid mmd --datasets grid --losses mmd``; BOOK_CONFIG's nets, batch, lr 1e-2 and linear
decay). At BOOK_CONFIG itself (bandwidths 0.01-3, EMA .999, 3,000 it) it covers 25/25 at
54.0% HQ (65 CPU s); without the two narrowest kernels and without the EMA 57.6% (EMA .99:
55.4%); decaying from 0.2 instead of 0.5 of the run 69.0%; and the share is still rising
when the run stops. 6,000 it: 86.6% (93 s). Kernels 0.1, 0.3, 1 with the decay from 0.2:
4,000 it (decay from 0.25) 80.1% (47 s), 5,000 it 85.1% (57 s), 6,000 it 86.8% (69 s); adding the bandwidth 3
at 5,000 it: 80.8%. 5,000 it became ``toy.BOOK_MMD``; every point covered 25/25 modes.
"""
from __future__ import annotations

import argparse
import json
import time

from .. import runtime
from . import toy

BASE = dict(seeds=2, batch=128, width=128, depth=2, lr_scale=10.0, betas=(0.5, 0.999))
LIN = dict(schedule="linear", decay_start=0.5, lr_end=0.01)     # lr 1e-3 -> 1e-5, 2nd half

_BOOK = {k: v for k, v in toy.BOOK_CONFIG.items() if k != "losses"}
_MMD = {k: v for k, v in toy.BOOK_MMD.items() if k != "losses"}

# name -> list of (label, overrides of BASE): the points measured to choose toy.BOOK_CONFIG
# (each took from 5 to 65 CPU seconds at 1 thread; the report of issue 11 lists the results)
GRIDS: dict[str, list[tuple[str, dict]]] = {
    "probe": [                                   # ring, gan and wgan-gp: packing first
        ("1000 it", dict(iters=1000)),
        ("1000 it, ema .99, step", dict(iters=1000, ema=0.99, schedule="step")),
        ("1000 it, ema .99, step, pack 2", dict(iters=1000, ema=0.99, schedule="step", pack=2)),
    ],
    "gan_ring": [                                # ring, gan: schedule, EMA, packing
        ("3000 it", dict(iters=3000)),
        ("3000 it, step .7/.1", dict(iters=3000, schedule="step", decay_start=0.7)),
        ("3000 it, step .7/.1, ema .999", dict(iters=3000, schedule="step", decay_start=0.7,
                                               ema=0.999)),
        ("3000 it, lin, ema .999", dict(iters=3000, ema=0.999, **LIN)),
        ("3000 it, lin, ema .999, pack 2", dict(iters=3000, ema=0.999, pack=2, **LIN)),
    ],
    "gan_ring4": [                               # 4 seeds: pack 4, a wider latent
        ("4 seeds, lin, ema", dict(seeds=4, iters=3000, ema=0.999, **LIN)),
        ("4 seeds, lin, ema, pack 4", dict(seeds=4, iters=3000, ema=0.999, pack=4, **LIN)),
        ("4 seeds, lin, ema, latent 8", dict(seeds=4, iters=3000, ema=0.999, latent_dim=8,
                                             **LIN)),
    ],
    "gan_ring_b256": [                           # batch 256: schedules, EMA, width, depth
        ("b256, step .8/.1, ema", dict(iters=3000, batch=256, schedule="step", ema=0.999)),
        ("b256, lin, ema", dict(iters=3000, batch=256, ema=0.999, **LIN)),
        ("b256, lin, ema, pack 2", dict(iters=3000, batch=256, ema=0.999, pack=2, **LIN)),
        ("b256, lin, no ema", dict(iters=3000, batch=256, **LIN)),
        ("b256, lin, ema, depth 3", dict(iters=3000, batch=256, ema=0.999, depth=3, **LIN)),
        ("b256, lin, ema, width 256", dict(iters=3000, batch=256, ema=0.999, width=256, **LIN)),
    ],
    "d_steps": [                                 # toy.BOOK_CONFIG with one or two D steps
        (f"book, d_steps {n}", {**{k: v for k, v in toy.BOOK_CONFIG.items() if k != "losses"},
                                "d_steps": n}) for n in (1, 2)
    ],
    "book": [                                    # toy.BOOK_CONFIG (run with --losses gan,pacgan2)
        ("book", {k: v for k, v in toy.BOOK_CONFIG.items() if k != "losses"}),
    ],
    "mmd": [                                     # BOOK_CONFIG for mmd on the grid
        ("book", _BOOK),
        ("kernels .03-1, no ema", {**_BOOK, "mmd_bandwidths": (0.03, 0.1, 0.3, 1.0),
                                   "ema": 0.0}),
        ("kernels .03-1, ema .99", {**_BOOK, "mmd_bandwidths": (0.03, 0.1, 0.3, 1.0),
                                    "ema": 0.99}),
        ("kernels .03-1, no ema, decay .2", {**_BOOK, "mmd_bandwidths": (0.03, 0.1, 0.3, 1.0),
                                             "ema": 0.0, "decay_start": 0.2}),
        ("kernels .03-1, no ema, 6000 it", {**_BOOK, "mmd_bandwidths": (0.03, 0.1, 0.3, 1.0),
                                            "ema": 0.0, "iters": 6000}),
        ("book mmd, 4000 it, decay .25", {**_BOOK, **_MMD, "iters": 4000, "decay_start": 0.25}),
        *[(f"book mmd, {n} it", {**_BOOK, **_MMD, "iters": n}) for n in (5000, 6000)],
        ("book mmd, kernels .1-3", {**_BOOK, **_MMD, "mmd_bandwidths": (0.1, 0.3, 1.0, 3.0)}),
    ],
    "curve": [                                   # BOOK_CONFIG against iterations (grid)
        (f"book, {n} it", {**{k: v for k, v in toy.BOOK_CONFIG.items() if k != "losses"},
                           "iters": n}) for n in (1000, 3000, 6000)
    ],
}


def sweep(points, datasets, losses, progress=False, json_path=None):
    rows = []
    for label, over in points:
        for ds in datasets:
            cfg = toy.ToyConfig(**{**BASE, **over, "dataset": ds, "losses": tuple(losses)})
            res = toy.run_benchmark(cfg, progress=progress)
            for r in toy.summarize(res):
                row = {"point": label, **over, **r}
                rows.append(row)
                print(f"{label:34} {ds:4} {r['loss']:10} modes {r['modes']:5.2f}/{r['n_modes']}"
                      f" min {r['min_modes']:3.0f} HQ {100 * r['high_quality']:5.1f}%"
                      f" cpu {r['cpu_s']:6.1f}s", flush=True)
                if json_path:
                    with open(json_path, "a") as f:
                        f.write(json.dumps(row, default=str) + "\n")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ganlib.bench toy_sweep", description=__doc__)
    p.add_argument("--grid", default="probe", choices=tuple(GRIDS))
    p.add_argument("--datasets", default="ring,grid")
    p.add_argument("--losses", default="gan,wgan-gp")
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)
    runtime.set_threads()
    t0 = time.process_time()
    sweep(GRIDS[a.grid], a.datasets.split(","), a.losses.split(","), json_path=a.json)
    print(f"total CPU {time.process_time() - t0:.1f}s")
    return 0
