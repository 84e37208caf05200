"""Decode section (owned by the label-reading stage, #3).

Defaults are what bench/bench_decode.py measured as reading most for its
cost on 1280x960 synthetic conveyor frames; every fallback can be switched
off for a unit whose labels never need it.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from edge.configbase import Section

DecoderName = Literal["zxing", "zbar"]


class DecodeConfig(Section):
    """Reading the label: decoders, the fallback ladder and its time budget."""

    decoders: tuple[DecoderName, ...] = Field(
        ("zxing", "zbar"), min_length=1, description="zxing (primary, every symbology) and/or zbar (last resort)")
    max_frames: int = Field(3, ge=1, le=12, description="sharpest frames of a parcel tried, best first")
    budget_ms: float = Field(100.0, gt=0, le=2000,
                             description="no new fallback starts after this many ms on one parcel")
    max_text: int = Field(256, ge=16, le=4096, description="barcode text kept per symbol; longer is cut and counted")
    parcel_margin_px: int = Field(24, ge=0, le=400, description="pixels around the parcel box that are decoded too")
    locate: bool = Field(True, description="find barcodes at any angle and decode them straightened")
    max_regions: int = Field(6, ge=1, le=32, description="located barcode regions tried per frame")
    region_pad: float = Field(0.25, ge=0.0, le=2.0,
                              description="quiet zone added around a located region, as a fraction of its size")
    enhance: bool = Field(True, description="contrast-stretch dark frames and decode again")
    dark_level: float = Field(90.0, ge=0, le=255, description="mean grey level under which a frame counts as dark")
    upscale: bool = Field(False, description="decode located regions again at 2x (read nothing extra in the bench)")
    deblur_px: tuple[float, ...] = Field(
        (3.5, 4.0), max_length=4, description="belt motion-blur lengths (px) deconvolved on located regions")
    defocus_px: tuple[float, ...] = Field(
        (3.0,), max_length=4, description="defocus disc radii (px) deconvolved on located regions")
    zbar_fallback: bool = Field(True, description="pyzbar on located regions once zxing has failed")

    @field_validator("deblur_px", "defocus_px")
    @classmethod
    def _blur_sizes(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 1.0 <= x <= 16.0 for x in v):
            raise ValueError("each blur size must be 1-16 px")
        return v
