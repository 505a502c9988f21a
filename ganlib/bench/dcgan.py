"""Time one DCGAN training step: the plain loop vs :class:`ganlib.dcgan.FastGANStep`.

Defaults are the pytorch/examples ``dcgan`` configuration: 64x64 images with 3 channels,
nz = 100, ngf = ndf = 64, batch 128, Adam(lr 2e-4, betas (0.5, 0.999)), non-saturating
generator loss. The data are random images already on the device (as the examples'
``--dry-run`` fake data), so the timing is the training step alone, not data loading.

* plain: per step, index a batch, draw z, ``ganlib.train.d_step``, draw z,
  ``ganlib.train.g_step``, read both losses with ``.item()`` (what a simple logging loop
  does); fp32, default memory layout.
* fast: :class:`ganlib.dcgan.FastGANStep`, losses read once at the end; on CUDA with TF32,
  bf16 autocast, channels_last (networks converted with :func:`ganlib.dcgan.to_channels_last`,
  buffers by the step) and one CUDA graph per step (each can be switched off). With a graph
  the step's random numbers come from the default CUDA generator, seeded with ``--seed``.

The fast path's TF32 setting lives inside its step, so the plain path runs in the process's
default precision whatever order the paths run in.

Usage: ``python -m ganlib.bench dcgan [--device cpu] [--batch 16] [--iters 5] ...``
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from .. import dcgan, train


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ganlib.bench dcgan", description=__doc__.split("\n")[0])
    p.add_argument("--device", default=None, choices=["cpu", "cuda"], help="default: cuda if available")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--iters", type=int, default=50, help="timed steps per path")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps per path first")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--nz", type=int, default=100)
    p.add_argument("--ngf", type=int, default=64)
    p.add_argument("--ndf", type=int, default=64)
    p.add_argument("--paths", default="plain,fast", help="comma-separated: plain, fast")
    p.add_argument("--no-amp", action="store_true", help="fast path: no bf16 autocast")
    p.add_argument("--no-graph", action="store_true", help="fast path: no CUDA graph")
    p.add_argument("--no-channels-last", action="store_true", help="fast path: default layout")
    p.add_argument("--no-tf32", action="store_true", help="fast path: no TF32 / cuDNN autotuning")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    return p


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _models(cfg, device, seed, capturable):
    torch.manual_seed(seed)
    D, G = dcgan.dcgan_pair(cfg, device)
    kw = {"capturable": True} if capturable else {}
    return D, G, dcgan.adam(D.parameters(), **kw), dcgan.adam(G.parameters(), **kw)


def time_plain(cfg, data, batch, iters, warmup, seed) -> tuple[float, float]:
    """Wall and CPU seconds per step of the plain loop."""
    dev = data.device
    D, G, opt_d, opt_g = _models(cfg, dev, seed, capturable=False)
    gen = torch.Generator(device=dev).manual_seed(seed)

    def one():
        real = data[torch.randint(len(data), (batch,), generator=gen, device=dev)]
        ld = train.d_step(D, G, opt_d, real, torch.randn(batch, cfg.nz, generator=gen, device=dev))
        lg = train.g_step(D, G, opt_g, torch.randn(batch, cfg.nz, generator=gen, device=dev))
        return ld.item(), lg.item()

    for _ in range(warmup):
        one()
    _sync(dev)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(iters):
        one()
    _sync(dev)
    return (time.perf_counter() - t0) / iters, (time.process_time() - c0) / iters


def time_fast(cfg, data, batch, iters, warmup, seed, amp, graph, channels_last, tf32):
    """Wall and CPU seconds per step of :class:`FastGANStep`, and the features it used."""
    dev = data.device
    D, G, opt_d, opt_g = _models(cfg, dev, seed, capturable=bool(graph))
    if channels_last:
        dcgan.to_channels_last(D, G)
    gen = None if graph else torch.Generator(device=dev).manual_seed(seed)  # graph: global RNG
    fast = dcgan.FastGANStep(D, G, opt_d, opt_g, data, batch, cfg.nz, generator=gen, amp=amp,
                             graph=graph, channels_last=channels_last, tf32=tf32)
    for _ in range(warmup):
        fast.step()
    fast.pop_losses()
    _sync(dev)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(iters):
        fast.step()
    _sync(dev)
    dt, ct = (time.perf_counter() - t0) / iters, (time.process_time() - c0) / iters
    fast.pop_losses()                      # one sync; also checks the losses are finite
    return dt, ct, {"amp": fast.amp, "graph": fast._cuda_graph is not None,
                    "channels_last": fast.channels_last, "tf32": fast.tf32}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    for name in ("batch", "iters", "size", "channels", "nz", "ngf", "ndf"):
        if getattr(args, name) < 1:
            print(f"--{name} must be a positive integer, got {getattr(args, name)}")
            return 2
    if args.warmup < 1:
        print(f"--warmup must be >= 1, got {args.warmup}")
        return 2
    paths = [p for p in args.paths.split(",") if p]
    bad = [p for p in paths if p not in ("plain", "fast")]
    if bad or not paths:
        print(f"unknown path(s) {bad or paths!r}; choose from: plain, fast")
        return 2
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        print("--device cuda asked for but CUDA is not available")
        return 2
    try:
        cfg = dcgan.DCGANConfig(size=args.size, channels=args.channels, nz=args.nz,
                                ngf=args.ngf, ndf=args.ndf)
    except ValueError as err:
        print(err)
        return 2
    gen = torch.Generator(device=device).manual_seed(args.seed)
    data = torch.rand(max(1024, args.batch), cfg.channels, cfg.size, cfg.size, generator=gen,
                      device=device) * 2 - 1
    cuda = device.type == "cuda"
    name = torch.cuda.get_device_name(device) if cuda else f"cpu ({torch.get_num_threads()} threads)"
    print(f"DCGAN step benchmark on {name}, torch {torch.__version__}: {cfg}, batch {args.batch}, "
          f"{args.iters} timed steps after {args.warmup} warm-up steps")
    results = {}
    for path in paths:
        if path == "plain":
            dt, ct = time_plain(cfg, data, args.batch, args.iters, args.warmup, args.seed)
            feats = {}
        else:
            dt, ct, feats = time_fast(cfg, data, args.batch, args.iters, args.warmup, args.seed,
                                      amp=cuda and not args.no_amp, graph=cuda and not args.no_graph,
                                      channels_last=cuda and not args.no_channels_last,
                                      tf32=cuda and not args.no_tf32)
        results[path] = {"ms_per_step": 1e3 * dt, "images_per_s": args.batch / dt,
                         "cpu_ms_per_step": 1e3 * ct, **feats}
    if args.json:
        print(json.dumps({"device": name, "config": vars(args), "results": results}))
    else:
        for path, r in results.items():
            extra = ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("ms_per_step", "images_per_s", "cpu_ms_per_step"))
            print(f"  {path:5s}: {r['ms_per_step']:9.2f} ms/step  {r['images_per_s']:10.1f} images/s"
                  f"  (host CPU time {r['cpu_ms_per_step']:.1f} ms/step)"
                  + (f"  ({extra})" if extra else ""))
        if len(results) == 2:
            print(f"  speed-up fast/plain: {results['fast']['images_per_s'] / results['plain']['images_per_s']:.2f}x")
    return 0
