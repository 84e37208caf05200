"""Classify section (owned by the classifier stage, #4).

The model directory holds ``manifest.json`` and the ONNX files it names; the
manifest, not this config, says how inputs are prepared, so that a model
update can never be fed pixels the way an older model wanted them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

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
    # The brand catalogue marks are checked against (see edge/catalogue); refused with the
    # reason when it names packaging the model cannot recognise.
    catalogue_dir: Path = Path("models/catalogue")
    # OCR engine that reads the candidate marks' words (edge/ocr.py).
    ocr_engine: Literal["rapidocr", "tesseract"] = "rapidocr"
    # The parcel is read for marks at this size (long side, px) and its tallest lines of
    # print, up to read_lines of them, are recognised (each line costs ~10-40 ms).
    read_side: int = Field(
        480, ge=160, le=1280,
        description="Long side (px) the parcel is searched for lines of print at. Small marks "
        "are missed at 480; 640 found more on held-out parcels (brand named 79 -> 85% on one "
        "split, mixed on another) for 65% more brand-check CPU: for a unit with cores to spare")
    read_lines: int = Field(5, ge=1, le=16)
