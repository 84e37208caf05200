"""Counters and per-stage timings shared by the run loop, the status topic and the bench.

Every drop, skip and error in the unit increments a named counter here, so
nothing goes wrong silently: the status topic and the demo summary show them.
"""
from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, Iterable

TIMING_WINDOW = 2048


@dataclass(frozen=True)
class TimingSummary:
    count: int
    median_ms: float
    p95_ms: float
    mean_ms: float


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile; 0.0 for no values (a summary must never raise)."""
    data = sorted(values)
    if not data:
        return 0.0
    rank = min(len(data) - 1, max(0, int(round(q / 100.0 * (len(data) - 1)))))
    return data[rank]


def summarize(values: Iterable[float]) -> TimingSummary:
    data = list(values)
    mean = sum(data) / len(data) if data else 0.0
    return TimingSummary(len(data), percentile(data, 50), percentile(data, 95), mean)


class Stats:
    """Thread-safe counters, errors by kind and a sliding window of stage timings."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._started = clock()
        self._counters: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._timings: dict[str, deque[float]] = {}
        self._gauges: dict[str, Any] = {}

    def incr(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counters[name] += n

    def error(self, kind: str) -> None:
        with self._lock:
            self._errors[kind] += 1

    def time(self, stage: str, ms: float) -> None:
        with self._lock:
            self._timings.setdefault(stage, deque(maxlen=TIMING_WINDOW)).append(ms)

    def gauge(self, name: str, value: Any) -> None:
        with self._lock:
            self._gauges[name] = value

    def count(self, name: str) -> int:
        with self._lock:
            return self._counters[name]

    def timings(self) -> dict[str, TimingSummary]:
        with self._lock:
            windows = {k: list(v) for k, v in self._timings.items()}
        return {k: summarize(v) for k, v in windows.items()}

    def uptime_s(self) -> float:
        return self._clock() - self._started

    def snapshot(self) -> dict[str, Any]:
        """Plain data for the status topic: counters, rates, errors, stage timings."""
        with self._lock:
            counters = dict(self._counters)
            errors = dict(self._errors)
            gauges = dict(self._gauges)
        uptime = self.uptime_s()
        parcels = counters.get("parcels", 0)
        return {
            "uptime_s": round(uptime, 1),
            "fps": round(counters.get("frames", 0) / uptime, 2) if uptime > 0 else 0.0,
            "parcels": parcels,
            "read": counters.get("read", 0),
            "read_rate": round(counters.get("read", 0) / parcels, 4) if parcels else None,
            "flagged": counters.get("flagged", 0),
            "model": gauges.get("model"),
            "counters": counters,
            "errors": errors,
            "gauges": gauges,
            "timings_ms": {k: {"median": round(t.median_ms, 2), "p95": round(t.p95_ms, 2)}
                           for k, t in self.timings().items()},
        }
