"""The Photographic Standards Guide: a PDF that renders and states the profile's own limits."""
from __future__ import annotations

import subprocess
from pathlib import Path

import cv2

from edge.hub.photos.config import CaptureConfig
from edge.hub.photos.guide import render_pdf, view_rows
from edge.hub.photos.scale import px_per_mm
from edge.quality.config import QualityProfile
from edge.quality.exam import ExamView


def _render(cfg: CaptureConfig, tmp_path: Path) -> tuple[str, list[Path]]:
    pdf = tmp_path / "guide.pdf"
    pdf.write_bytes(render_pdf(cfg))
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "page")], check=True,
                   timeout=60)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, timeout=60,
                          capture_output=True, text=True).stdout
    return " ".join(text.split()), sorted(tmp_path.glob("page-*.png"))


def test_the_pdf_renders_and_states_the_profiles_limits(tmp_path: Path) -> None:
    views = dict(QualityProfile().exam_views)
    views["mark"] = views["mark"].model_copy(update={"min_px_per_mm": 12.5, "min_long_side": 2400,
                                                     "max_reflection": 0.025})
    views["interior"] = ExamView(title="Inner wrapping", instruction="From above.", required=False,
                                 min_sharpness=4.5)
    cfg = CaptureConfig(quality=QualityProfile(exam_views=views, min_brightness=55),
                        max_upload_mb=20)
    text, pages = _render(cfg, tmp_path)
    assert len(pages) >= 2
    for page in pages:
        image = cv2.imread(str(page))
        assert image is not None and image.shape[0] > 1000 and image.std() > 1  # not blank
    for row in view_rows(cfg.quality):
        for words in (row.title, row.size, row.sharpness, row.barcode, row.scale, row.count,
                      row.reflection):
            assert words in text, words
    assert "over 2.5% of the photo" in text
    assert "at least 2400 x 1200 px" in text and "at least 12.5 px per mm" in text
    assert "Inner wrapping (interior) - optional" in text and "at least 4.5" in text
    assert "median brightness 55 to 235" in text and "up to 20 MB" in text
    assert "HEIC" in text and "SHA-256" in text


def test_the_printed_scale_card_measures_true_size(tmp_path: Path) -> None:
    _, pages = _render(CaptureConfig(), tmp_path)
    card = cv2.imread(str(pages[-1]))
    measured = px_per_mm(card)
    assert measured is not None and abs(measured - 150 / 25.4) < 0.1
