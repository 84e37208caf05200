"""The logo-and-packaging classifier stage: find the mark, classify a sharp crop of it.

Two small ONNX models named by one manifest: a locator on a thumbnail of the
parcel (where is the mark, what packaging is this) and a classifier on the mark
cut from the full frame (genuine, or which kind of suspect, and which brand).
A model that is missing or does not verify never stops the unit: the stage
then answers ``available=False`` and labels are still read.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from edge.catalogue import CatalogueSlot
from edge.classify.config import ClassifyConfig
from edge.classify.crops import MarkGuess, crop_mark, cut_padded, decode_peaks, parcel_region
from edge.classify.manifest import Manifest, ModelError, load_manifest, read_verified
from edge.classify.preprocess import softmax, to_tensor, to_tensors
from edge.classify.proportions import Reference, read_reference, with_aspect, with_digit
from edge.classify.session import open_session, run, warm_up
from edge.classify.shading import broad_shading, fuse, with_shading
from edge.classify.surface import patch_packaging, scaled_patches, surface_packaging
from edge.classify.verify import scan_parcel
from edge.imageio import bgr8
from edge.pyramid import Pyramid, Surface
from edge.records import Box, Classification, ModelInfo

__all__ = ["Classifier", "ClassifyConfig", "Inference", "ModelError", "load_classifier"]

log = logging.getLogger(__name__)
# Line detection for marks keeps fainter lines than PP-OCR's defaults (0.3 / 0.5): a worn,
# blurred or low-contrast mark gives a weak text map, and only the tallest lines are read.
MARK_DET_THRESH = 0.2
MARK_DET_BOX_THRESH = 0.3


@dataclass(frozen=True, eq=False)
class Inference:
    """Uncalibrated outputs for one parcel: where the mark is and the raw logits."""

    guess: MarkGuess
    label_logits: np.ndarray
    brand_logits: np.ndarray
    packaging_logits: np.ndarray
    # Every candidate the locator offered and the network's "no mark" probability for each.
    guesses: tuple[MarkGuess, ...] = ()
    none_probs: tuple[float, ...] = ()


class Classifier:
    """Runs the two models on one parcel; holds sessions, never per-parcel state."""

    def __init__(self, manifest: Manifest | None, sessions: tuple[Any, Any] | None,
                 info: ModelInfo | None, error: str = "", catalogue: CatalogueSlot | None = None,
                 ocr: Any = None, model_dir: Path | None = None,
                 second_look: str = "never", surface: Any = None,
                 turned_look: str = "unnamed") -> None:
        self.manifest = manifest
        self._surface = surface  # the packaging network's session (edge.classify.surface)
        self.second_look = second_look  # see ClassifyConfig.second_look
        self.turned_look = turned_look  # see ClassifyConfig.turned_look
        self.model_dir = model_dir  # where the golden inputs lie: the self-test reads them
        self._sessions = sessions
        self.info = info
        self.error = error
        self.catalogue = catalogue
        self.ocr = ocr
        self._references: dict[str, dict[str, Reference]] = {}

    @property
    def available(self) -> bool:
        return self._sessions is not None

    def classify(self, image: np.ndarray, box: Box | None = None,
                 label: Box | None = None, surface: Surface | None = None) -> Classification:
        """Calibrated scores for the parcel in ``image`` (BGR), ``box`` its region if known,
        ``label`` its shipping label's paper if known (packaging is not read there),
        ``surface`` the same parcel in its frame's pyramid at a known scale, where the
        packaging network's patches are cut at its training's resolution.

        Raises ValueError only for an image that is not an image (a caller's bug).
        """
        if self._sessions is None or self.manifest is None:
            return Classification(model=self.info, scores={}, available=False, error=self.error)
        start = time.perf_counter()
        image = bgr8(image)
        try:
            if self.catalogue is None or self.ocr is None:
                result = self.scores_of(self.infer(image, box, label))
            else:
                logits, shading = self.packaging_reading(image, box, label, surface)
                result = with_shading(self.verified(image, logits, box), shading)
        except Exception as exc:  # onnxruntime errors share no base; lose one parcel, not the unit
            log.warning("classifier failed on a parcel: %s", exc)
            return Classification(model=self.info, scores={}, available=False,
                                  error=f"inference failed: {str(exc)[:200]}")
        return dataclasses.replace(result, ms=(time.perf_counter() - start) * 1000.0)

    def infer(self, image: np.ndarray, box: Box | None = None,
              label: Box | None = None) -> Inference:
        """Both models' raw outputs (training calibrates on these logits).

        Every candidate the locator offers is classified in one batch and the
        most mark-like one (lowest ``none`` probability) speaks for the parcel:
        a faint mark the locator ranked second is still judged on its crop.
        """
        if self._sessions is None or self.manifest is None:
            raise ModelError(self.error or "classifier unavailable")
        image = bgr8(image)
        m = self.manifest
        region, out = self._locate(image, box)
        guesses = decode_peaks(out["heat"][0, 0], out["geom"][0], region, m.locator_stride,
                               m.locator_candidates)
        crops = np.stack([self.mark_crop(image, g) for g in guesses])
        marks = run(self._sessions[1], m.model, to_tensors(crops, m.model.input))
        none = softmax(marks["labels"])[:, m.labels.index("none")]
        best = int(np.argmin(none))
        packaging = out["packaging"][0] if self._surface is None else \
            self._surface_logits(image, box, label)[0]
        return Inference(guesses[best], marks["labels"][best], marks["brand"][best],
                         packaging, tuple(guesses), tuple(float(p) for p in none))

    def packaging(self, image: np.ndarray, box: Box | None = None,
                  label: Box | None = None, surface: Surface | None = None) -> np.ndarray:
        """Packaging logits alone (with the catalogue's check the mark network's scores are not
        used): the surface network's when the model has one, else the locator's head."""
        return self.packaging_reading(image, box, label, surface)[0]

    def packaging_reading(self, image: np.ndarray, box: Box | None = None,
                          label: Box | None = None, surface: Surface | None = None
                          ) -> tuple[np.ndarray, float | None]:
        """Packaging logits and the parcel's broad shading where the model weighs it (the
        officer is told it: a flat surface or one that drapes is something to look at)."""
        if self._sessions is None or self.manifest is None:
            raise ModelError(self.error or "classifier unavailable")
        if self._surface is not None:
            return self._surface_logits(image, box, label, surface)
        return np.asarray(self._locate(image, box)[1]["packaging"][0]), None

    def _surface_logits(self, image: np.ndarray, box: Box | None, label: Box | None,
                        surface: Surface | None = None) -> tuple[np.ndarray, float | None]:
        m = self.manifest
        assert m is not None and m.surface is not None
        whole = box if box is not None else Box(0, 0, image.shape[1], image.shape[0])
        if surface is not None and m.surface_px_per_mm is not None:
            logp = self.run_surface(scaled_patches(surface, m.surface_px_per_mm,
                                                   m.surface.input.height, m.surface_patches))
        else:
            logp = surface_packaging(self._surface, m.surface, image, whole, label,
                                     m.surface_patches, m.surface_pooling)
        if m.surface_shading is None:
            return logp, None
        shade = broad_shading(surface.pyramid, surface.box, surface.label) if surface else \
            broad_shading(Pyramid(image), whole, label)
        return fuse(logp, shade, m.surface_shading), shade

    def run_surface(self, patches: np.ndarray) -> np.ndarray:
        """The surface network's averaged log-probabilities for ready patches (golden checks)."""
        if self._surface is None or self.manifest is None or self.manifest.surface is None:
            raise ModelError("the model has no surface network")
        return patch_packaging(self._surface, self.manifest.surface, patches,
                               self.manifest.surface_pooling)

    def _locate(self, image: np.ndarray, box: Box | None) -> tuple[Box, dict[str, np.ndarray]]:
        """The locator on the parcel's thumbnail: the region it covers and its outputs."""
        assert self._sessions is not None and self.manifest is not None
        spec = self.manifest.locator.input
        region = parcel_region(image, box, spec.width / spec.height)
        return region, run(self._sessions[0], self.manifest.locator,
                           to_tensor(cut_padded(image, region), spec))

    def verified(self, image: np.ndarray, packaging_logits: np.ndarray,
                 box: Box | None = None) -> Classification:
        """The parcel's words read and checked against the catalogue (the unit's answer);
        without a catalogue (model-only use in training) :meth:`scores_of` speaks instead."""
        if self.catalogue is None or self.ocr is None:
            raise ModelError("no brand catalogue or OCR engine: use scores_of")
        catalogue = self.catalogue.current
        if catalogue is None:
            raise ModelError("no brand catalogue loaded")
        from edge.classify.judge import judge

        region = box if box is not None and box.w >= 16 and box.h >= 16 else \
            Box(0, 0, image.shape[1], image.shape[0])
        references = self.references(catalogue)
        reading = scan_parcel(self.ocr, image, region, catalogue, self.second_look,
                              self.turned_look)
        readings = [with_digit(with_aspect(reading, references), references)]
        assert self.manifest is not None
        packaging = softmax(packaging_logits)
        return judge(readings, catalogue, self.info,
                     {k: float(v) for k, v in zip(self.manifest.packagings, packaging)})

    def references(self, catalogue: Any) -> dict[str, Reference]:
        """Each brand's name as its reference picture prints it, read once per catalogue
        version, after the OCR engine is told the letters of its names (it reads no other
        script's letters)."""
        if catalogue.sha256 not in self._references:
            self.ocr.allow_letters("".join(b.name + "".join(b.spellings)
                                           for b in catalogue.brands))
            self._references = {catalogue.sha256: {b.name: read_reference(self.ocr, b)
                                                   for b in catalogue.brands}}
        return self._references[catalogue.sha256]

    def reload_catalogue(self, folder: Path) -> bool:
        """Swap in a new catalogue; a bad one is refused and the last good one kept."""
        if self.catalogue is None or self.manifest is None:
            return False
        return self.catalogue.load(folder, self.manifest.packagings,
                                   f"{self.manifest.name} {self.manifest.version}")

    def mark_crop(self, image: np.ndarray, guess: MarkGuess) -> np.ndarray:
        """The mark from the full-resolution frame, upright, at the classifier's input size."""
        assert self.manifest is not None
        spec = self.manifest.model.input
        return crop_mark(image, guess, self.manifest.crop_margin, (spec.height, spec.width))

    def run_inputs(self, parcel: np.ndarray, marks: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        """Both models on a ready thumbnail and mark crops (BGR), the crops as one batch.

        What golden checks compare, and what the benchmark times as the models alone.
        """
        if self._sessions is None or self.manifest is None:
            raise ModelError(self.error or "classifier unavailable")
        m = self.manifest
        out = dict(run(self._sessions[0], m.locator, to_tensor(parcel, m.locator.input)))
        batch = np.concatenate([to_tensor(mark, m.model.input) for mark in marks])
        out.update(run(self._sessions[1], m.model, batch))
        return out

    def scores_of(self, raw: Inference) -> Classification:
        """Calibrated scores from raw outputs, with the manifest's temperature and thresholds."""
        if self.manifest is None:
            raise ModelError(self.error or "classifier unavailable")
        m = self.manifest
        probs = softmax(raw.label_logits, m.temperature)
        brands = softmax(raw.brand_logits, m.brand_temperature)
        packaging = softmax(raw.packaging_logits)
        top = m.labels[int(np.argmax(probs))]
        b, p = int(np.argmax(brands)), int(np.argmax(packaging))
        return Classification(
            model=self.info, scores={k: round(float(v), 4) for k, v in zip(m.labels, probs)},
            top=top, brand=m.brands[b] if top != "none" else "",
            brand_score=round(float(brands[b]), 4), packaging=m.packagings[p],
            packaging_score=round(float(packaging[p]), 4),
            packaging_scores={k: round(float(v), 4) for k, v in zip(m.packagings, packaging)},
            mark_box=raw.guess.box if top != "none" else None,
            flag_thresholds=dict(m.flag_thresholds), review_thresholds=dict(m.review_thresholds),
            review_total_suspect=m.review_total_suspect)


def load_classifier(cfg: ClassifyConfig) -> Classifier:
    """The classifier for ``cfg.model_dir``; on any problem one that says why, never raises."""
    if not cfg.enabled:
        return Classifier(None, None, None, "classifier disabled in the config")
    try:
        return _load(Path(cfg.model_dir), cfg)
    except ModelError as exc:
        log.error("classifier unavailable, labels are still read: %s", exc)
        return Classifier(None, None, None, str(exc))


def _load(model_dir: Path, cfg: ClassifyConfig) -> Classifier:
    manifest = load_manifest(model_dir)
    limit = int(cfg.max_model_mb * 1_000_000)
    sessions = []
    for entry in (manifest.locator, manifest.model, manifest.surface):
        if entry is None:
            continue
        session = open_session(read_verified(model_dir, entry, limit), entry, cfg.threads)
        out = warm_up(session, entry, cfg.warmup_runs)
        _check_widths(entry.file, out, manifest)
        sessions.append(session)
    info = ModelInfo(name=manifest.name, version=manifest.version, sha256=manifest.model.sha256)
    slot, engine = _catalogue(cfg, manifest)
    log.info("classifier %s %s loaded from %s (%d threads)", manifest.name, manifest.version,
             model_dir, cfg.threads)
    return Classifier(manifest, (sessions[0], sessions[1]), info, catalogue=slot, ocr=engine,
                      model_dir=model_dir, second_look=cfg.second_look,
                      surface=sessions[2] if manifest.surface is not None else None,
                      turned_look=cfg.turned_look)


def _catalogue(cfg: ClassifyConfig, manifest: Manifest) -> tuple[CatalogueSlot, Any]:
    """The catalogue and OCR engine; either failing makes the stage unavailable, with why."""
    from edge.ocr import OcrError, open_engine

    slot = CatalogueSlot()
    if not slot.load(Path(cfg.catalogue_dir), manifest.packagings,
                     f"{manifest.name} {manifest.version}"):
        raise ModelError(f"brand catalogue refused: {slot.last_error}")
    try:
        engine = open_engine(cfg.ocr_engine, threads=cfg.threads, any_angle=True,
                             det_side=cfg.read_side, min_height=10.0,
                             max_lines=cfg.read_lines, det_thresh=MARK_DET_THRESH,
                             det_box_thresh=MARK_DET_BOX_THRESH) \
            if cfg.ocr_engine == "rapidocr" else open_engine(cfg.ocr_engine)
    except (OcrError, ValueError) as exc:
        raise ModelError(f"OCR engine {cfg.ocr_engine!r} unavailable: {exc}") from None
    return slot, engine


def _check_widths(name: str, out: Any, m: Manifest) -> None:
    """Output widths must match the manifest's label lists, or scores would be misnamed."""
    want = {"labels": len(m.labels), "brand": len(m.brands), "packaging": len(m.packagings)}
    for role, width in want.items():
        if role in out and out[role].shape[-1] != width:
            raise ModelError(f"{name}: output {role} has {out[role].shape[-1]} values, "
                             f"the manifest lists {width}")

