"""The packaging network's training patches, cut as the unit cuts them (no torch here).

Renders and annotated photographs both go through ``edge.process.classify_reduced``
and the classifier's own cutting (``edge.classify.surface``), so what the network
learns from is what the unit will hand it: the label's print painted over, the
pyramid level chosen, the patches at the training's px per mm.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.classify.shading import broad_shading
from edge.classify.surface import scaled_patches, surface_patches
from edge.process import classify_reduced, label_paper, not_the_box
from edge.pyramid import Pyramid, Surface
from edge.records import Box, Classification
from edge.synth import scene
from models import dataset as ds
from models.photos import load_annotations, photo_parcel

PATCH, PATCHES = 128, 6
# The generator's frames are drawn to scale over the demo's field: the unit cuts its patches
# at this resolution (edge.classify.surface.scaled_patches).
PX_PER_MM = scene.FRAME_W / scene.FIELD_MM


def unit_patches(p: ds.Parcel, rng: np.random.Generator | None) -> np.ndarray:
    """The patches the unit cuts from this render: the label's paper found from the codes, as
    in ``edge.process``; ``rng`` moves them a little for training."""
    return unit_surface(p, rng)[0]


def unit_surface(p: ds.Parcel, rng: np.random.Generator | None
                 ) -> tuple[np.ndarray, float | None]:
    """The render's patches (:func:`unit_patches`) and its broad shading as the unit measures
    it (``edge.classify.shading``), off the same label paper."""
    box = Box(*p.truth["parcel_box"])
    seed = Box.around([Box(*b["box"]) for b in p.truth["barcodes"]])
    pyramid = Pyramid(p.image)
    paper = not_the_box(label_paper(pyramid, seed), seed, box.area) if seed else None
    return cut_as_the_unit(pyramid, box, paper, PX_PER_MM, rng), \
        broad_shading(pyramid, box, paper)


def cut_as_the_unit(pyramid: Pyramid, box: Box, paper: Box | None, px_per_mm: float | None,
                    rng: np.random.Generator | None) -> np.ndarray:
    """The patches handed through ``classify_reduced`` (which blanks the label's print, picks
    the level and, given the picture's scale, hands on the pyramid) and cut as the classifier
    cuts them: at the training's px per mm, or in pixels where the scale is not known."""
    cut: list[np.ndarray] = []

    def cut_one(image: np.ndarray, region: Box | None, label: Box | None,
                surface: Surface | None = None) -> Classification:
        assert region is not None
        cut.append(scaled_patches(surface, PX_PER_MM, PATCH, PATCHES, rng) if surface else
                   surface_patches(image, region, label, PATCH, PATCHES, rng))
        return Classification(model=None, scores={})
    classify_reduced(cut_one, pyramid, box, paper, px_per_mm)
    return cut[0]


def photo_set(folders: list[Path], repeat: int) -> tuple[np.ndarray, np.ndarray]:
    """Every annotated photograph's patches (``models.photos``), each ``repeat`` times moved
    afresh: the label's paper is the annotation's ``label_box``, the scale its ``px_per_mm``."""
    patches, packs = [], []
    for folder in folders:
        for i, row in enumerate(load_annotations(folder)):
            p = photo_parcel(folder, row)
            label = Box(*(int(v) for v in row["label_box"])) if "label_box" in row else None
            box = Box(*(int(v) for v in p.truth["parcel_box"]))
            for k in range(repeat):
                rng = np.random.default_rng([7277, k, i])
                patches.append(cut_as_the_unit(Pyramid(p.image), box, label,
                                               row.get("px_per_mm"), rng))
                packs.append(ds.PACKAGINGS.index(row["packaging"]))
    return np.stack(patches), np.int64(packs)
