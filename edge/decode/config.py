"""Decode section (owned by the label-reading stage, #3).

Defaults are what the benchmark measured as reading most for its cost on a
1280x960 frame (bench/bench_decode.py); every fallback can be switched off
for a unit whose labels never need it.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from edge.configbase import Section

DecoderName = Literal["zxing", "zbar"]


class DecodeConfig(Section):
    decoders: tuple[DecoderName, ...] = Field(("zxing", "zbar"), min_length=1)
    max_frames: int = Field(3, ge=1, le=12)
    budget_ms: float = Field(60.0, gt=0, le=2000)
    max_text: int = Field(256, ge=16, le=4096)
    parcel_margin_px: int = Field(24, ge=0, le=400)
    locate: bool = True
    max_regions: int = Field(6, ge=1, le=32)
    region_pad: float = Field(0.25, ge=0.0, le=2.0)
    enhance: bool = True
    dark_level: float = Field(90.0, ge=0, le=255)
    upscale: bool = True
    small_module_px: float = Field(2.2, ge=0.5, le=10.0)
    deblur_px: tuple[float, ...] = Field((3.5, 4.0), max_length=4)
    zbar_fallback: bool = True

    @field_validator("deblur_px")
    @classmethod
    def _lengths(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 1.0 <= x <= 16.0 for x in v):
            raise ValueError("each motion-blur length must be 1-16 px")
        return v
