"""Fit the packaging network's fusion with the parcel's broad shading (no torch here).

A multinomial logistic regression over the network's averaged log-probabilities
and the shading's named features (``edge.classify.shading.FEATURES``: its log,
and whether it is flat, draped or unmeasured), fitted by full-batch
gradient descent with an L2 penalty on standardised features, then folded
back so the manifest holds weights on the raw features.  It is fitted on
parcels the network was not trained on: on its own training parcels the
network is surer than it will be anywhere else, and the fusion would learn to
trust it too much.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from edge.classify.shading import FLOOR, ShadingFusion, features as shading_features

STEPS, RATE, L2 = 3000, 0.1, 1e-2
FEATURES = ("log_shading", "flat", "draped", "unmeasured")


def features(logp: np.ndarray, shading: list[float | None],
             names: tuple[str, ...] = FEATURES) -> tuple[np.ndarray, float]:
    """(N, K + len(names)) features and the neutral value that stands in for an unmeasured
    shading's log: the median of the measured ones."""
    measured = [np.log(s + FLOOR) for s in shading if s is not None]
    neutral = float(np.median(measured)) if measured else float(np.log(FLOOR))
    columns = np.float64([shading_features(s, names, neutral) for s in shading])
    return np.c_[np.asarray(logp, np.float64), columns], neutral


def fit(logp: np.ndarray, shading: list[float | None], packs: np.ndarray,
        names: tuple[str, ...] = FEATURES) -> ShadingFusion:
    """The fusion's weights; ``packs`` are the packagings' indices."""
    x, neutral = features(logp, shading, names)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
    z, k = (x - mu) / sd, logp.shape[1]
    target = np.eye(k)[packs]
    w, b = np.zeros((x.shape[1], k)), np.zeros(k)
    for _ in range(STEPS):
        logits = z @ w + b
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        w -= RATE * (z.T @ (p - target) / len(z) + L2 * w)
        b -= RATE * (p - target).mean(axis=0)
    raw = w / sd[:, None]
    return ShadingFusion(weights=tuple(tuple(float(v) for v in raw[:, j]) for j in range(k)),
                         bias=tuple(float(v) for v in b - mu @ raw), neutral=neutral,
                         features=names)


def as_manifest(fusion: ShadingFusion) -> dict[str, Any]:
    """The manifest's ``surface.shading`` entry."""
    return {"weights": [list(r) for r in fusion.weights], "bias": list(fusion.bias),
            "neutral": fusion.neutral, "features": list(fusion.features)}
