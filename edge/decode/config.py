"""Decode section (owned by the label-reading stage).

The budget is counted in work, not time: decoder calls and megapixels handed
to decoders per parcel.  A read therefore gives the same answer on an idle
bench and on a unit busy with three other parcels; only its duration changes.
Every fallback can be switched off for a unit whose labels never need it.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from edge.configbase import Section

DecoderName = Literal["zxing", "zbar"]


class DecodeConfig(Section):
    """Reading the label: decoders, the fallback ladder and its work budget."""

    decoders: tuple[DecoderName, ...] = Field(
        ("zxing", "zbar"), min_length=1, description="zxing (primary, every symbology) and/or zbar (last resort)")
    max_frames: int = Field(3, ge=1, le=12, description="sharpest frames of a parcel tried, best first")
    budget_attempts: int = Field(40, ge=1, le=1000,
                                 description="decoder calls per parcel; no new rung starts past this")
    budget_mpx: float = Field(12.0, gt=0, le=500, description=(
        "megapixels handed to decoders per parcel; no new rung starts past this (the first always runs)"))
    whole_frame_mpx: float = Field(2.5, gt=0, le=50, description=(
        "frames up to this size are first read whole with zxing-cpp's default options; larger ones "
        "(12 MP) are searched at low resolution and decoded as full-resolution crops"))
    finder_width: int = Field(1280, ge=320, le=4096,
                              description="width a large frame is reduced to for finding the label")
    max_text: int = Field(256, ge=16, le=4096, description=(
        "barcode text shown on one terminal line (records and JSON keep the exact text)"))
    parcel_margin_px: int = Field(24, ge=0, le=400, description="pixels around the parcel box that are decoded too")
    locate: bool = Field(True, description="find barcodes at any angle and decode them straightened")
    max_regions: int = Field(6, ge=1, le=32, description="located barcode regions tried per frame")
    region_pad: float = Field(0.25, ge=0.0, le=2.0,
                              description="quiet zone added around a located region, as a fraction of its size")
    rectify: bool = Field(True, description="find the label's quadrilateral and decode it straightened (perspective)")
    enhance: bool = Field(True, description="contrast-stretch and denoise dark frames and decode again")
    dark_level: float = Field(90.0, ge=0, le=255, description="mean grey level under which a frame counts as dark")
    upscale: bool = Field(False, description="decode located regions again at 2x")
    deblur: bool = Field(True, description=(
        "blind deblurring of located 1D codes: blur estimated from the image, averaged along the bars, "
        "Wiener-deconvolved across them"))
    max_blur_px: float = Field(40.0, ge=2, le=200, description="longest blur (px) the deblurring estimates")
    zbar_fallback: bool = Field(True, description="pyzbar on located regions once zxing has failed")
    ocr: bool = Field(False, description=(
        "read the printed S10/1Z line by OCR when no symbol gives a reference (accepted only when its "
        "check digit validates; about 50-200 ms per no-read parcel)"))
    ocr_engine: Literal["rapidocr", "tesseract"] = Field("rapidocr", description="OCR engine (edge.ocr)")
