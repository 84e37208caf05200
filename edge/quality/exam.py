"""The exam table's views of the photographic standard, each with its own minimums.

The conveyor sees a closed parcel from above; an officer examining it at a
table photographs more: the packaging outside and inside, the shipping label,
the product and each brand mark close up.  Each view is a small section of the
profile, so the guide officers read and the checks their photos meet come from
the same values.  Sizes are judged on the photo's longer and shorter sides,
because a phone may be held either way.  A scale reference is the printed scale
card of the guide (an ArUco marker of known side); its pixels per millimetre
are what "close enough" means for views that need fine detail.
"""
from __future__ import annotations

import re

from pydantic import Field, model_validator

from edge.configbase import Section

SCALE_CARD_DICTIONARY = "DICT_4X4_50"
SCALE_CARD_MARKER_ID = 7


class ExamView(Section):
    """One view an officer photographs at the exam table, and what it must meet."""

    title: str = Field(..., min_length=1, max_length=60, description="what the guide calls it")
    instruction: str = Field(..., min_length=1, max_length=300,
                             description="how to take it, in the guide and on the phone")
    required: bool = Field(True, description="a case's exam set needs at least one")
    max_count: int = Field(1, ge=1, le=9, description="how many photos of this view a set may hold")
    min_long_side: int = Field(1600, ge=320, le=16384, description="fewest pixels on the longer side")
    min_short_side: int = Field(1200, ge=240, le=16384,
                                description="fewest pixels on the shorter side")
    min_sharpness: float = Field(
        2.0, ge=0, le=1000,
        description="sharpness (the conveyor's measure) on the most detailed part of the photo")
    barcode: bool = Field(False, description="a barcode must be read in this view")
    min_module_px: float = Field(2.0, ge=0.5, le=20,
                                 description="fewest pixels per barcode module (barcode views)")
    max_reflection: float = Field(
        0.01, ge=0, le=1,
        description="largest patch clipped to white (a lamp's reflection), share of the photo")
    scale_required: bool = Field(False, description="the scale card must be in the photo")
    min_px_per_mm: float = Field(0.0, ge=0, le=100,
                                 description="fewest pixels per millimetre on the scale card")

    @model_validator(mode="after")
    def _sides(self) -> "ExamView":
        if self.min_short_side > self.min_long_side:
            raise ValueError("min_short_side must not exceed min_long_side")
        if self.min_px_per_mm > 0 and not self.scale_required:
            raise ValueError("min_px_per_mm needs scale_required: true")
        return self


def default_exam_views() -> dict[str, ExamView]:
    return {
        "exterior": ExamView(
            title="Exterior packaging",
            instruction="The whole closed parcel on the table, label side up, the scale card "
                        "beside it, nothing of the parcel cut off.",
            scale_required=True, min_px_per_mm=1.0),
        "label": ExamView(
            title="Shipping label",
            instruction="The shipping label filling most of the photo, flat and square on, "
                        "every barcode sharp.",
            barcode=True, min_module_px=2.0),
        "interior": ExamView(
            title="Interior packaging",
            instruction="The opened parcel from above: inner packaging, fillers, invoices "
                        "and how the goods were packed."),
        "product": ExamView(
            title="Product",
            instruction="The goods taken out, front side, the scale card beside them.",
            scale_required=True, min_px_per_mm=3.0),
        "mark": ExamView(
            title="Mark close-up",
            instruction="Each brand mark, logo or serial plate close up, the scale card "
                        "beside it; one photo per mark.",
            max_count=9, scale_required=True, min_px_per_mm=8.0),
    }


VIEW_NAME = re.compile(r"^[a-z][a-z0-9_]{0,11}$")


def check_exam_views(views: dict[str, ExamView]) -> dict[str, ExamView]:
    """View names end up in file names and topics: short lowercase ids, at least one view."""
    if not views:
        raise ValueError("exam_views must name at least one view")
    for name in views:
        if not VIEW_NAME.match(name):
            raise ValueError(f"exam view name {name[:40]!r} must be 1-12 lowercase letters, "
                             "digits or '_', starting with a letter")
    return views
