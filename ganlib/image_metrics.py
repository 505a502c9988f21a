"""Offline sample-quality metrics for generated digit images.

All metrics look at images through the cached digit classifier of :mod:`ganlib.classifier`
(our stand-in for Inception-v3):

* :func:`frechet_distance`: the Frechet (2-Wasserstein) distance between Gaussians fitted to
  two feature sets (the FID of Heusel et al. 2017, with our classifier's features),

      FD = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2});

* :func:`class_histogram`, :func:`modes_covered`, :func:`reverse_kl_to_uniform`: the
  mode-collapse counts of the 2D mixtures (:func:`ganlib.metrics.mode_stats`), with the ten
  digit classes as the modes;
* :func:`precision_recall`: the k-NN manifold precision and recall of Kynkaanniemi et al.
  (2019);
* :func:`evaluate`: all of them at once against the held-out split.

Features are compared in float64 NumPy; nothing here changes its inputs.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from scipy import linalg

N_CLASSES = 10


def _as_2d(name: str, x) -> np.ndarray:
    a = x.detach().cpu().double().numpy() if torch.is_tensor(x) else np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 2:
        raise ValueError(f"{name} must have shape (n, d) with n >= 2, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    return a


def frechet_distance_gaussians(mu_a, cov_a, mu_b, cov_b) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2}): W2^2 between N(mu_a,S_a), N(mu_b,S_b).

    mu_* (d,), cov_* (d, d) symmetric positive semi-definite. The matrix square root is
    ``scipy.linalg.sqrtm``; a tiny imaginary part from round-off is dropped, and a singular
    product is regularized by adding 1e-6 I to both covariances (as in the FID reference code).
    """
    mu_a, mu_b = np.atleast_1d(np.asarray(mu_a, float)), np.atleast_1d(np.asarray(mu_b, float))
    cov_a, cov_b = np.atleast_2d(np.asarray(cov_a, float)), np.atleast_2d(np.asarray(cov_b, float))
    d = mu_a.shape[0]
    if mu_b.shape != (d,) or cov_a.shape != (d, d) or cov_b.shape != (d, d):
        raise ValueError(f"shapes do not match: mu_a {mu_a.shape}, mu_b {mu_b.shape}, "
                         f"cov_a {cov_a.shape}, cov_b {cov_b.shape}")
    with warnings.catch_warnings():   # dead ReLU features make S_a S_b singular: harmless
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(cov_a @ cov_b)
        if not np.all(np.isfinite(covmean)):
            eps = 1e-6 * np.eye(d)
            covmean = linalg.sqrtm((cov_a + eps) @ (cov_b + eps))
    covmean = np.real(covmean)
    diff = mu_a - mu_b
    return float(max(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(covmean), 0.0))


def frechet_distance(feat_a, feat_b) -> float:
    """FD between Gaussians fitted (mean, unbiased covariance) to feat_a (n, d) and feat_b (m, d).

    The same number as the FID when the features are Inception-v3's; here they come from
    :meth:`ganlib.classifier.DigitClassifier.features`. It has a positive bias that shrinks
    with the sample sizes: compare FDs only at equal n and m.
    """
    a, b = _as_2d("feat_a", feat_a), _as_2d("feat_b", feat_b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    return frechet_distance_gaussians(a.mean(0), np.cov(a, rowvar=False).reshape(a.shape[1], -1),
                                      b.mean(0), np.cov(b, rowvar=False).reshape(b.shape[1], -1))


def class_histogram(images: torch.Tensor, clf) -> np.ndarray:
    """Counts (10,) of the classifier's predicted classes over images (B, 1, s, s)."""
    pred = clf.predict(images).cpu().numpy()
    return np.bincount(pred, minlength=N_CLASSES)[:N_CLASSES]


def _counts(counts) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 1 or len(c) == 0 or np.any(c < 0) or c.sum() <= 0:
        raise ValueError(f"counts must be a 1-D array of non-negative numbers with a positive "
                         f"sum, got {c!r}")
    return c


def modes_covered(counts, min_share: float = 0.01) -> int:
    """Number of classes that receive at least ``min_share`` of the samples.

    A share rather than a count (VEEGAN counts one sample) because a classifier misreads
    a few bad samples as any class: with 1% a class counts only if at least 10 of 1,000
    samples land in it.
    """
    c = _counts(counts)
    if not (0.0 <= min_share < 1.0):
        raise ValueError(f"min_share must lie in [0, 1), got {min_share!r}")
    return int((c / c.sum() >= min_share).sum() if min_share > 0 else (c > 0).sum())


def reverse_kl_to_uniform(counts) -> float:
    """KL(p || uniform) = sum_k p_k log(K p_k) in nats, p = counts / sum: 0 if balanced, log K if one class."""
    c = _counts(counts)
    p = c / c.sum()
    nz = p > 0
    return float((p[nz] * np.log(p[nz] * len(p))).sum())


def _knn_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each row of x to its k-th nearest other row."""
    d = torch.cdist(x, x)                       # (n, n), zero diagonal
    return d.kthvalue(k + 1, dim=1).values      # k+1: the point itself is the first


def precision_recall(real_feat, fake_feat, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of fake vs real features.

    Each set's manifold is the union of balls around its points with radius the distance to
    the point's k-th nearest neighbour in the same set. Precision is the share of fake
    points inside the real manifold (quality), recall the share of real points inside the
    fake manifold (coverage). Both are in [0, 1]; the paper uses k = 3.
    """
    a, b = _as_2d("real_feat", real_feat), _as_2d("fake_feat", fake_feat)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 \
            or k >= min(len(a), len(b)):
        raise ValueError(f"k must be an integer in [1, {min(len(a), len(b)) - 1}], got {k!r}")
    r, f = torch.from_numpy(a), torch.from_numpy(b)
    r_rad, f_rad = _knn_radii(r, k), _knn_radii(f, k)
    d = torch.cdist(f, r)                                              # (m fake, n real)
    precision = (d <= r_rad[None, :]).any(1).double().mean().item()
    recall = (d <= f_rad[:, None]).any(0).double().mean().item()
    return float(precision), float(recall)


def evaluate(fake_images: torch.Tensor, digits, clf, k: int = 3) -> dict[str, float]:
    """fd, modes, reverse_kl, precision, recall of fake images against ``digits.test``.

    Pass as many fake images as there are held-out ones (397) so FD and the k-NN radii
    are comparable across models; the class counts use all of them.
    """
    if not torch.is_tensor(fake_images) or fake_images.shape[1:] != digits.test.shape[1:]:
        raise ValueError(f"fake_images must have shape (B, {', '.join(map(str, digits.test.shape[1:]))})"
                         f", got {tuple(getattr(fake_images, 'shape', ()))}")
    real_f = clf.features(digits.test)
    fake_f = clf.features(fake_images)
    if not torch.isfinite(fake_f).all():
        raise ValueError("fake_images give non-finite features (NaN or inf in the images?)")
    counts = class_histogram(fake_images, clf)
    p, r = precision_recall(real_f, fake_f, k)
    return {"fd": frechet_distance(real_f, fake_f), "modes": modes_covered(counts),
            "reverse_kl": reverse_kl_to_uniform(counts), "precision": p, "recall": r}


LOG10 = math.log(N_CLASSES)
