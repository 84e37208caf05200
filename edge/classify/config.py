"""Classify section (owned by the classifier stage, #4)."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field

from edge.configbase import Section


class ClassifyConfig(Section):
    enabled: bool = True
    model_dir: Path = Path("models/current")
    threads: int = Field(1, ge=1, le=8)
