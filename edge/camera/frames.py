"""Turning a raw image from any source into a :class:`edge.records.Frame`.

Shared by the replay, OpenCV and Pi camera sources so every frame downstream
has the same shape (H, W, 3 BGR uint8) and the same kind of timestamps,
whatever the device handed over.
"""
from __future__ import annotations

import time

import numpy as np

from edge.records import Frame, utc_now


def as_bgr(image: np.ndarray) -> np.ndarray:
    """A 3-channel uint8 view of a grey, BGR or BGRA image; anything else is refused.

    USB cameras and image files hand over grey or 4-channel data now and then;
    the stages after capture all assume BGR, so the shape is fixed here once.
    """
    if image.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {image.dtype}")
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        return np.ascontiguousarray(image[:, :, :3])
    raise ValueError(f"unsupported image shape {image.shape}")


def wait_until(due: float, timeout: float) -> bool:
    """Sleep until ``due`` (monotonic); if that is beyond ``timeout``, sleep ``timeout`` and say False.

    Sources pace themselves with this so ``read(timeout)`` never blocks the
    run loop for longer than it asked.
    """
    wait = due - time.monotonic()
    if wait > timeout:
        time.sleep(max(0.0, timeout))
        return False
    if wait > 0:
        time.sleep(wait)
    return True


def make_frame(seq: int, image: np.ndarray, source: str) -> Frame:
    """A frame stamped now, on the monotonic clock and in UTC."""
    return Frame(seq=seq, t_mono=time.monotonic(), t_utc=utc_now(), image=as_bgr(image),
                 source=source)
