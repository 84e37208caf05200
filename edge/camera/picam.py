"""Camera source `picamera2` (placeholder config until its backend lands)."""
from __future__ import annotations

from typing import Literal

from edge.configbase import Section


class Config(Section):
    type: Literal["picamera2"] = "picamera2"


def open(cfg: Config, ctx):  # noqa: A001 - registry entry point
    raise NotImplementedError("picamera2 camera not built yet")
