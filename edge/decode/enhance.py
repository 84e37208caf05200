"""Making dark and small codes readable: contrast normalization and upscaling.

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


def motion_kernel(length: float) -> np.ndarray:
    """The belt's smear as a 1 x n kernel: a box of fractional ``length`` px (partial end taps)."""
    n = int(np.ceil(length)) | 1
    k = np.ones(n, np.float32)
    k[[0, -1]] = max(0.0, 1.0 - (n - length) / 2.0)
    return (k / k.sum()).reshape(1, -1)


def disc_kernel(radius: float) -> np.ndarray:
    """Defocus as an n x n kernel: a uniform disc, what a lens does to a point off the focal plane."""
    n = int(np.ceil(radius))
    k = np.zeros((2 * n + 1, 2 * n + 1), np.float32)
    cv2.circle(k, (n, n), int(round(radius)), 1.0, -1, cv2.LINE_AA)
    return k / k.sum()


def deconvolve(gray: np.ndarray, kernel: np.ndarray, noise: float) -> np.ndarray:
    """Wiener deconvolution of ``gray`` by a known blur ``kernel``.

    Generic sharpening cannot undo a smear of two modules; deconvolution can
    when the blur is known: motion is along the belt (the camera is mounted
    along it) for about belt speed x exposure / mm per pixel, and defocus is
    a disc.  ``noise`` is the noise-to-signal ratio that keeps it stable.
    """
    img = gray.astype(np.float32) / 255.0
    kh, kw = kernel.shape
    psf = np.zeros(img.shape, np.float32)
    psf[:kh, :kw] = kernel
    psf = np.roll(psf, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    h = np.fft.rfft2(psf)
    restored = np.fft.irfft2(np.fft.rfft2(img) * np.conj(h) / (np.abs(h) ** 2 + noise), s=img.shape)
    return np.clip(restored * 255.0, 0, 255).astype(np.uint8)
