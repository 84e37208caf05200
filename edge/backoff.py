"""Waiting longer after each failure in a row: camera restarts, camera reconnects, the broker.

One doubling rule for all of them, so a unit that loses its camera and its
broker at once does not retry either in a tight loop.
"""
from __future__ import annotations

import random


def exponential(base: float, cap: float, failures_before: int) -> float:
    """``base`` doubled for each earlier failure in a row, never above ``cap``."""
    return min(cap, base * 2 ** min(max(0, failures_before), 30))


class Backoff:
    """Exponential delays with jitter between ``low`` and ``high`` seconds.

    The jitter keeps a fleet of units that lost the same broker from
    reconnecting in step.
    """

    def __init__(self, low: float, high: float, rng: random.Random | None = None) -> None:
        self.low, self.high = low, high
        self.attempt = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        ceiling = exponential(self.low, self.high, self.attempt)
        self.attempt += 1
        return max(self.low, self._rng.uniform(ceiling / 2, ceiling))

    def reset(self) -> None:
        self.attempt = 0
