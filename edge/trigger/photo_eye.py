"""Trigger `photo_eye`: a GPIO light barrier across the belt, read through gpiozero.

A barrier's output chatters as a parcel's ragged edge, a strap or a label
flap crosses the beam.  Debouncing by sleeping would stall the frame loop, so
it is done by scheduling instead (the way Klipper's DebounceButton does): an
edge only records when it happened; the new level is accepted at the first
``observe`` at least ``debounce_s`` later, and only if the pin still reads
that level then.  A level that flips back in time is never seen.

gpiozero is imported inside :func:`open`; ``ctx.hardware["pin_factory"]``
supplies the pin factory (gpiozero's ``MockFactory`` in tests) and
``ctx.hardware["clock"]`` may replace ``time.monotonic``.
"""
from __future__ import annotations

import threading
import time
import warnings
from typing import Any, Callable, Literal

from pydantic import Field, field_validator, model_validator

from edge.configbase import Section
from edge.records import Frame
from edge.trigger import Presence


class Config(Section):
    type: Literal["photo_eye"] = "photo_eye"
    pin: int | str = Field(17, description="GPIO number or a gpiozero pin name such as 'BOARD11'")
    pull_up: bool | None = Field(True, description="True: beam broken pulls the line low (NPN)")
    active_high: bool | None = Field(None, description="only with pull_up: null (external pull)")
    debounce_s: float = Field(0.01, ge=0, le=1.0)

    @field_validator("pin")
    @classmethod
    def _header_pin(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 0 <= value <= 27:
            raise ValueError("GPIO numbers on the 40-pin header are 0-27")
        return value

    @model_validator(mode="after")
    def _polarity_known(self) -> "Config":
        if self.pull_up is None and self.active_high is None:
            raise ValueError("with pull_up null, active_high must say which level means 'parcel'")
        if self.pull_up is not None and self.active_high is not None:
            raise ValueError("active_high is only used when pull_up is null (gpiozero's rule)")
        return self


class PhotoEyeTrigger:
    """Presence from the barrier's debounced level; it cannot tell where the parcel is."""

    def __init__(self, device: Any, debounce_s: float, clock: Callable[[], float]) -> None:
        self._device = device
        self._debounce_s = debounce_s
        self._clock = clock
        self._lock = threading.Lock()
        self._accepted = bool(device.is_active)
        self._edge_at: float | None = None
        self.edges = 0
        device.when_activated = self._on_edge
        device.when_deactivated = self._on_edge

    def _on_edge(self) -> None:
        """Runs on gpiozero's callback thread: note the time, decide later."""
        with self._lock:
            self._edge_at = self._clock()
            self.edges += 1

    def observe(self, frame: Frame) -> Presence:
        started = time.perf_counter()
        with self._lock:
            due = self._edge_at is not None and self._clock() - self._edge_at >= self._debounce_s
            if due:
                self._edge_at = None
                self._accepted = bool(self._device.is_active)
            present = self._accepted
        return Presence(present, None, (time.perf_counter() - started) * 1000.0)

    def close(self) -> None:
        self._device.when_activated = None
        self._device.when_deactivated = None
        self._device.close()


def open(cfg: Config, ctx: Any) -> PhotoEyeTrigger:  # noqa: A001 - registry entry point
    try:
        from gpiozero import DigitalInputDevice
    except ImportError as exc:
        raise RuntimeError(f"photo_eye needs gpiozero (pip install 'parcel-edge[pi]'): {exc}") from None
    hardware = ctx.hardware if ctx is not None else {}
    try:
        with warnings.catch_warnings():  # gpiozero warns once per factory it falls back from
            warnings.simplefilter("ignore")
            device = DigitalInputDevice(cfg.pin, pull_up=cfg.pull_up, active_state=cfg.active_high,
                                        pin_factory=hardware.get("pin_factory"))
    except Exception as exc:  # no GPIO on this machine, pin in use, bad pin name
        raise RuntimeError(f"photo_eye on pin {cfg.pin}: {exc.__class__.__name__}: {exc}") from None
    return PhotoEyeTrigger(device, cfg.debounce_s, hardware.get("clock", time.monotonic))
