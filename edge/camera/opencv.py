"""Camera source `opencv` (placeholder config until its backend lands)."""
from __future__ import annotations

from typing import Literal

from edge.configbase import Section


class Config(Section):
    type: Literal["opencv"] = "opencv"


def open(cfg: Config, ctx):  # noqa: A001 - registry entry point
    raise NotImplementedError("opencv camera not built yet")
