"""Packaging materials drawn from what each material is, not from its colour.

The scene's own three looks tie colour to packaging (kraft is a box, yellow an
envelope), so a model trained on them reads colour: a white box or a grey
padded envelope is then misnamed.  Real boxes come kraft, white, dyed and
printed; mailers in any film colour; padded envelopes in kraft, white, gold
and dyed paper.  Here every packaging draws its colour from overlapping
palettes and only the material says what it is: a box is flat board (matte
fibre with flutes, or coated board as smooth as film; a flap seam, tape across
it, sometimes a shop's repeated print); a
mailer is film (broad sheen, wrinkles, drape over its contents, a welded seal
strip, rounded corners); a padded envelope is paper over bubbles (a relief of
cells, puffed edges, crimped ends).  Used for training (``sample_parcel(..., materials=True)``);
the demo's scenes keep their looks.

Smoothness is no clue either: board's fibre was once always rougher than film,
and the network learnt "smooth is film", reading 58% of the held-out
renderer's plain white boxes as mailers (dev splits 4242 / 4343 / 4444 / 4545,
network alone).  Coated board (half the white and dyed boxes) has film's grain
and no flutes, so only film's relief (sheen, wrinkles, drape) tells them apart.

Sizes are in scene pixels, like the scene's own looks: bubble cells of 6-22 px
are 3-10 mm (real bubble wrap) on a 600 mm belt's 1280 px frame, but only
0.9-3.4 mm at the scene's 200 mm field (``scene.FIELD_MM``), where labels and
bars are to scale.  The unit cuts its patches at the scene's 6.4 px/mm, so a
real camera sees these materials at that scale.  Drawn in real millimetres
instead (bubbles 4.5-10 mm, flutes 2.4-8.3 mm apart) and the network trained
again, packaging right on held-out dev splits 4242 / 4343 / 4444 / 4545 fell
from 95-98% to 71-77%, nearly every padded envelope read as a box: the
held-out renderer's envelopes show a lattice as fine as this one, and a
network taught one scale of bubbles knows no other.  Which scale a unit's
camera sees is for photographs of real parcels to say (``models.photos``,
``--photos``); until some are in the training set these sizes stay.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np

# Palette shares per packaging: kraft, white, colour, dark.  Overlapping on purpose.
PALETTES = {"cardboard_box": (0.45, 0.22, 0.25, 0.08),
            "poly_mailer": (0.05, 0.35, 0.45, 0.15),
            "padded_envelope": (0.35, 0.3, 0.3, 0.05)}
# The share of boxes of each palette made of coated board: white and dyed boxes mostly are.
COATED = (0.1, 0.5, 0.5, 0.4)
WORDS = ("shop", "best", "ok", "go", "eco", "fast", "home", "mart", "hi", "sale")


@dataclass(frozen=True)
class Material:
    """One parcel's material: what it is, its colour (BGR) and whether a shop printed on it."""

    packaging: str
    colour: tuple[int, int, int]
    printed: bool
    ink: tuple[int, int, int]
    # Coated board (retail boxes, white and dyed mailing boxes) is as smooth as film: no fibre,
    # no flutes.  Only film's own relief (sheen, wrinkles, drape) may tell it from board.
    coated: bool = False


def sample_material(rng: np.random.Generator, packaging: str) -> Material:
    shares = np.asarray(PALETTES[packaging])
    palette = int(rng.choice(4, p=shares / shares.sum()))
    colour = _colour(rng, palette)
    printed = bool(rng.random() < {"cardboard_box": 0.3, "poly_mailer": 0.2,
                                   "padded_envelope": 0.1}[packaging])
    ink = _colour(rng, 2) if rng.random() < 0.6 else _colour(rng, 3)
    coated = packaging == "cardboard_box" and bool(rng.random() < COATED[palette])
    return Material(packaging, colour, printed, ink, coated)


def _colour(rng: np.random.Generator, palette: int) -> tuple[int, int, int]:
    if palette == 0:  # kraft and manila: brown paper from dark to pale
        rgb = rng.uniform([150, 105, 60], [225, 185, 135])
    elif palette == 1:  # white, off-white and light grey
        v = rng.uniform(200, 252)
        rgb = np.float32([v, v, v]) + rng.uniform(-6, 6, 3)
    elif palette == 2:  # any hue, from pastel to saturated
        rgb = np.float32(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.25, 0.9),
                                             rng.uniform(0.35, 0.95))) * 255
    else:  # black, charcoal, navy
        rgb = rng.uniform(15, 60, 3)
    r, g, b = np.clip(rgb, 0, 255).astype(int)
    return int(b), int(g), int(r)


def paint(img: np.ndarray, material: Material, rng: np.random.Generator) -> None:
    """Draw the material's grain, relief and marks on ``img`` (float32 BGR, its colour).

    Board and paper are fibre: a fine grain of a few grey levels, coarser
    mottling.  Film is smoother, but a print or a matte film has grain too, so
    the ranges overlap: grain alone never tells film from paper.
    """
    h, w = img.shape[:2]
    smooth = material.packaging == "poly_mailer" or material.coated
    grain = rng.uniform(0.0, 4.0) if smooth else rng.uniform(1.0, 8.0)
    img += (rng.normal(0, grain, (h, w)).astype(np.float32)
            + _mottle(rng, w, h, rng.uniform(20, 60), rng.uniform(1, 3 if smooth else 7))
            )[:, :, None]
    if material.packaging == "cardboard_box":
        _board(img, rng, material.coated)
    else:
        {"poly_mailer": _film, "padded_envelope": _padded}[material.packaging](img, rng)
    if material.printed:
        _shop_print(img, material.ink, rng)


def _mottle(rng: np.random.Generator, w: int, h: int, cell: float, amp: float) -> np.ndarray:
    small = rng.normal(0, amp, (int(h / cell) + 2, int(w / cell) + 2)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _board(img: np.ndarray, rng: np.random.Generator, coated: bool) -> None:
    """Board: flat, its flutes showing faintly if at all, the flaps' seam, tape along it,
    darker edges.  Printed board shows no flutes (half the boxes are plain flat), coated none."""
    h, w = img.shape[:2]
    along_x = rng.random() < 0.5
    n = w if along_x else h
    period = rng.uniform(8, 30)
    depth = rng.uniform(0, 0.8) if rng.random() < 0.5 else rng.uniform(0.8, 4)
    if coated:  # drawn all the same: the rest of the board's draws stay where they were
        depth = 0.0
    flutes = np.sin(np.arange(n, dtype=np.float32) * 2 * np.pi / period) * depth
    img += (flutes[None, :, None] if along_x else flutes[:, None, None])
    _edge_shade(img, rng.uniform(0.03, 0.08), rng.uniform(0.04, 0.12))
    if rng.random() < 0.75:
        _seam_and_tape(img, rng)


def _seam_and_tape(img: np.ndarray, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    vertical = rng.random() < 0.5
    side = w if vertical else h
    at = int(side / 2 + rng.uniform(-0.08, 0.08) * side)
    dark = tuple(float(c) * 0.6 for c in img[h // 2, w // 2])
    a, b = ((at, 0), (at, h - 1)) if vertical else ((0, at), (w - 1, at))
    cv2.line(img, a, b, dark, int(rng.integers(1, 3)))
    if rng.random() < 0.7:
        half = int(rng.uniform(0.05, 0.11) * side)
        band = (slice(None), slice(at - half, at + half)) if vertical else \
            (slice(at - half, at + half), slice(None))
        tint = np.float32(rng.choice([[150, 175, 195], [235, 235, 235], [60, 60, 200],
                                      [90, 130, 175]]))
        alpha = rng.uniform(0.25, 0.85)
        img[band] = img[band] * (1 - alpha) + tint * alpha + rng.uniform(0, 18)


def _film(img: np.ndarray, rng: np.random.Generator) -> None:
    """Plastic film: broad specular sheen, soft wrinkles all over (film is never flat), drape
    over its contents, a welded seal strip at one end."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(int(rng.integers(1, 4))):
        cx, cy = rng.uniform(0, 1) * w, rng.uniform(0, 1) * h
        sx, sy = rng.uniform(0.1, 0.4) * w, rng.uniform(0.06, 0.3) * h
        img += (np.exp(-(((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2))
                * rng.uniform(15, 55))[:, :, None]
    folds = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(6, 18))):
        p = rng.uniform([0, 0, 0, 0], [w, h, w, h]).astype(int)
        cv2.line(folds, (int(p[0]), int(p[1])), (int(p[2]), int(p[3])),
                 float(rng.uniform(-35, 30)), int(rng.integers(2, 7)))
    img += cv2.GaussianBlur(folds, (0, 0), float(rng.uniform(2, 7)))[:, :, None]
    img += _drape(rng, w, h)[:, :, None]
    seal = max(5, int(rng.uniform(0.02, 0.05) * h))
    end = slice(0, seal) if rng.random() < 0.5 else slice(h - seal, h)
    img[end] *= rng.uniform(0.85, 0.95)
    img[end, :: int(rng.integers(3, 6))] *= 0.9


def _drape(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Film is a soft bag: it pillows over the contents and sags between them, so its shading
    rises and falls across the whole parcel (swells a quarter to two thirds of its size), where a
    box's board is a plane that light can only tilt."""
    cell = float(rng.uniform(0.25, 0.65)) * max(w, h)
    field = _mottle(rng, w, h, cell, 1.0)
    field = cv2.resize(cv2.resize(field, (8, 8), interpolation=cv2.INTER_AREA), (w, h),
                       interpolation=cv2.INTER_CUBIC)
    return field / (np.abs(field).max() + 1e-6) * float(rng.uniform(8, 35))


def _padded(img: np.ndarray, rng: np.random.Generator) -> None:
    """Paper over bubble wrap: a relief of cells, puffed (shaded) edges, crimped ends."""
    h, w = img.shape[:2]
    cell = float(rng.uniform(6, 22))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    row = np.floor(yy / cell)
    shift = (row % 2) * cell / 2 if rng.random() < 0.6 else 0.0
    dx = ((xx + shift) % cell) - cell / 2
    dy = (yy % cell) - cell / 2
    dome = np.clip(1.0 - (dx ** 2 + dy ** 2) / (cell * 0.42) ** 2, 0, 1)
    relief = cv2.GaussianBlur(dome, (0, 0), float(rng.uniform(0.8, 2.5)))
    img += ((relief - 0.5) * rng.uniform(4, 20))[:, :, None]
    _edge_shade(img, rng.uniform(0.06, 0.14), rng.uniform(0.12, 0.25))
    crimp = max(6, int(rng.uniform(0.02, 0.04) * h))
    step = int(rng.integers(4, 9))
    for rows in ((slice(0, crimp),) if rng.random() < 0.5 else (slice(0, crimp),
                                                                 slice(h - crimp, h))):
        img[rows, ::step] *= 0.8


def _edge_shade(img: np.ndarray, width: float, depth: float) -> None:
    """Darken towards the outline: a puffed envelope more, a box's bevel a little."""
    h, w = img.shape[:2]
    band = max(2.0, width * min(h, w))
    ys = np.minimum(np.arange(h), np.arange(h)[::-1]).astype(np.float32)
    xs = np.minimum(np.arange(w), np.arange(w)[::-1]).astype(np.float32)
    near = np.minimum(ys[:, None], xs[None, :])
    img *= (1.0 - depth * np.clip(1.0 - near / band, 0, 1))[:, :, None]


def _shop_print(img: np.ndarray, ink: tuple[int, int, int], rng: np.random.Generator) -> None:
    """A shop's own print repeated over the material: a short word or dots in one ink."""
    h, w = img.shape[:2]
    word = WORDS[int(rng.integers(len(WORDS)))]
    scale = float(rng.uniform(0.4, 0.9))
    dx, dy = int(rng.uniform(70, 180)), int(rng.uniform(40, 110))
    dots = rng.random() < 0.3
    for y in range(int(rng.integers(10, 40)), h, dy):
        for x in range(int(rng.integers(0, 40)) + (y // dy % 2) * dx // 2, w, dx):
            if dots:
                cv2.circle(img, (x, y), int(4 * scale) + 2, ink, -1, cv2.LINE_AA)
            else:
                cv2.putText(img, word, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, ink,
                            1 + int(scale > 0.7), cv2.LINE_AA)
