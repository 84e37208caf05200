"""Classify section (owned by the classifier stage, #4).

The model directory holds ``manifest.json`` and the ONNX files it names; the
manifest, not this config, says how inputs are prepared, so that a model
update can never be fed pixels the way an older model wanted them.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field

from edge.configbase import Section


class ClassifyConfig(Section):
    enabled: bool = True
    model_dir: Path = Path("models/current")
    # One thread per session: the Pi's other cores decode and encode meanwhile.
    threads: int = Field(1, ge=1, le=8)
    warmup_runs: int = Field(2, ge=0, le=50)
    # Refuse files far larger than any model this unit ships (a corrupt or hostile update).
    max_model_mb: float = Field(20.0, gt=0, le=500)
