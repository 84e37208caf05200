"""Classify section (owned by the classifier stage, #4).

The model directory holds ``manifest.json`` and the ONNX files it names; the
manifest, not this config, says how inputs are prepared, so that a model
update can never be fed pixels the way an older model wanted them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

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
    # print, up to read_lines of them, are recognised (each line costs ~10-40 ms); each look
    # recognises them tallest first and stops at a catalogue name read surely.
    read_side: int = Field(
        480, ge=160, le=1280,
        description="Long side (px) the parcel is searched for lines of print at. Small marks "
        "are missed at 480; 640 named more brands on two of four held-out splits (78.8 -> 83.3%, "
        "86.3 -> 87.9%) and fewer on two (92.5 -> 92.1%, 84.6 -> 83.8%), flagged 2.5% of one "
        "split's decoys, and costs 55% more brand-check CPU")
    read_lines: int = Field(5, ge=1, le=16)
    second_look: Literal["never", "hidden", "always"] = Field(
        "hidden", description="A parcel on which no catalogue name was read is read once more "
        "with its local contrast raised (a mark in a colour close to its surface's). 'always': "
        "every such parcel pays that second OCR pass (held-out: brand named +0.4 to +5.0 points "
        "on four splits; whole path 106 -> 146 ms at 1280x960 on the bench conveyor). 'hidden': "
        "only parcels whose surface could hide a catalogue mark, its median colour within "
        "CIEDE2000 25 of a brand's colour or dark (L* <= 30); on white or printed board, and on "
        "kraft unless a brand is orange or brown, every printed colour already shows (held-out: "
        "most of 'always's gain, brand named 84.6/78.8/86.2/92.5 -> 85.4/82.9/86.7/92.9%, taken on "
        "49% of parcels without a brand). 'never': one look. true / false mean always / never")

    turned_look: Literal["unnamed", "steep"] = Field(
        "unnamed", description="A parcel on which no catalogue name was read is read again "
        "turned a quarter: the text detector misses a name turned 60-90 degrees on the belt, "
        "often altogether. 'unnamed': every such parcel. 'steep': only where the detector "
        "found a piece of print running more than 30 degrees from level, read or not (a "
        "turned name shows as such pieces): on two held-out splits it took the turned look on "
        "44% of the parcels 'unnamed' did; on eight others it named 89.1% of brands rather "
        "than 89.6% and caught 0.3-0.7 points fewer suspects of each kind, genuine parcels "
        "judged the same. For a unit whose CPU cannot keep up: on the 12 MP bench conveyor, "
        "whose parcels mostly carry no brand, the brand check took 217 ms a parcel here with "
        "'steep' and 298 ms with 'unnamed'")

    @field_validator("second_look", mode="before")
    @classmethod
    def _legacy_second_look(cls, value: object) -> object:
        """Configs written when the second look was a switch keep their meaning."""
        if isinstance(value, bool):
            return "always" if value else "never"
        return value
