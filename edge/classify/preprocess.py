"""Pixels to tensors exactly as the manifest says, the same code in training and on the unit.

Training imports :func:`to_tensor` too, so a change in resize method, colour
order or normalization cannot silently differ between the two sides.
"""
from __future__ import annotations

import cv2
import numpy as np

from edge.classify.manifest import InputSpec

_INTERP = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR}


def resize_to(image: np.ndarray, spec: InputSpec) -> np.ndarray:
    """BGR uint8 resized to the input size (no aspect kept: crops are made to the aspect)."""
    if image.shape[0] == spec.height and image.shape[1] == spec.width:
        return image
    return cv2.resize(image, (spec.width, spec.height), interpolation=_INTERP[spec.resize])


def to_tensor(bgr: np.ndarray, spec: InputSpec) -> np.ndarray:
    """A (1, 3, H, W) float32 tensor from a BGR uint8 image of any size."""
    return to_tensors(resize_to(bgr, spec)[None], spec)


def to_tensors(batch: np.ndarray, spec: InputSpec) -> np.ndarray:
    """(N, 3, H, W) float32 from N BGR uint8 images already at the input size, in one pass.

    The same arithmetic as :func:`to_tensor`, so a batch and its images one by
    one give identical tensors.
    """
    if batch.ndim != 4 or batch.shape[1:] != (spec.height, spec.width, 3):
        raise ValueError(f"batch of shape {batch.shape} is not "
                         f"N x {spec.height} x {spec.width} x 3")
    pixels = batch[..., ::-1] if spec.colour == "RGB" else batch
    x = pixels.astype(np.float32) * np.float32(1.0 / spec.scale)
    x -= np.asarray(spec.mean, dtype=np.float32)
    x *= np.asarray([1.0 / s for s in spec.std], dtype=np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Temperature-scaled softmax over the last axis, stable for large logits."""
    z = logits.astype(np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
