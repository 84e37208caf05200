"""Packaging from the parcel's broad shading: film drapes, board is flat.

The packaging network reads relief in 20 mm patches (bubbles, flutes,
wrinkles).  What tells a smooth poly mailer from a plain box is larger than
any patch: film is a soft bag that pillows over its contents and sags between
them, so its brightness rises and falls across the whole parcel, while a box's
top is a plane that the light can only tilt.  A plain white box and a smooth
white mailer have the same fine texture (the camera's noise and JPEG are most
of it), so patches alone confuse them both ways.

:func:`broad_shading` measures that: the parcel's inner part in cells, each
cell's median brightness (print and marks are small, so medians pass them by),
only the cells of the parcel's own material (chroma near the cells' median:
tape and coloured marks drop out), a plane fitted through them (the light's
tilt and fall-off across the belt), and the median distance from that plane
(less one 8-bit level, :data:`QUANTUM`) over the median brightness.  Robust
to a strip of tape, a label's edge or a black mark: they are under half the
cells, and the plane is fitted again without the cells far from it.  A
turned parcel's upright box has belt in its corners, as grey as a white or
black box; cells of the belt's colour (sampled in a ring just outside the
box) are left out, or they read as swells (a flat grey board turned 40
degrees: 17% where it is 0%).

A plane takes out a light that falls off across the belt, not a lens's
vignetting (brighter in the middle of the frame); on a camera with strong
vignetting a large box measures a little draped, and a flat-field correction
of the camera is the remedy.

:func:`fuse` combines it with the network's averaged log-probabilities by a
multinomial logistic fitted on generator parcels the network was not trained on
(``models.shading_fit``), so the network's own calibration is refitted beside
the new evidence.  The measure enters as named features (:data:`FEATURES`): its
log, and whether it is flat, draped or unmeasured.  A log alone makes its weight
one straight line across the whole range, so a board's clear "flat" could move
the reading no more than the line's slope allowed; the three states let each
speak with its own weight (dev splits 4242 / 4343 / 4444 / 4545, v1.6.2's
network: packaging right 94.4 / 94.7 / 97.2 / 94.7 -> 95.3 / 96.3 / 97.5 / 95.6 %).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from edge.pyramid import Pyramid, scale_box
from edge.records import Box, Classification

CELLS = 8
INNER = 0.12  # the box's corners are belt on a turned parcel (as edge.classify.surface)
MIN_SIDE = 96  # the coarsest pyramid level whose parcel is still this many px on its shorter side
CHROMA = 12.0  # a/b (OpenCV's 8-bit Lab) within this of the median cell: the same material
MIN_CELLS = 8
DARK = 20.0  # brightness floor for the ratio: on near-black film, noise is not shading
# A cell's median is of 8-bit levels and carries the sensor's noise: a departure of up to one
# level is no shading.  Without this allowance a dim parcel's board measured as film (brightness
# 30: one level is 3 %); the packaging fusion's generator boxes, a quarter of them under a failing
# lamp, measured 1.2 % in the median and 4.4 % at the 90th percentile, 0.3 % and 2.7 % with it.
QUANTUM = 1.0
FLOOR = 0.003  # added before the log: the camera's own noise never measures below this
# What the officer is told: up to FLAT the surface is a plane (board), from DRAPED it rises and
# falls like film; between, it says no more than that.  Chosen on held-out splits 4242 / 4343
# (kept for choices) as no mailer flat and few boxes draped: 94-98 % of boxes measure 0.5 % or
# less, 0-0.8 % of mailers; 1.6-2.6 % of boxes 2.5 % or more, 58-74 % of mailers.  (Before
# QUANTUM, 1 % and 3 % split them alike: boxes 92-95 % and 1.6-2.6 %, mailers 0 % and 58-75 %.)
FLAT, DRAPED = 0.005, 0.025
# A cell this close (8-bit Lab) to the belt's colour, sampled in a ring just outside the box,
# is belt in a turned parcel's corner, not its surface; RING is that ring's width (box share).
BELT = 10.0
RING = 0.04
# A cell this bright (8-bit L) is clipped at the sensor's top: glossy white film's sheen
# saturates, and a swell cut off at 255 reads as flat.  Such cells say nothing of the shading
# and are left out.  Not lower: a white box's board lies at 225-252, and from 250 the held-out
# dev splits left 9 of 108 white boxes unmeasured (5 with no limit, 6 with this one) for no
# better reading of their packaging.
CLIPPED = 254.0


@dataclass(frozen=True)
class ShadingFusion:
    """The manifest's fitted weights: logits = weights @ [log-probs..., features...] + bias,
    the features named by ``features`` (:data:`FEATURES`); ``neutral`` stands in for
    ln(shading + FLOOR) where it cannot be measured (a parcel that is mostly label, or too
    small).  A manifest that names no features (before v1.6.3) weighs the log alone."""

    weights: tuple[tuple[float, ...], ...]
    bias: tuple[float, ...]
    neutral: float
    features: tuple[str, ...] = ("log_shading",)


def broad_shading(pyramid: Pyramid, box: Box, label: Box | None) -> float | None:
    """Median departure of the material's cells from a plane, over their median brightness
    (None where fewer than :data:`MIN_CELLS` cells are the parcel's own material, or where
    ``box`` is the whole picture: a photograph classified without the parcel's outline, whose
    belt or desk, as grey as a white box, would count as its surface)."""
    if box.x <= 0 and box.y <= 0 and box.x + box.w >= pyramid.width and \
            box.y + box.h >= pyramid.height:
        return None
    level = coarse_level(pyramid, box)
    m = max(2, int(RING * max(box.w, box.h)))  # the box and the ring of belt around it
    part, origin = pyramid.region(Box(box.x - m, box.y - m, box.w + 2 * m, box.h + 2 * m), level)
    if part.size == 0:
        return None
    lab = cv2.cvtColor(np.ascontiguousarray(part), cv2.COLOR_BGR2LAB)
    f = pyramid.scale(level)
    paper = _shift(scale_box(label, f), origin) if label is not None else None
    inner = _shift(scale_box(box, f), origin)
    cells = _cells(lab, inner, paper)
    if len(cells) < MIN_CELLS:
        return None
    at, values = np.float32([c[:2] for c in cells]), np.float32([c[2:] for c in cells])
    belt = belt_colour(lab, inner)
    keep = values[:, 0] < CLIPPED
    if belt is not None:
        keep &= np.linalg.norm(values - belt, axis=1) > BELT
    at, values = at[keep], values[keep]
    if len(values) < MIN_CELLS:
        return None
    same = np.abs(values[:, 1:] - np.median(values[:, 1:], axis=0)).max(axis=1) <= CHROMA
    if int(same.sum()) < MIN_CELLS:
        return None
    light = values[same, 0]
    design = np.c_[at[same], np.ones(len(light), np.float32)]
    away = np.maximum(_plane_distance(design, light) - QUANTUM, 0.0)
    return float(np.median(away) / max(float(np.median(light)), DARK))


def belt_colour(lab: np.ndarray, box: Box) -> np.ndarray | None:
    """The belt's median Lab in the ring of ``lab`` around ``box`` (None where the box meets
    the picture's edges all round: then nothing outside it is known to be belt)."""
    inner = box.clip(lab.shape[1], lab.shape[0])
    ring = np.ones(lab.shape[:2], bool)
    ring[inner.y:inner.y + inner.h, inner.x:inner.x + inner.w] = False
    if int(ring.sum()) < 16:
        return None
    return np.median(lab[ring], axis=0).astype(np.float32)


def _plane_distance(design: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Each cell's distance from the plane through the cells, refitted without the few far
    from the first fit (a black mark's two cells would tilt a least-squares plane)."""
    coef = np.linalg.lstsq(design, light, rcond=None)[0]
    away = np.abs(light - design @ coef)
    near = away <= 3 * float(np.median(away)) + 1.0
    if int(near.sum()) >= MIN_CELLS:
        coef = np.linalg.lstsq(design[near], light[near], rcond=None)[0]
    return np.abs(light - design @ coef)


def coarse_level(pyramid: Pyramid, box: Box) -> int:
    """The coarsest level still showing ``box`` MIN_SIDE px on its shorter side (shading and
    colour want no detail; a 12 MP frame's level 0 costs sixty times as much to look at)."""
    level, side = 0, min(box.w, box.h)
    while side * pyramid.scale(level + 1) >= MIN_SIDE and \
            min(pyramid.width, pyramid.height) >> (level + 1) >= 64:
        level += 1
    return level


def _cells(lab: np.ndarray, box: Box, label: Box | None) -> list[tuple[float, ...]]:
    """(column, row, L, a, b) medians of the grid's cells inside the picture and off the label,
    all cells at once (one median over a reshaped grid, not 64 calls)."""
    cw, ch = int((1 - 2 * INNER) * box.w / CELLS), int((1 - 2 * INNER) * box.h / CELLS)
    if cw < 1 or ch < 1:
        return []
    x0, y0 = int(box.x + INNER * box.w), int(box.y + INNER * box.h)
    i0, j0 = max(0, -(x0 // cw)), max(0, -(y0 // ch))
    i1 = min(CELLS, (lab.shape[1] - x0) // cw)
    j1 = min(CELLS, (lab.shape[0] - y0) // ch)
    if i1 <= i0 or j1 <= j0:
        return []
    grid = lab[y0 + j0 * ch:y0 + j1 * ch, x0 + i0 * cw:x0 + i1 * cw]
    medians = np.median(grid.reshape(j1 - j0, ch, i1 - i0, cw, 3).transpose(0, 2, 4, 1, 3)
                        .reshape(j1 - j0, i1 - i0, 3, ch * cw), axis=3)
    return [(i, j, *medians[j - j0, i - i0]) for j in range(j0, j1) for i in range(i0, i1)
            if label is None or Box(x0 + i * cw, y0 + j * ch, cw, ch).overlap(label) == 0]


def _shift(box: Box, origin: Box) -> Box:
    return Box(box.x - origin.x, box.y - origin.y, box.w, box.h)


FEATURES: dict[str, Callable[[float | None, float], float]] = {
    "log_shading": lambda s, neutral: neutral if s is None else math.log(s + FLOOR),
    "flat": lambda s, neutral: float(s is not None and s <= FLAT),
    "draped": lambda s, neutral: float(s is not None and s >= DRAPED),
    "unmeasured": lambda s, neutral: float(s is None),
}


def features(shading: float | None, names: tuple[str, ...], neutral: float) -> list[float]:
    """The fusion's inputs beside the network's, in the order ``names`` gives them."""
    return [FEATURES[n](shading, neutral) for n in names]


def fuse(logp: np.ndarray, shading: float | None, fusion: ShadingFusion) -> np.ndarray:
    """Packaging log-probabilities from the network's and the parcel's shading."""
    x = np.append(np.asarray(logp, np.float64),
                  features(shading, fusion.features, fusion.neutral))
    logits = np.asarray(fusion.weights, np.float64) @ x + np.asarray(fusion.bias, np.float64)
    logits -= logits.max()
    return (logits - math.log(float(np.exp(logits).sum()))).astype(np.float32)


DRAPE_WORDS = {"flat": "its surface is flat, as board is: ",
               "draped": "its surface rises and falls, as film does: ", "": ""}


def drape_of(shading: float) -> str:
    """What the measure says of the material: "flat" as board lies, "draped" as film hangs
    over its contents, "" between."""
    return "flat" if shading <= FLAT else "draped" if shading >= DRAPED else ""


def shading_words(shading: float) -> str:
    """The measure in an officer's words, with what it usually means."""
    return f"{DRAPE_WORDS[drape_of(shading)]}its shading varies {100 * shading:.1f}% across " \
           "the parcel"


def with_shading(c: Classification, shading: float | None) -> Classification:
    """``c`` with the packaging's evidence (``evidence["packaging"]``) where it was measured."""
    if shading is None:
        return c
    return dataclasses.replace(c, evidence={**c.evidence, "packaging": shading_words(shading)},
                               surface_drape=drape_of(shading))
