"""A small digit classifier: the "feature network" of the book's image metrics.

FID (Heusel et al. 2017) and k-NN precision/recall (Kynkaanniemi et al. 2019) compare images
through the features of a pretrained classifier (Inception-v3 for ImageNet-sized images). For
the 8..32 pixel digits of :func:`ganlib.images.load_digits` a small CNN trained here plays
that role: it is trained once on the TRAINING split (fixed seed :data:`CLASSIFIER_SEED`,
independent of ``GANLIB_SEED``; a few seconds of CPU), its held-out accuracy is recorded,
and it is cached on disk so chapters do not retrain it:

    ${GANLIB_CACHE:-~/.cache/ganlib}/digit_classifier_s{size}_{VERSION}.pt

Training runs inside ``torch.random.fork_rng`` with its own seed, so whether the cache hits
or misses never changes the random stream of the chapter that asked for the classifier.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import checks
from .images import SIZES, load_digits

VERSION = "v1"            # bump when the architecture or the training recipe changes
CLASSIFIER_SEED = 1234    # fixed: the feature network is the same for every GANLIB_SEED
FEATURE_DIM = 64          # width of the penultimate layer (the features)
EPOCHS = 20
BATCH = 50
LR = 2e-3


def cache_dir() -> Path:
    """``GANLIB_CACHE`` if set, else ``~/.cache/ganlib``."""
    raw = os.environ.get("GANLIB_CACHE", "")
    return Path(raw).expanduser() if raw else Path.home() / ".cache" / "ganlib"


class DigitClassifier(nn.Module):
    """x (B, 1, s, s) in [-1, 1] -> logits (B, 10); ``features`` is the 64-d penultimate layer.

    conv3x3(32) - conv3x3/2(64) - conv3x3/2(64) - flatten - linear(64) = features - linear(10),
    ReLU after every layer but the last. One network per size s (8, 16 or 32).
    """

    def __init__(self, size: int):
        super().__init__()
        self.size = int(checks.check_option("classifier size", size, SIZES))
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),              # (B, 32, s, s)
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),   # (B, 64, s/2, s/2)
            nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.ReLU(),   # (B, 64, s/4, s/4)
            nn.Flatten(),                                           # (B, 64 (s/4)^2)
            nn.Linear(64 * (size // 4) ** 2, FEATURE_DIM), nn.ReLU(),  # (B, FEATURE_DIM)
        )
        self.head = nn.Linear(FEATURE_DIM, 10)
        self.test_accuracy = float("nan")   # set by get_classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))

    @torch.no_grad()
    def _batched(self, fn, x: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
        """fn over chunks of the images x (B, 1, s, s), in eval mode, no gradient: the entry
        check of logits, predict and features."""
        checks.check_shape("x", checks.check_tensor("x", x), ("B", 1, self.size, self.size))
        p = next(self.parameters())
        x = x.to(device=p.device, dtype=p.dtype)
        was = self.training
        self.eval()
        try:
            return torch.cat([fn(x[i:i + chunk]) for i in range(0, len(x), chunk)])
        finally:
            self.train(was)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (B, 10), no gradient."""
        return self._batched(self.forward, x)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted class (B,) int64."""
        return self.logits(x).argmax(1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features (B, FEATURE_DIM), no gradient: what FD and P/R compare."""
        return self._batched(self.body, x)


def _augment(x: torch.Tensor, g: torch.Generator, max_shift: int) -> torch.Tensor:
    """Random translation by up to ``max_shift`` pixels (pad with background -1, then crop)."""
    if max_shift == 0:
        return x
    b, _, h, w = x.shape
    xp = F.pad(x, (max_shift,) * 4, value=-1.0)
    dx = torch.randint(0, 2 * max_shift + 1, (b,), generator=g)
    dy = torch.randint(0, 2 * max_shift + 1, (b,), generator=g)
    rows = (dy[:, None] + torch.arange(h)[None])                       # (B, h)
    cols = (dx[:, None] + torch.arange(w)[None])                       # (B, w)
    out = xp[:, 0][torch.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out[:, None]                                                # (B, 1, h, w)


def train_classifier(size: int = 16, epochs: int = EPOCHS, verbose: bool = False) -> DigitClassifier:
    """Train a :class:`DigitClassifier` on the training split (CPU, fixed seed); set its accuracy.

    Adam (lr 2e-3, cosine decay), batch 50, ``epochs`` passes, random shifts of up to
    max(1, size/16) pixels. Runs under ``fork_rng`` so the caller's random state is untouched.
    """
    digits = load_digits(size)
    epochs = checks.check_int("epochs", epochs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(CLASSIFIER_SEED)
        g = torch.Generator().manual_seed(CLASSIFIER_SEED)
        model = DigitClassifier(size)
        opt = torch.optim.Adam(model.parameters(), lr=LR)
        n = len(digits.train)
        steps = epochs * (n // BATCH)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        shift = max(1, size // 16)
        t0 = time.process_time()
        model.train()
        for _ in range(epochs):
            perm = torch.randperm(n, generator=g)
            for i in range(0, n - BATCH + 1, BATCH):
                idx = perm[i:i + BATCH]
                x = _augment(digits.train[idx], g, shift)
                loss = F.cross_entropy(model(x), digits.train_labels[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
        model.eval()
    acc = (model.predict(digits.test) == digits.test_labels).float().mean().item()
    model.test_accuracy = float(acc)
    if verbose:
        print(f"digit classifier ({size}x{size}): held-out accuracy {acc:.4f}, "
              f"{time.process_time() - t0:.1f} s CPU")
    return model


def get_classifier(size: int = 16, device=None, retrain: bool = False,
                   verbose: bool = True) -> DigitClassifier:
    """The cached digit classifier for ``size`` (trained on first use), on ``device``, in eval mode.

    The cache key holds the size and :data:`VERSION`; ``retrain=True`` ignores the cache.
    ``.test_accuracy`` is its accuracy on the held-out split of :func:`load_digits`.
    """
    size = int(checks.check_option("classifier size", size, SIZES))
    path = cache_dir() / f"digit_classifier_s{size}_{VERSION}.pt"
    model = None
    if path.exists() and not retrain:
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            with torch.random.fork_rng(devices=[]):   # init draws must not move the caller's RNG
                model = DigitClassifier(size)
            model.load_state_dict(blob["state_dict"])
            model.test_accuracy = float(blob["test_accuracy"])
            if verbose:
                print(f"digit classifier ({size}x{size}, cached): "
                      f"held-out accuracy {model.test_accuracy:.4f}")
        except Exception as err:  # corrupt or stale file: retrain and overwrite
            print(f"could not read {path} ({err}); retraining")
            model = None
    if model is None:
        model = train_classifier(size, verbose=verbose)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            torch.save({"state_dict": model.state_dict(), "test_accuracy": model.test_accuracy,
                        "size": size, "version": VERSION}, tmp)
            os.replace(tmp, path)   # atomic: parallel workers never read half a file
        except OSError as err:      # read-only home: keep the model, skip the cache
            print(f"could not cache the classifier at {path}: {err}")
    model.eval()
    if device is not None:
        model.to(device)
    return model
