"""Gaps and duplicates in a unit's sequence numbers, as a receiver sees them.

Delivery is at-least-once and a unit resends after a restart or a broker
outage, so a receiver must tell a duplicate from news and notice a sequence
number that never came.  A gap may close later (a resent record arrives late):
``late`` reports that, so an officer is not left with a false alarm.
"""
from __future__ import annotations

from dataclasses import dataclass, field

MAX_MISSING = 10_000


@dataclass(frozen=True)
class SeqEvent:
    """What one sequence number means: ``new``, ``duplicate``, ``late``, ``gap`` or ``reset``."""

    kind: str
    unit: str
    seq: int
    missing: tuple[int, ...] = ()


@dataclass
class _Unit:
    high: int = 0
    missing: set[int] = field(default_factory=set)


class SeqTracker:
    """Per-unit high-water mark and the set of numbers skipped below it."""

    def __init__(self) -> None:
        self._units: dict[str, _Unit] = {}

    def see(self, unit: str, seq: int) -> SeqEvent:
        state = self._units.setdefault(unit, _Unit())
        if state.high == 0:
            state.high = seq
            return SeqEvent("new", unit, seq)
        if seq == state.high + 1:
            state.high = seq
            return SeqEvent("new", unit, seq)
        if seq > state.high + 1:
            skipped = tuple(range(state.high + 1, seq))[:MAX_MISSING]
            state.missing.update(skipped)
            state.high = seq
            return SeqEvent("gap", unit, seq, skipped)
        if seq in state.missing:
            state.missing.discard(seq)
            return SeqEvent("late", unit, seq)
        if seq < state.high - MAX_MISSING:
            self._units[unit] = _Unit(high=seq)
            return SeqEvent("reset", unit, seq)
        return SeqEvent("duplicate", unit, seq)

    def missing(self, unit: str) -> tuple[int, ...]:
        state = self._units.get(unit)
        return tuple(sorted(state.missing)) if state else ()
