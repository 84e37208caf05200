"""Trigger `photo_eye` (placeholder config until its backend lands)."""
from __future__ import annotations

from typing import Literal

from edge.configbase import Section


class Config(Section):
    type: Literal["photo_eye"] = "photo_eye"


def open(cfg: Config, ctx):  # noqa: A001 - registry entry point
    raise NotImplementedError("photo_eye trigger not built yet")
