"""Reading printed words: one small interface over OCR engines that ship their weights.

The brand check reads a candidate mark's words and the label reader reads the
printed S10 line; both want the same thing: the lines of text in an upright
picture, each with what it says, how sure the engine is and where it is.

Two engines, chosen by measurement (``bench/bench_ocr.py``):

* ``rapidocr`` (default): PP-OCRv4 detection + recognition as ONNX files inside
  the ``rapidocr-onnxruntime`` wheel, run by onnxruntime in-process.  Measured
  on 25 mark crops each (one thread, busy 2-core host): generator marks 84 %
  read exactly, URW-font words 100 %, about 45-50 ms a crop with detection
  limited to 320 px on the long side.
* ``tesseract`` (:mod:`edge.ocr_tesseract`): Debian's ``tesseract-ocr`` (LSTM,
  ``eng``) as a subprocess: generator marks 60 %, URW-font words 97.5 %, about
  230-260 ms a crop (most of it process start and model load), so only a
  fallback where the wheel is absent.

Nothing is downloaded at run time: both engines' weights are installed files.
Usage::

    from edge.ocr import open_engine
    engine = open_engine("rapidocr", threads=1)
    for line in engine.read_lines(image_bgr):
        print(line.text, line.confidence, line.box)
"""
from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import cv2
import numpy as np

from edge.ocr_columns import Columns, Kept
from edge.ocr_models import FUSED_DIR, usable_models
from edge.pyramid import halve

__all__ = ["ENGINES", "OcrEngine", "OcrError", "Quad", "TextLine", "as_bgr", "clean_text",
           "lies_on", "open_engine", "read_lines", "slope_deg"]

log = logging.getLogger(__name__)

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]
# Pictures larger than this on their long side are shrunk first (tesseract's time
# grows with area); ``RapidOcr(det_side=...)`` sets how small detection sees them.
MAX_SIDE = 1280
# RapidOcr finds lines on its own small copy and only cuts the lines from the picture,
# so it takes pictures up to this size as they are: shrinking a 12 MP frame's parcel
# (about 1500 px on the classifier's pyramid level) to 1280 cost 15 ms, a tenth of its OCR.
RAPID_MAX_SIDE = 2048
MAX_TEXT = 200
# Recognition's input is a line 48 px high and at least this wide.  PP-OCR pads every
# line to 320 px (its training width); a brand name is 2-5 heights long, so most of a
# 320 px input was padding: at 96 px the words read the same and recognition costs a
# sixth less (held-out brand benchmark, three splits).
REC_MIN_WIDTH = 96
# A line recognised less surely than this is read again upside down (RapidOcr, any_angle).
RETRY_BELOW = 0.9
# Two line boxes overlapping by this share of their union lie on the same line.
SAME_PLACE = 0.5


class OcrError(RuntimeError):
    """The engine cannot run here (missing package or binary); the message says which."""


@dataclass(frozen=True)
class TextLine:
    """One line of text: what it says, the engine's confidence 0..1, its corners in image px.

    ``box`` is four (x, y) corners clockwise from top-left of the picture that
    was read (not of any resized copy).  ``text`` is untrusted: printable, capped.
    ``upside_down``: the words were read with the line's crop turned half a turn, so
    they run from the box's right end to its left (what lies before the first letter
    lies at the right).
    """

    text: str
    confidence: float
    box: Quad
    # Read with ``respell=(read, meant)`` and holding ``read``: ln P(the line with ``read`` spelt
    # ``meant``) - ln P(the line as read) under the engine's recogniser (:mod:`edge.ctc`).
    respelt: float | None = None
    upside_down: bool = False

    @property
    def height(self) -> float:
        (x0, y0), _, _, (x3, y3) = self.box
        return float(np.hypot(x3 - x0, y3 - y0))


class OcrEngine(Protocol):
    name: str

    def read_lines(self, image_bgr: np.ndarray, skip: Sequence[TextLine] = (),
                   respell: tuple[str, str] | None = None, level_within: float = 90.0,
                   found: list[Quad] | None = None,
                   enough: Callable[[TextLine], bool] | None = None) -> tuple[TextLine, ...]:
        """Every text line found in ``image_bgr`` (uint8 BGR or grey), top to bottom, but
        those lying where a line of ``skip`` (read before, in this picture's pixels) lies
        and those running steeper than ``level_within`` degrees from the picture's level.
        With ``respell`` an engine that can says, for lines holding its first word, how
        likely it finds them with that word spelt as the second (``TextLine.respelt``).
        ``found`` receives the corners of every line the engine found, read or not (where
        print lies that was not read: a name too steep to read shows as a piece of one).
        With ``enough`` an engine that recognises line by line reads the tallest first and
        stops after the first line for which it holds (the lines read so far come back):
        recognition is the costly step, and the rest cannot change what that line says."""

    def allow_letters(self, letters: str) -> None:
        """Letters of other scripts than Latin the engine may read (a catalogue's names in
        them); other letters of those scripts are never printed."""


def clean_text(text: str) -> str:
    """Printable characters only, capped: OCR output is as untrusted as a barcode."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(text)).strip()[:MAX_TEXT]


def as_bgr(image: np.ndarray, max_side: int = MAX_SIDE) -> tuple[np.ndarray, float]:
    """uint8 BGR no larger than ``max_side``, and the factor that maps back to the input."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected a uint8 image, got {image.dtype} {image.shape}")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    long_side = max(image.shape[:2])
    if long_side <= max_side:
        return image, 1.0
    f = max_side / long_side
    small = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    return small, 1.0 / f


class RapidOcr:
    """PP-OCRv4 (ONNX, shipped in the rapidocr-onnxruntime wheel), one session set per engine.

    Detection finds the lines (as rotated quads); lines too small or too square
    to be words (an emblem, a dot) are dropped before recognition, which is the
    costly step.  With ``any_angle`` the orientation classifier turns
    upside-down lines first, for pictures not known to be upright.
    """

    name = "rapidocr"

    def __init__(self, threads: int = 1, min_confidence: float = 0.3, det_side: int = 320,
                 any_angle: bool = False, min_height: float = 7.0,
                 min_aspect: float = 1.2, max_lines: int = 0, det_thresh: float = 0.3,
                 det_box_thresh: float = 0.5, fused: Path | None = FUSED_DIR) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise OcrError(f"rapidocr engine needs the rapidocr-onnxruntime package: {exc}") \
                from None
        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        # The same models with their elementwise chains folded (edge.ocr_models), when they fit.
        paths = usable_models(fused) if fused is not None else {}
        self.fused = bool(paths)
        # rec_batch_num=1: a batch pads every line to the widest one's length, and on a CPU
        # batching buys nothing back (measured on parcels: recognition 1.58 s -> 0.87 s for
        # 20 lines, the words read the same or better).
        self._ocr = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1,
                             use_cls=any_angle, text_score=min_confidence,
                             det_limit_side_len=det_side, det_limit_type="max", rec_batch_num=1,
                             det_thresh=det_thresh, det_box_thresh=det_box_thresh,
                             **{f"{role}_model_path": str(p) for role, p in paths.items()})
        det = self._ocr.text_det
        det.get_preprocess = _blob_preprocess(det.get_preprocess)
        shape = self._ocr.text_rec.rec_image_shape
        self._ocr.text_rec.rec_image_shape = [*shape[:2], REC_MIN_WIDTH]
        self._columns = Columns(self._ocr.text_rec)
        self.any_angle, self.min_confidence, self.det_side = any_angle, min_confidence, det_side
        self.min_height, self.min_aspect = min_height, min_aspect
        # Recognition costs per line: with max_lines > 0 only the tallest lines are read.
        self.max_lines = max_lines

    def read_lines(self, image_bgr: np.ndarray, skip: Sequence[TextLine] = (),
                   respell: tuple[str, str] | None = None, level_within: float = 90.0,
                   found: list[Quad] | None = None,
                   enough: Callable[[TextLine], bool] | None = None) -> tuple[TextLine, ...]:
        """Safe to call from several threads at once (each path worker reads its own parcel):
        onnxruntime runs one session from many threads, and nothing here keeps a call's state
        on the engine (see :meth:`_detect` and :class:`edge.ocr_columns.Columns`)."""
        image, back = as_bgr(image_bgr, RAPID_MAX_SIDE)
        pad = max(0, 32 - min(image.shape[:2]))
        if pad:
            image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        known = [np.asarray(t.box, np.float32) / back + pad for t in skip]
        boxes = self._detect(image)
        if found is not None:
            found.extend(_corners(b - pad, back) for b in boxes)
        # A line read before is not recognised again (recognition is the costly step).
        boxes = [b for b in boxes if self._wordlike(b) and not lies_on(b, known)
                 and slope_deg(b) <= level_within]
        if self.max_lines > 0:
            boxes = sorted(boxes, key=_box_height, reverse=True)[:self.max_lines]
        if not boxes:
            return ()
        boxes = self._ocr.sorted_boxes(np.asarray(boxes, np.float32))
        crops, turned = self._upright(self._ocr.get_crop_img_list(image, boxes))
        # With ``enough``, tallest first and one at a time, each recognition being one run.
        groups = [list(range(len(boxes)))] if enough is None else [[i] for i in sorted(
            range(len(boxes)), key=lambda i: _box_height(boxes[i]), reverse=True)]
        lines: dict[int, TextLine] = {}
        for group in groups:
            texts, columns = self._recognise([crops[i] for i in group], respell is not None)
            for i, (text, score, again) in zip(group, texts):
                if float(score) >= self.min_confidence and str(text).strip():
                    odds = self._columns.odds(columns, str(text), respell) if respell else None
                    lines[i] = _line(np.asarray(boxes[i]) - pad, text, score, back, odds,
                                     turned[i] != again)
            if enough is not None and any(enough(lines[i]) for i in group if i in lines):
                break
        return tuple(lines[i] for i in sorted(lines))

    def allow_letters(self, letters: str) -> None:
        self._columns.allow(letters)

    def _upright(self, crops: list[np.ndarray]) -> tuple[list[np.ndarray], list[bool]]:
        """The line crops with ``any_angle`` turned as the angle classifier finds them (all in
        one run, as before any is read), and which of them it turned half a turn."""
        if not self.any_angle:
            return crops, [False] * len(crops)
        crops, angles, _ = self._ocr.text_cls(crops)
        limit = float(self._ocr.text_cls.cls_thresh)  # rapidocr turns these, as here
        return crops, ["180" in str(label) and float(score) > limit for label, score in angles]

    def _recognise(self, crops: list[np.ndarray], keep: bool) -> tuple[list[Any], Kept]:
        """Each (upright) line crop's (text, score, again), ``again`` where with ``any_angle``
        it read better turned half a turn, and with ``keep`` the recogniser's columns of each
        line decoded."""
        with self._columns.kept(keep) as columns:
            texts, _ = self._ocr.text_rec(crops)
            if self.any_angle:
                texts = self._either_way(crops, texts)
        return [(t[0], t[1], len(t) > 2 and bool(t[2])) for t in texts], columns

    def wrap_models(self, wrap: Callable[[str, Any], Any]) -> None:
        """Each ONNX model session (``det``, ``cls``, ``rec``) replaced by ``wrap(role, session)``.

        For the benchmark: its floor for this stage is the models run alone on
        the very inputs the path gave them, so it records those inputs here.
        """
        ocr = self._ocr
        ocr.text_det.infer = wrap("det", ocr.text_det.infer)
        ocr.text_cls.infer = wrap("cls", ocr.text_cls.infer)
        ocr.text_rec.session = wrap("rec", ocr.text_rec.session)

    def _either_way(self, crops: list[np.ndarray], texts: list[Any]) -> list[Any]:
        """Unsure lines read again turned half a turn; the surer reading stands.

        Parcels lie on the belt any way round, and the angle classifier is
        often unsure of a single word in a display face: it leaves an upside-down
        mark upside down, and that reads as confident-looking garbage ("Yld()"
        for ORBIQ).  Upright print reads far surer, so the two are compared.
        """
        unsure = [i for i, t in enumerate(texts) if float(t[1]) < RETRY_BELOW]
        if not unsure:
            return texts
        again, _ = self._ocr.text_rec([cv2.rotate(crops[i], cv2.ROTATE_180) for i in unsure])
        out = list(texts)
        for i, other in zip(unsure, again):
            if float(other[1]) > float(out[i][1]):
                out[i] = (other[0], other[1], True)
        return out

    def _detect(self, image: np.ndarray) -> list[np.ndarray]:
        """Line quads in ``image`` pixels, found on a copy no larger than ``det_side``.

        Detection cost grows with area while recognition wants resolution, so
        lines are found small and read from the full-size picture.
        """
        small, f = image, 1.0
        while max(small.shape[:2]) >= 4 * self.det_side:  # exact halvings are OpenCV's fast path
            small, f = halve(small), f / 2
        g = min(1.0, self.det_side / max(small.shape[:2]))
        if g < 1.0:
            small = cv2.resize(small, None, fx=g, fy=g, interpolation=cv2.INTER_AREA)
            f *= g
        det = self._ocr.text_det
        # rapidocr's own call keeps its input step on the detector between two lines, where
        # another thread's call may replace it; here it stays this call's.
        prepared = det.get_preprocess(max(small.shape[:2]))(small)
        if prepared is None:
            return []
        boxes, _ = det.postprocess_op(det.infer(prepared)[0], small.shape[:2])
        boxes = det.filter_tag_det_res(boxes, small.shape[:2])
        return [np.asarray(b, np.float32) / f for b in boxes]

    def _wordlike(self, box: np.ndarray) -> bool:
        a = float(np.hypot(*(box[1] - box[0])))
        b = float(np.hypot(*(box[3] - box[0])))
        short, long_ = min(a, b), max(a, b)
        return short >= self.min_height and long_ >= self.min_aspect * short


def _blob_preprocess(make: Callable[[int], Any]) -> Callable[[int], Any]:
    """rapidocr's detection input step, normalised by OpenCV in float32.

    The wheel scales, centres and divides its resized picture in float64
    numpy (4.3 ms for a 480x352 input, a sixth of the fused detector's own
    time); ``cv2.dnn.blobFromImage`` does the same affine and the HWC to NCHW
    turn in one pass (0.7 ms), within 1.2e-7 of it.  It takes one scale for
    all channels, so a model configured with per-channel deviations keeps
    the wheel's step.
    """
    def get(max_wh: int) -> Any:
        op = make(max_wh)
        mean, std = np.asarray(op.mean, np.float64), np.asarray(op.std, np.float64)
        if np.ptp(std) > 0 or np.ptp(mean) > 0:
            return op
        scale, centre = 1.0 / (255.0 * float(std[0])), 255.0 * float(mean[0])

        def run(image: np.ndarray) -> np.ndarray | None:
            resized = op.resize(image)
            if resized is None:
                return None
            return cv2.dnn.blobFromImage(resized, scale, mean=(centre, centre, centre))
        return run
    return get


def lies_on(box: np.ndarray, known: Sequence[np.ndarray]) -> bool:
    """Whether ``box`` covers the same place as one of ``known`` (bounding boxes overlapping
    by at least half their union)."""
    x0, y0 = box[:, 0].min(), box[:, 1].min()
    x1, y1 = box[:, 0].max(), box[:, 1].max()
    for other in known:
        ox0, oy0 = other[:, 0].min(), other[:, 1].min()
        ox1, oy1 = other[:, 0].max(), other[:, 1].max()
        inter = max(0.0, min(x1, ox1) - max(x0, ox0)) * max(0.0, min(y1, oy1) - max(y0, oy0))
        union = (x1 - x0) * (y1 - y0) + (ox1 - ox0) * (oy1 - oy0) - inter
        if union > 0 and inter >= SAME_PLACE * union:
            return True
    return False


def slope_deg(box: Any) -> float:
    """How far the box's long side runs from level, 0-90 degrees (a line's direction either
    way along it, so upside-down print is level too)."""
    p = np.float32(box)
    top, side = p[1] - p[0], p[3] - p[0]
    dx, dy = top if np.hypot(*top) >= np.hypot(*side) else side
    return float(np.degrees(np.arctan2(abs(dy), abs(dx))))


def _box_height(box: np.ndarray) -> float:
    return float(min(np.hypot(*(box[1] - box[0])), np.hypot(*(box[3] - box[0]))))


def _corners(box: Any, back: float) -> Quad:
    corners = tuple((float(x) * back, float(y) * back) for x, y in box[:4])
    return corners  # type: ignore[return-value]


def _line(box: Any, text: str, score: float, back: float, respelt: float | None = None,
          upside_down: bool = False) -> TextLine:
    odds = None if respelt is None else round(respelt, 3)
    return TextLine(clean_text(text), round(float(score), 4), _corners(box, back), odds,
                    upside_down)


# Engines by name, each module imported only when its engine is opened.
ENGINES: dict[str, tuple[str, str]] = {"rapidocr": ("edge.ocr", "RapidOcr"),
                                       "tesseract": ("edge.ocr_tesseract", "Tesseract")}
_shared: dict[str, OcrEngine] = {}
_shared_lock = threading.Lock()


def open_engine(name: str = "rapidocr", **options: Any) -> OcrEngine:
    """A new engine by name; raises OcrError when it cannot run here, ValueError for a bad name."""
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r}; choose one of {sorted(ENGINES)}")
    module, engine = ENGINES[name]
    made: OcrEngine = getattr(importlib.import_module(module), engine)(**options)
    return made


def read_lines(image_bgr: np.ndarray, engine: str = "rapidocr") -> tuple[TextLine, ...]:
    """The text lines of ``image_bgr`` with a process-wide engine of that name (one thread)."""
    with _shared_lock:
        if engine not in _shared:
            _shared[engine] = open_engine(engine)
        ocr = _shared[engine]
    return ocr.read_lines(image_bgr)
