"""Trigger `interval`: a parcel is "present" for ``window_s`` out of every ``period_s``.

For set-ups with neither a light barrier nor a belt the motion trigger can
learn (a test bench, a camera over a manual station): the unit simply takes a
capture at a fixed cadence.  Time comes from the frames, so a replayed
recording triggers the same way at any playback speed.
"""
from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import Field, model_validator

from edge.configbase import Section
from edge.records import Frame
from edge.trigger import Presence


class Config(Section):
    type: Literal["interval"] = "interval"
    period_s: float = Field(2.0, gt=0, le=3600)
    window_s: float = Field(0.5, gt=0, le=3600)

    @model_validator(mode="after")
    def _window_inside_period(self) -> "Config":
        if self.window_s >= self.period_s:
            raise ValueError("window_s must be shorter than period_s, or no parcel would ever leave")
        return self


class IntervalTrigger:
    """Present while the frame time, counted from the first frame, falls in a window."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._t0: float | None = None

    def observe(self, frame: Frame) -> Presence:
        started = time.perf_counter()
        if self._t0 is None:
            self._t0 = frame.t_mono
        phase = (frame.t_mono - self._t0) % self.cfg.period_s
        present = phase < self.cfg.window_s
        return Presence(present, None, (time.perf_counter() - started) * 1000.0)

    def close(self) -> None:
        """No resources to give back."""


def open(cfg: Config, ctx: Any) -> IntervalTrigger:  # noqa: A001 - registry entry point
    return IntervalTrigger(cfg)
