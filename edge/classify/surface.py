"""Packaging read from the parcel's material: patches of its surface at full resolution.

The locator's packaging head sees a 256 x 192 thumbnail of the whole parcel:
at that size a padded envelope's bubbles, a box's flutes and a mailer's
wrinkles (a few pixels each) are gone, and what is left is colour.  Colour says little
(boxes come kraft, white, dyed and printed; mailers and envelopes likewise),
and a model that learnt it read white boxes as envelopes.  Here a small
network looks at a few patches of the surface itself at the model level's
resolution, away from the shipping label,
with each patch's mean colour taken out inside the network, so only relief
and texture speak.  The patches' log-probabilities are averaged: the parcel's
packaging is what its patches agree on.  A patch must be the parcel's: off
its label, and off the belt that a turned parcel's upright box holds in its
corners (told by its colour, as :mod:`edge.classify.shading` tells it).

Patches cover a fixed area of the parcel, not a fixed count of pixels: the
network knows the relief at the millimetres per pixel it was trained at (the
manifest's ``px_per_mm``), so the unit, told its frame's scale by the
conveyor's field of view, cuts them from the pyramid level that keeps that
detail and brings them to the network's size (:func:`scaled_patches`).  A
12 MP frame over a 600 mm belt is then read at full resolution, where its
model level would have shown the surface at half the training's detail.
Without a scale (a photograph from a file, a model without ``px_per_mm``)
patches are cut in the given picture's pixels.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np

from edge.classify.crops import cut_padded
from edge.classify.manifest import POOLINGS, ModelFile
from edge.classify.preprocess import to_tensors
from edge.classify.session import run
from edge.classify.shading import BELT, RING, belt_colour, coarse_level
from edge.pyramid import Surface, halve, scale_box
from edge.records import Box

# Patches are taken from the inner part of the parcel's box: its corners are belt on a turned
# parcel.  They are chosen among GRID x GRID cells: a parcel turned 45 degrees with a large label
# kept three of a 4 x 4 grid's cells, each cut twice, most of them across its edge.
INNER = 0.12
GRID = 6
# A patch that is more than this much shipping label says nothing of the packaging.
MAX_LABEL_SHARE = 0.15
# Nor does a patch more than this much belt: a turned parcel's upright box has belt in its
# corners, and the network read the belt's weave as board (held-out split 4242: of the mailers
# and envelopes with two or more of their six patches on belt, 42 of 66 read as boxes), and the
# parcel's edge across a patch as board too.  Where fewer than MIN_OFF_BELT cells differ from
# the belt, the parcel is the belt's own colour and the test says nothing.
MAX_BELT_SHARE = 0.1
MIN_OFF_BELT = 3
# Without a pyramid level to look at, the belt test halves the picture until the parcel is
# under twice this many px on its shorter side (it wants colour, not detail).
BELT_SIDE = 64
Cell = tuple[float, float]


def patch_corners(box: Box, label: Box | None, size: int, count: int,
                  rng: np.random.Generator | None = None,
                  on_belt: Callable[[Sequence[Cell]], list[float]] | None = None
                  ) -> list[tuple[int, int]]:
    """Top-left corners of ``count`` patches spread over the parcel's surface, off its label
    and off the belt.

    A grid over the box's inner part, less the cells on the label and (given
    ``on_belt``, each cell's share of belt) those on the belt, and of those
    ``count`` spread evenly; training passes ``rng`` to move and shuffle
    them, so it sees the unit's choice and its neighbours.
    """
    span_x = max(0.0, box.w * (1 - 2 * INNER) - size)
    span_y = max(0.0, box.h * (1 - 2 * INNER) - size)
    x0 = box.x + box.w / 2 - span_x / 2 - size / 2
    y0 = box.y + box.h / 2 - span_y / 2 - size / 2
    cells = [(x0 + span_x * i / (GRID - 1), y0 + span_y * j / (GRID - 1))
             for j in range(GRID) for i in range(GRID)]
    if rng is not None:
        cells = [(x + rng.uniform(-size, size) / 6, y + rng.uniform(-size, size) / 6)
                 for x, y in cells]
    shares = [_label_share(x, y, size, label) for x, y in cells]
    if on_belt is not None:
        belt = on_belt(cells)
        if sum(b <= MAX_BELT_SHARE for b in belt) >= MIN_OFF_BELT:
            # a belt cell counts as more than all label: never free, last in the fallback below
            shares = [s if b <= MAX_BELT_SHARE else 1.0 + b for s, b in zip(shares, belt)]
    free = [c for c, s in zip(cells, shares) if s <= MAX_LABEL_SHARE]
    if not free:
        free = [cells[i] for i in np.argsort(shares, kind="stable")[:count]]
    if rng is not None:
        rng.shuffle(free)
    picks = np.unique(np.linspace(0, len(free) - 1, min(count, len(free))).round().astype(int))
    chosen = [free[int(i)] for i in picks]
    return [(int(round(x)), int(round(y))) for x, y in (chosen * count)[:count]]


def _label_share(x: float, y: float, size: int, label: Box | None) -> float:
    if label is None:
        return 0.0
    w = min(x + size, label.x + label.w) - max(x, label.x)
    h = min(y + size, label.y + label.h) - max(y, label.y)
    return max(0.0, w) * max(0.0, h) / float(size * size)


def surface_patches(image: np.ndarray, box: Box, label: Box | None, size: int, count: int,
                    rng: np.random.Generator | None = None,
                    coarse: tuple[np.ndarray, float] | None = None) -> np.ndarray:
    """(count, size, size, 3) BGR patches of the parcel's surface (see :func:`patch_corners`);
    ``coarse`` is ``image`` made smaller (a pyramid level) and its scale, for the belt test
    (made by halving where not given)."""
    small, g = coarse if coarse is not None else _halved(image, box)
    on_belt = belt_shares(small, g, box, size)
    return np.stack([cut_padded(image, Box(x, y, size, size))
                     for x, y in patch_corners(box, label, size, count, rng, on_belt)])


def _halved(image: np.ndarray, box: Box) -> tuple[np.ndarray, float]:
    """``image`` halved until ``box`` is under twice BELT_SIDE on its shorter side, and the
    scale of what is left."""
    g = 1.0
    while min(box.w, box.h) * g >= 2 * BELT_SIDE and min(image.shape[:2]) >= 128:
        wide = image.shape[1]
        image = halve(image)
        g *= image.shape[1] / wide
    return image, g


def belt_shares(small: np.ndarray, g: float, box: Box, size: int
                ) -> Callable[[Sequence[Cell]], list[float]] | None:
    """The share of belt in each ``size`` px cell (top-left corners; ``box`` and the cells in
    the patches' picture, ``small`` that picture scaled by ``g``), as
    :mod:`edge.classify.shading` tells belt: within BELT (8-bit Lab) of the belt's colour in
    a ring just outside ``box``.  None where no belt is seen around the box (it fills the
    picture: a photograph)."""
    m = max(2, int(RING * max(box.w, box.h)))
    outer = scale_box(Box(box.x - m, box.y - m, box.w + 2 * m, box.h + 2 * m), g).clip(
        small.shape[1], small.shape[0])
    if outer.w < 4 or outer.h < 4:
        return None
    lab = cv2.cvtColor(small[outer.y:outer.y + outer.h, outer.x:outer.x + outer.w],
                       cv2.COLOR_BGR2LAB)
    inner = scale_box(box, g)
    belt = belt_colour(lab, Box(inner.x - outer.x, inner.y - outer.y, inner.w, inner.h))
    if belt is None:
        return None
    near = (np.linalg.norm(lab.astype(np.float32) - belt, axis=2) <= BELT).astype(np.uint8)
    total = cv2.integral(near)  # each cell's count of belt pixels in four lookups
    side = max(1, int(round(size * g)))
    high, wide = near.shape

    def shares(cells: Sequence[Cell]) -> list[float]:
        out = []
        for x, y in cells:
            x0 = min(wide, max(0, int(x * g) - outer.x))
            y0 = min(high, max(0, int(y * g) - outer.y))
            x1, y1 = min(wide, x0 + side), min(high, y0 + side)
            area = (x1 - x0) * (y1 - y0)
            count = total[y1, x1] - total[y0, x1] - total[y1, x0] + total[y0, x0]
            out.append(float(count) / area if area else 1.0)
        return out
    return shares


def scaled_patches(source: Surface, px_per_mm: float, size: int, count: int,
                   rng: np.random.Generator | None = None) -> np.ndarray:
    """(count, size, size, 3) patches covering what ``size`` px covered at ``px_per_mm``: cut
    from the coarsest level still that fine, then resized (upsampled only where even the full
    frame is coarser, and then the relief is not in the picture to begin with).  ``rng`` moves
    them a little, for training (see :func:`patch_corners`)."""
    level = source.level_at_least(px_per_mm)
    f = source.pyramid.scale(level)
    cut = max(8, int(round(size * source.px_per_mm * f / px_per_mm)))
    label = scale_box(source.label, f) if source.label is not None else None
    small = coarse_level(source.pyramid, source.box)
    coarse = (source.pyramid.colour(small), source.pyramid.scale(small) / f)
    patches = surface_patches(source.colour(level), scale_box(source.box, f), label,
                              cut, count, rng, coarse)
    if cut == size:
        return patches
    how = cv2.INTER_AREA if cut > size else cv2.INTER_LINEAR
    return np.stack([cv2.resize(p, (size, size), interpolation=how) for p in patches])


def surface_packaging(session: Any, entry: ModelFile, image: np.ndarray, box: Box,
                      label: Box | None, count: int, pooling: str = POOLINGS[0]) -> np.ndarray:
    """The parcel's packaging log-probabilities from patches cut in the picture's pixels."""
    return patch_packaging(session, entry,
                           surface_patches(image, box, label, entry.input.height, count), pooling)


def patch_packaging(session: Any, entry: ModelFile, patches: np.ndarray,
                    pooling: str = POOLINGS[0]) -> np.ndarray:
    """The parcel's log-probabilities from ready patches (N, size, size, 3), pooled as the
    model's manifest says (:data:`POOLINGS`).

    The mean of log-probabilities (a normalised geometric mean) lets one sure
    patch veto: a patch on tape, a sticker or the mark itself reads "box" at
    0.999 (mailer 0.0005, ln -7.6), and five patches of film read unsurely
    (mailer 0.6) do not outweigh it.  The mean of probabilities gives each
    patch a 1/N share at most, so the parcel is what most of its surface says.
    On 600 held-out parcels kept for choosing it (splits 4242 and 4343), with
    the fusion refitted on the generator: packaging right 88.2 -> 89.8 %
    (padded envelopes 79 -> 88 %).
    """
    logits = run(session, entry, to_tensors(patches, entry.input))["packaging"].astype(np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    if pooling == "mean_probability":  # floored: no class's log-probability is ever -inf
        return np.log(np.maximum(np.exp(logp).mean(axis=0), 1e-30)).astype(np.float32)
    return logp.mean(axis=0).astype(np.float32)
