"""Turning a raw image from any source into a :class:`edge.records.Frame`.

Shared by the replay, OpenCV and Pi camera sources so every frame downstream
has the same shape (H, W, 3 BGR uint8) and the same kind of timestamps,
whatever the device handed over.
"""
from __future__ import annotations

import time

import numpy as np

from edge.imageio import bgr8
from edge.records import Frame, utc_now


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
    return Frame(seq=seq, t_mono=time.monotonic(), t_utc=utc_now(), image=bgr8(image),
                 source=source)
