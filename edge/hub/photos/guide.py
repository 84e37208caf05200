"""The Photographic Standards Guide, generated from the profile: a page and a PDF.

What officers, importers and rights holders read and what the checks enforce
are one thing: every number here is read from the same :class:`QualityProfile`
and :class:`CaptureConfig` the service checks with.  The PDF (fpdf2, a
maintained pure-Python library) ends with the scale card at true size, printed
at 100 % so its marker is exactly 40 mm.
"""
from __future__ import annotations

from dataclasses import dataclass

from fpdf import FPDF
from PIL import Image

from edge.hub.photos.config import CaptureConfig
from edge.hub.photos.scale import MARKER_MM, marker_image
from edge.quality.config import QualityProfile
from edge.quality.exam import ExamView

TITLE = "Photographic Standards Guide"


@dataclass(frozen=True)
class ViewRow:
    """One view's line of the guide."""

    name: str
    title: str
    instruction: str
    count: str
    size: str
    sharpness: str
    barcode: str
    scale: str
    reflection: str


def view_row(name: str, v: ExamView) -> ViewRow:
    return ViewRow(
        name=name, title=v.title, instruction=v.instruction,
        count=("required" if v.required else "optional")
        + (f", up to {v.max_count}" if v.max_count > 1 else ""),
        size=f"at least {v.min_long_side} x {v.min_short_side} px",
        sharpness=f"at least {v.min_sharpness:g}",
        barcode=f"read, at least {v.min_module_px:g} px per module" if v.barcode else "-",
        scale=f"scale card, at least {v.min_px_per_mm:g} px per mm" if v.scale_required else "-",
        reflection=f"no reflection clipped to white over {v.max_reflection:.1%} of the photo")


def view_rows(profile: QualityProfile) -> list[ViewRow]:
    return [view_row(n, v) for n, v in profile.exam_views.items()]


def file_rules(cfg: CaptureConfig) -> list[str]:
    p = cfg.quality
    return [
        "Take photos with the phone's main camera through the capture page; JPEG, PNG and HEIC "
        f"are accepted, up to {cfg.max_upload_mb:g} MB and {cfg.max_pixels:,} pixels.",
        f"Filed photos are {p.file_type.upper()} at quality {p.jpeg_quality}, {p.colour_space}, "
        f"{p.bit_depth} bits per channel, at most {p.max_width} x {p.max_height} px and "
        f"{cfg.package.max_image_bytes:,} bytes each (larger ones are scaled down).",
        "Each file carries XMP metadata (station, time UTC, reference number, profile, view, "
        "redacted or not) and is named <reference>_<station>_<YYYYMMDDTHHMMSSZ>_<sequence>_"
        "<view>.jpg; the record beside them lists the SHA-256 of every file.",
        "Every photo has a redacted copy (<view>-redacted) for rights holders: label text is "
        "hidden except the barcodes and the reference line; a photo without a label is copied "
        "unchanged.",
    ]


def exposure_rules(p: QualityProfile) -> list[tuple[str, str]]:
    return [
        ("brightness", f"median brightness {p.min_brightness:g} to {p.max_brightness:g} (0-255)"),
        ("shadows", f"at most {p.max_shadows:.0%} of the photo at or below {p.clip_low}"),
        ("highlights", f"at most {p.max_highlights:.0%} of the packaging at or above {p.clip_high}"),
        ("glare", f"no reflection larger than {p.max_glare:.0%} of the packaging"),
        ("framing", f"the whole parcel in the exterior photo, at least {p.frame_margin:.0%} "
                    "of the frame from every edge"),
    ]


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9.5)


def _para(pdf: FPDF, text: str) -> None:
    pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _views(pdf: FPDF, rows: list[ViewRow]) -> None:
    for r in rows:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 6, f"{r.title} ({r.name}) - {r.count}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9.5)
        _para(pdf, r.instruction)
        with pdf.table(col_widths=(30, 150), first_row_as_headings=False) as table:
            for label, value in (("size", r.size), ("sharpness", r.sharpness),
                                 ("barcode", r.barcode), ("scale", r.scale),
                                 ("reflection", r.reflection)):
                row = table.row()
                row.cell(label)
                row.cell(value)
        pdf.ln(2)


def _scale_card(pdf: FPDF) -> None:
    pdf.add_page()
    _heading(pdf, "Scale card (print at 100 %, no scaling)")
    _para(pdf, f"The square is exactly {MARKER_MM:g} mm wide when printed at 100 %. Lay the card "
               "flat beside the item, fully visible, in every photo that asks for a scale.")
    x, y = 30.0, pdf.get_y() + 8
    pdf.image(Image.fromarray(marker_image(600)), x=x, y=y, w=MARKER_MM, h=MARKER_MM)
    ruler_x = x + MARKER_MM + 10
    pdf.set_line_width(0.2)
    pdf.line(ruler_x, y + MARKER_MM, ruler_x + 100, y + MARKER_MM)
    for mm in range(0, 101):
        tall = 8 if mm % 10 == 0 else (5 if mm % 5 == 0 else 3)
        pdf.line(ruler_x + mm, y + MARKER_MM, ruler_x + mm, y + MARKER_MM - tall)
        if mm % 10 == 0:
            pdf.set_xy(ruler_x + mm - 3, y + MARKER_MM + 1)
            pdf.cell(6, 4, str(mm // 10) + (" cm" if mm == 100 else ""), align="C")


def render_pdf(cfg: CaptureConfig) -> bytes:
    """The guide as PDF bytes; the same config always gives the same text."""
    p = cfg.quality
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_title(f"{TITLE} ({p.name})")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, TITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9.5)
    _para(pdf, f"Profile {p.name}. Generated from the profile the capture page checks every "
               "photo against: what this guide says is what is enforced.")
    _heading(pdf, "Files")
    for rule in file_rules(cfg):
        _para(pdf, "- " + rule)
    _heading(pdf, "Views of an exam, in order")
    _views(pdf, view_rows(p))
    _heading(pdf, "Light and framing (every view)")
    for name, rule in exposure_rules(p):
        _para(pdf, f"- {name}: {rule}")
    _heading(pdf, "When a photo fails")
    _para(pdf, "The page says which check failed, what was measured and what to do (move "
               "closer, tilt the phone against glare, use the exam light); retake it. Only "
               "photos that pass are kept, and a set is filed once every required view passed.")
    _scale_card(pdf)
    return bytes(pdf.output())
