"""Shadow trial before promotion and probation after it, both on live parcels.

The shadow runs the candidate beside the current model on the same frame and
box, on its own thread, and only counts: its result never reaches the record.  Probation watches the promoted model's own results: an error, a p95
past the latency budget or a verdict mix that collapsed (everything flagged,
or nothing) ends it with a reason, and the manager rolls back.
"""
from __future__ import annotations

import logging
import queue
import statistics
import threading
from typing import Any, Callable

from edge.pyramid import Surface
from edge.records import Box, Classification
from edge.stats import percentile
from edge.update.config import ProbationConfig

log = logging.getLogger(__name__)

# Flags the previous model would have raised in the window before "none at all" is a collapse
# (the chance of seeing none by luck is then under 1%).
NOTHING_EXPECTED = 5.0


def model_flags(result: Classification) -> bool:
    """Whether the model alone would flag: a flag label at or over its calibrated threshold."""
    return result.available and any(result.scores.get(label, 0.0) >= threshold
                                    for label, threshold in result.flag_thresholds.items())


def disagree(current: Classification, candidate: Classification) -> bool:
    return (not candidate.available or candidate.top != current.top
            or model_flags(candidate) != model_flags(current))


class ShadowTrial:
    """Counts how often the candidate would judge a parcel differently; calls ``on_done`` once.

    The candidate runs on its own thread from a small backlog, off the parcel's
    path: a parcel never waits for the shadow, and when the shadow falls behind
    a parcel is skipped (counted) rather than delayed, so on a busy belt the
    trial just takes longer.  Frames are never written after capture (the
    path's parallel workers already rely on that), so they are shared, not copied.
    """

    def __init__(self, candidate: Any, parcels: int, on_done: Callable[[dict], None],
                 backlog: int = 2) -> None:
        self.candidate = candidate
        self.parcels = parcels
        self._on_done = on_done
        self._lock = threading.Lock()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=backlog)
        self._closed = threading.Event()
        self._reserved = 0
        self._seen = 0
        self._skipped = 0
        self._disagree = 0
        self._errors = 0
        self._flags = [0, 0]
        self._ms: list[float] = []
        self._thread = threading.Thread(target=self._work, name="shadow-trial", daemon=True)
        self._thread.start()

    def observe(self, image: Any, box: Box | None, current: Classification,
                label: Box | None = None, surface: Surface | None = None) -> None:
        """Queue the parcel for the candidate (``surface``, the frame's pyramid, keeps the
        frame alive until the candidate has run: at most ``backlog`` frames)."""
        with self._lock:
            if self._reserved >= self.parcels or self._closed.is_set():
                return
            try:
                self._queue.put_nowait((image, box, current, label, surface))
            except queue.Full:
                self._skipped += 1
                return
            self._reserved += 1

    def close(self) -> None:
        """Stop the shadow thread (trial ended, promoted early or refused)."""
        self._closed.set()

    def _work(self) -> None:
        while not self._closed.is_set():
            try:
                image, box, current, label, surface = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            result = self.candidate.classify(image, box, label, surface)
            with self._lock:
                self._seen += 1
                self._disagree += disagree(current, result)
                self._errors += not result.available
                self._flags[0] += model_flags(current)
                self._flags[1] += model_flags(result)
                self._ms.append(result.ms)
                done = self._seen == self.parcels
            if done:
                self._closed.set()
                self._on_done(self.summary())

    def summary(self) -> dict[str, Any]:
        with self._lock:
            seen = max(1, self._seen)
            return {"parcels": self._seen, "of": self.parcels, "disagreements": self._disagree,
                    "disagreement_rate": round(self._disagree / seen, 4),
                    "candidate_errors": self._errors, "skipped": self._skipped,
                    "flag_rate_current": round(self._flags[0] / seen, 4),
                    "flag_rate_candidate": round(self._flags[1] / seen, 4),
                    "candidate_ms_median": round(statistics.median(self._ms), 2)
                    if self._ms else 0.0}


class Probation:
    """Watches the promoted model; ``on_end(reason or None, figures)`` is called once."""

    def __init__(self, cfg: ProbationConfig, on_end: Callable[[str | None, dict], None],
                 baseline_flag_rate: float = 0.0) -> None:
        self.cfg = cfg
        # The old model's flag rate over the shadow trial: a model that now flags nothing
        # where the old one would have flagged several parcels has collapsed.
        self.baseline = baseline_flag_rate
        self._on_end = on_end
        self._lock = threading.Lock()
        self._ms: list[float] = []
        self._errors = 0
        self._flags = 0
        self._ended = False

    def observe(self, result: Classification) -> None:
        with self._lock:
            if self._ended:
                return
            self._errors += not result.available
            self._flags += model_flags(result)
            if result.available:
                self._ms.append(result.ms)
            reason = self._breach()
            seen = self._errors + len(self._ms)
            if reason is None and seen < self.cfg.parcels:
                return
            self._ended = True
            figures = self._figures()
        self._on_end(reason, figures)

    def _breach(self) -> str | None:
        cfg = self.cfg
        if self._errors > cfg.max_errors:
            return f"{self._errors} classifier error(s) in probation (at most {cfg.max_errors})"
        seen = self._errors + len(self._ms)
        if seen < cfg.parcels:
            return None
        p95 = percentile(self._ms, 95)
        if p95 > cfg.latency_budget_ms:
            return f"classify p95 {p95:.1f} ms is past the {cfg.latency_budget_ms:g} ms budget"
        rate = self._flags / max(1, seen)
        if rate > cfg.max_flag_rate:
            return f"verdict mix collapsed: {rate:.0%} of parcels flagged (at most " \
                   f"{cfg.max_flag_rate:.0%})"
        if rate < cfg.min_flag_rate:
            return f"verdict mix collapsed: {rate:.0%} of parcels flagged (at least " \
                   f"{cfg.min_flag_rate:.0%})"
        if self._flags == 0 and self.baseline * seen >= NOTHING_EXPECTED:
            return f"verdict mix collapsed: nothing flagged in {seen} parcels where the " \
                   f"previous model flagged {self.baseline:.0%} in the shadow trial"
        return None

    def _figures(self) -> dict[str, Any]:
        seen = max(1, self._errors + len(self._ms))
        return {"parcels": self._errors + len(self._ms), "errors": self._errors,
                "p95_ms": round(percentile(self._ms, 95), 2),
                "flag_rate": round(self._flags / seen, 4)}
