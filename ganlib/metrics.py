"""Sample-quality metrics: mode coverage on the 2D mixtures and metrics for digit images.

Mixtures (the VEEGAN/PacGAN protocol: Srivastava et al. 2017; Lin et al. 2018):

* :func:`nearest_mode`: the index of each sample's nearest mixture mean, and the distance;
* :func:`mode_stats`: high-quality samples (within ``n_std`` standard deviations of their
  nearest mode), covered modes and the reverse KL of the mode histogram to the uniform one.

Images, seen through the cached digit classifier of :mod:`ganlib.classifier` (our stand-in
for Inception-v3):

* :func:`frechet_distance`: W2^2 between Gaussians fitted to two feature sets (the FID of
  Heusel et al. 2017, with our classifier's features),

      FD = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2})

  (:func:`ganlib.transport.w2_squared_gaussians`);
* :func:`class_histogram` and :func:`modes_covered`: the mode counts with the ten digit
  classes as the modes; the reverse KL is :func:`ganlib.divergences.kl_to_uniform`;
* :func:`precision_recall`: the k-NN manifold precision and recall of Kynkaanniemi et al. (2019);
* :func:`evaluate_images`: all of them at once against the held-out split.

Features are compared in float64 NumPy; nothing here changes its inputs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from . import checks
from .data import GaussianMixture
from .divergences import kl_to_uniform
from .transport import w2_squared_gaussians

N_CLASSES = 10   # digit classes, the "modes" of the image metrics


# ----------------------------------------------------------------------------- 2D mixtures
@dataclass(frozen=True)
class ModeStats:
    """Mode coverage of generated samples on a Gaussian mixture."""

    modes: int              # modes with at least ``min_count`` high-quality samples
    n_modes: int            # modes of the target
    high_quality: float     # share of samples within ``n_std`` stds of their nearest mode
    reverse_kl: float       # KL(mode histogram of HQ samples || uniform), nats; inf if none
    counts: np.ndarray      # (K,) high-quality samples per mode

    def __str__(self):
        return (f"modes {self.modes}/{self.n_modes}, high-quality {100 * self.high_quality:.1f}%, "
                f"reverse KL {self.reverse_kl:.3f}")


def nearest_mode(samples, mixture: GaussianMixture) -> tuple[np.ndarray, np.ndarray]:
    """k(x) = argmin_k ||x - m_k|| and ||x - m_{k(x)}|| for each sample x, m_k the mixture's means.

    ``samples`` (n, d) (tensor or array, d = ``mixture.dim``) -> (index (n,) int64, distance
    (n,) float64), NumPy arrays. Ties go to the lower index.
    """
    x = checks.points("samples", samples)
    checks.same_dim("samples", x, "mixture means", mixture.means)
    d2 = ((x[:, None, :] - mixture.means[None]) ** 2).sum(-1)        # (n, K)
    index = d2.argmin(1)
    return index, np.sqrt(d2[np.arange(len(x)), index])


def mode_stats(samples, mixture: GaussianMixture, n_std: float = 3.0, min_count: int = 1) -> ModeStats:
    """Assign each sample to its nearest mode; count high-quality samples and covered modes.

    A sample is *high quality* when it lies within ``n_std`` standard deviations of its
    nearest mode (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018 use 3). A mode is
    *covered* when at least ``min_count`` high-quality samples fall in it (VEEGAN: one).
    The reverse KL compares the histogram p of high-quality samples over the K modes with the
    uniform histogram of the target: KL(p || u) = sum_k p_k log(K p_k), 0 when every mode gets
    the same share, log K when all fall in one mode, inf when no sample is high quality.
    ``samples`` is (n, d) with d = ``mixture.dim``.
    """
    n_std = checks.check_positive("n_std", n_std)
    min_count = checks.check_int("min_count", min_count, 1)
    index, dist = nearest_mode(samples, mixture)
    hq = dist <= n_std * mixture.stds[index]
    k = mixture.n_components
    counts = np.bincount(index[hq], minlength=k)
    rkl = kl_to_uniform(counts) if counts.sum() > 0 else math.inf
    return ModeStats(modes=int((counts >= min_count).sum()), n_modes=k,
                     high_quality=float(hq.mean()), reverse_kl=rkl, counts=counts)


# ----------------------------------------------------------------------------- digit images
def frechet_distance(feat_a, feat_b) -> float:
    """FD between Gaussians fitted (mean, unbiased covariance) to feat_a (n, d) and feat_b (m, d).

    = W2^2(N(mu_a, S_a), N(mu_b, S_b)) (:func:`ganlib.transport.w2_squared_gaussians`). The
    same number as the FID when the features are Inception-v3's; here they come from
    :meth:`ganlib.classifier.DigitClassifier.features`. It has a positive bias that shrinks
    with the sample sizes: compare FDs only at equal n and m.
    """
    a, b = checks.points("feat_a", feat_a, min_n=2), checks.points("feat_b", feat_b, min_n=2)
    checks.same_dim("feat_a", a, "feat_b", b)
    d = a.shape[1]
    return w2_squared_gaussians(a.mean(0), np.cov(a, rowvar=False).reshape(d, d),
                                b.mean(0), np.cov(b, rowvar=False).reshape(d, d))


def class_histogram(images: torch.Tensor, clf) -> np.ndarray:
    """Counts (10,) of the classifier's predicted classes over images (B, 1, s, s)."""
    pred = clf.predict(images).cpu().numpy()
    return np.bincount(pred, minlength=N_CLASSES)[:N_CLASSES]


def modes_covered(counts, min_share: float = 0.01) -> int:
    """Number of classes that receive at least ``min_share`` of the samples (any > 0 if 0).

    ``counts`` (K,) per class. A share rather than a count (VEEGAN counts one sample) because
    a classifier misreads a few bad samples as any class: with 1% a class counts only if at
    least 10 of 1,000 samples land in it.
    """
    c = checks.counts("counts", counts)
    min_share = checks.check_probability("min_share", min_share)
    return int((c / c.sum() >= min_share).sum() if min_share > 0 else (c > 0).sum())


def _knn_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each row of x (n, d) to its k-th nearest other row: (n,)."""
    d = torch.cdist(x, x)                       # (n, n), zero diagonal
    return d.kthvalue(k + 1, dim=1).values      # k+1: the point itself is the first


def precision_recall(real_feat, fake_feat, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of fake vs real features.

    ``real_feat`` (n, d), ``fake_feat`` (m, d). Each set's manifold is the union of balls
    around its points with radius the distance to the point's k-th nearest neighbour in the
    same set. Precision is the share of fake points inside the real manifold (quality), recall
    the share of real points inside the fake manifold (coverage). Both are in [0, 1]; the
    paper uses k = 3, which needs n, m > k.
    """
    a = checks.points("real_feat", real_feat, min_n=2)
    b = checks.points("fake_feat", fake_feat, min_n=2)
    checks.same_dim("real_feat", a, "fake_feat", b)
    k = checks.check_int("k", k, 1)
    if k >= min(len(a), len(b)):
        raise ValueError(f"k must be an integer in [1, {min(len(a), len(b)) - 1}] (fewer than the "
                         f"points of each set), got {k!r}")
    r, f = torch.from_numpy(a), torch.from_numpy(b)
    r_rad, f_rad = _knn_radii(r, k), _knn_radii(f, k)
    d = torch.cdist(f, r)                                              # (m fake, n real)
    precision = (d <= r_rad[None, :]).any(1).double().mean().item()
    recall = (d <= f_rad[:, None]).any(0).double().mean().item()
    return float(precision), float(recall)


def evaluate_images(fake_images: torch.Tensor, digits, clf, k: int = 3) -> dict[str, float]:
    """fd, modes, reverse_kl, precision, recall of fake images (B, 1, s, s) against ``digits.test``.

    ``digits`` is a :class:`ganlib.images.Digits`, ``clf`` its size's digit classifier. Pass as
    many fake images as there are held-out ones (397) so FD and the k-NN radii are comparable
    across models; the class counts use all of them. ``reverse_kl`` is KL(class histogram ||
    uniform) (:func:`ganlib.divergences.kl_to_uniform`).
    """
    fake_images = checks.check_tensor("fake_images", fake_images)
    checks.check_shape("fake_images", fake_images, ("B", *digits.test.shape[1:]))
    real_f = clf.features(digits.test)
    fake_f = checks.points("features of fake_images", clf.features(fake_images), min_n=2)
    counts = class_histogram(fake_images, clf)
    p, r = precision_recall(real_f, fake_f, k)
    return {"fd": frechet_distance(real_f, fake_f), "modes": modes_covered(counts),
            "reverse_kl": kl_to_uniform(counts), "precision": p, "recall": r}
