"""Making dark and small codes readable: contrast normalization, light denoising and upscaling.

Low light squeezes a label into a few grey levels; the binarizer then loses
the narrow spaces.  A percentile stretch restores the range cheaply.  Stretching and upscaling
only ever run as fallbacks.
"""
from __future__ import annotations

import cv2
import numpy as np


def mean_level(gray: np.ndarray) -> float:
    """Mean grey level on a sparse grid: cheap enough to decide whether a frame is dark."""
    return float(gray[::8, ::8].mean())


def stretch(gray: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0) -> np.ndarray:
    """Map the ``low_pct``..``high_pct`` percentile range onto 0..255."""
    sample = gray[::4, ::4]
    lo, hi = np.percentile(sample, (low_pct, high_pct))
    if hi - lo < 4:
        return gray
    lut = np.clip((np.arange(256, dtype=np.float32) - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)
    return cv2.LUT(gray, lut)


def upscale(gray: np.ndarray, factor: float = 2.0) -> np.ndarray:
    """Cubic upsampling for codes under about two pixels per module."""
    return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def denoise(gray: np.ndarray) -> np.ndarray:
    """Low-light sensor noise smoothed (a 3x3 Gaussian): after a stretch it is amplified with the signal.

    Light on purpose: anything stronger merges two-pixel modules; 1D codes get
    their real denoising from the along-bar averaging in :mod:`edge.decode.deblur`.
    """
    return cv2.GaussianBlur(gray, (3, 3), 0.8)
