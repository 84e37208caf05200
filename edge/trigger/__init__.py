"""Triggers: when is a parcel in view.  One small module per ``type``.

A trigger sees every frame (``observe``) and says whether a parcel is present
and, if it can tell, where.  GPIO triggers get their state from edge callbacks
instead of the frame, but answer through the same call.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from edge.records import Box, Frame
from edge.registry import Registry

TRIGGERS = Registry("trigger", {
    "motion": "edge.trigger.motion",
    "photo_eye": "edge.trigger.photo_eye",
    "interval": "edge.trigger.interval",
})


@dataclass(frozen=True)
class Presence:
    present: bool
    box: Box | None = None
    ms: float = 0.0


class Trigger(Protocol):
    def observe(self, frame: Frame) -> Presence: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class TriggerContext:
    """Injected hardware (a gpiozero pin factory for tests) and the clock to schedule on."""

    hardware: dict[str, Any] = field(default_factory=dict)


def open_trigger(cfg: Any, ctx: TriggerContext) -> Trigger:
    return TRIGGERS.opener(cfg.type)(cfg, ctx)
