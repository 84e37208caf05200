"""Camera source `synthetic` (placeholder config until its backend lands)."""
from __future__ import annotations

from typing import Literal

from edge.configbase import Section


class Config(Section):
    type: Literal["synthetic"] = "synthetic"


def open(cfg: Config, ctx):  # noqa: A001 - registry entry point
    raise NotImplementedError("synthetic camera not built yet")
