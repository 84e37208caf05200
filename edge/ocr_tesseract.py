"""Debian's tesseract-ocr as an OCR engine (:mod:`edge.ocr`'s interface): the fallback where
the rapidocr wheel is absent, measured in ``bench/bench_ocr.py``."""
from __future__ import annotations

import csv
import io
import subprocess
from typing import Callable, Sequence

import cv2
import numpy as np

from edge.ocr import OcrError, Quad, TextLine, as_bgr, lies_on, clean_text


class Tesseract:
    """Debian's tesseract-ocr (LSTM, English) run as a subprocess per picture."""

    name = "tesseract"

    def __init__(self, binary: str = "tesseract", psm: int = 11, timeout_s: float = 5.0) -> None:
        self.binary, self.psm, self.timeout_s = binary, psm, timeout_s
        try:
            subprocess.run([binary, "--version"], capture_output=True, timeout=timeout_s,
                           check=True)
        except (OSError, subprocess.SubprocessError) as exc:
            raise OcrError(f"tesseract engine needs the {binary!r} binary: {exc}") from None

    def allow_letters(self, letters: str) -> None:
        """Tesseract reads with its English model: Latin letters only, whatever is allowed."""

    def read_lines(self, image_bgr: np.ndarray, skip: Sequence[TextLine] = (),
                   respell: tuple[str, str] | None = None, level_within: float = 90.0,
                   found: list[Quad] | None = None,
                   enough: Callable[[TextLine], bool] | None = None) -> tuple[TextLine, ...]:
        """Tesseract's words come without their columns' letter probabilities: no ``respelt``;
        its lines are level rows of words, within any ``level_within``, and what it finds it
        reads in one run (``found`` receives the lines' boxes; ``enough`` saves nothing)."""
        image, back = as_bgr(image_bgr)
        ok, png = cv2.imencode(".png", image)
        if not ok:
            raise ValueError("image could not be encoded for tesseract")
        cmd = [self.binary, "stdin", "stdout", "-l", "eng", "--oem", "1", "--psm", str(self.psm),
               "-c", "tessedit_do_invert=0", "tsv"]
        done = subprocess.run(cmd, input=png.tobytes(), capture_output=True,
                              timeout=self.timeout_s, check=False)
        if done.returncode != 0:
            raise OcrError(f"tesseract failed: {done.stderr.decode(errors='replace')[:200]}")
        lines = _tsv_lines(done.stdout.decode("utf-8", errors="replace"), back)
        if found is not None:
            found.extend(t.box for t in lines)
        known = [np.asarray(t.box, np.float32) for t in skip]
        return tuple(t for t in lines if not lies_on(np.asarray(t.box, np.float32), known))


def _tsv_lines(tsv: str, back: float) -> tuple[TextLine, ...]:
    """Tesseract's word rows grouped into lines: text joined, confidence the mean, box the union."""
    lines: dict[tuple[str, str, str, str], list[dict[str, str]]] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") == "5" and (row.get("text") or "").strip():
            key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
            lines.setdefault(key, []).append(row)
    out = []
    for words in lines.values():
        x0 = min(int(w["left"]) for w in words)
        y0 = min(int(w["top"]) for w in words)
        x1 = max(int(w["left"]) + int(w["width"]) for w in words)
        y1 = max(int(w["top"]) + int(w["height"]) for w in words)
        conf = float(np.mean([max(0.0, float(w["conf"])) for w in words])) / 100.0
        box = ((x0 * back, y0 * back), (x1 * back, y0 * back), (x1 * back, y1 * back),
               (x0 * back, y1 * back))
        out.append(TextLine(clean_text(" ".join(w["text"] for w in words)), round(conf, 4), box))
    return tuple(sorted(out, key=lambda t: t.box[0][1]))
