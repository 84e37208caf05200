"""Packaging read at other cameras' scales: patches in pixels against patches in millimetres (not a test).

    .venv/bin/python -m bench.bench_packaging_scale [--seed 777] [--parcels 240]

Each held-out parcel (``bench.heldout``, drawn at 1280x960 over the scene's
200 mm, 6.4 px/mm) is classified for packaging as the unit does
(``edge.process.classify_reduced``: label paper from the codes, painted over,
the model level), three ways:

* ``1280``: as drawn;
* ``12mp-200``: enlarged to 4056x3040, the same 200 mm at 20.3 px/mm (what a
  12 MP sensor over a small-parcel belt sees: finer than training);
* ``true``: the parcel on a 4056x3040 frame of a 634 mm belt at its own
  6.4 px/mm (what a 12 MP unit over a 600 mm belt sees: the model level is
  half that resolution).

Each way twice: patches cut in the model level's pixels (no scale handed on,
as before the manifest recorded one) and at the training's px per mm
(``edge.pyramid.Surface``).  Reported: packaging right, per surface, and how
often it was right where it was sure (>= 0.95, the rules' default).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
from collections import defaultdict
from typing import Any, Callable

import cv2
import numpy as np

from edge.classify import ClassifyConfig, load_classifier
from edge.process import classify_reduced, label_paper, not_the_box
from edge.pyramid import Pyramid, Surface
from edge.records import Box, Classification
from edge.synth.scene import FIELD_MM, FRAME_H, FRAME_W

BIG_W, BIG_H = 4056, 3040
SETUPS = ("1280", "12mp-200", "true")
SURE = 0.95
_state: dict[str, Any] = {}


def _init() -> None:
    cv2.setNumThreads(1)
    _state["clf"] = load_classifier(ClassifyConfig(threads=1))


def frame_of(image: np.ndarray, setup: str
             ) -> tuple[np.ndarray, Callable[[list[int]], Box], float]:
    """The frame, what a drawn box ``[x, y, w, h]`` becomes in it, and its px per mm."""
    if setup == "1280":
        return image, _mover(1.0, 0, 0), FRAME_W / FIELD_MM
    if setup == "12mp-200":
        big = cv2.resize(image, (BIG_W, BIG_H), interpolation=cv2.INTER_CUBIC)
        return big, _mover(BIG_W / FRAME_W, 0, 0), BIG_W / FIELD_MM
    dx, dy = (BIG_W - FRAME_W) // 2, (BIG_H - FRAME_H) // 2
    big = cv2.copyMakeBorder(image, dy, BIG_H - FRAME_H - dy, dx, BIG_W - FRAME_W - dx,
                             cv2.BORDER_REFLECT)
    return big, _mover(1.0, dx, dy), FRAME_W / FIELD_MM


def _mover(f: float, dx: int, dy: int) -> Callable[[list[int]], Box]:
    return lambda b: Box(int(b[0] * f) + dx, int(b[1] * f) + dy, int(b[2] * f), int(b[3] * f))


def one(job: tuple[int, int, str]) -> dict[str, Any]:
    from bench import heldout
    from models import dataset as ds

    seed, index, setup = job
    r = heldout.render(seed, index)
    image, moved, px_per_mm = frame_of(r.image, setup)
    box = moved(r.truth["parcel_box"])
    codes = moved(r.truth["codes_box"]) if r.truth.get("codes_box") else None
    row: dict[str, Any] = {"setup": setup, "surface": r.truth["surface"]}
    for way, scale in (("pixels", None), ("mm", px_per_mm)):
        pyramid = Pyramid(image)
        paper = not_the_box(label_paper(pyramid, codes), codes, box.area) if codes else None
        said: list[np.ndarray] = []

        def packaging(picture: np.ndarray, b: Box | None, label: Box | None,
                      surface: Surface | None = None) -> Classification:
            said.append(_state["clf"].packaging(picture, b, label, surface))
            return Classification(model=None, scores={})

        classify_reduced(packaging, pyramid, box, paper, scale)
        p = np.exp(said[0] - said[0].max())
        p /= p.sum()
        row[way] = (ds.PACKAGINGS[int(np.argmax(p))] == r.truth["packaging"], float(p.max()))
    return row


def summary(rows: list[dict[str, Any]], setup: str, way: str) -> str:
    mine = [r for r in rows if r["setup"] == setup]
    right = [r[way][0] for r in mine]
    sure = [r[way][0] for r in mine if r[way][1] >= SURE]
    per: dict[str, list[bool]] = defaultdict(list)
    for r in mine:
        per[r["surface"]].append(r[way][0])
    surfaces = ", ".join(f"{k} {np.mean(v):.0%}" for k, v in sorted(per.items()))
    sure_text = f"{np.mean(sure):.1%}" if sure else "-"
    return (f"{setup:9s} {way:6s} right {np.mean(right):.1%}  sure {len(sure)}, right "
            f"{sure_text}  ({surfaces})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=777)
    parser.add_argument("--parcels", type=int, default=240)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    jobs = [(args.seed, i, s) for s in SETUPS for i in range(args.parcels)]
    with mp.get_context("fork").Pool(args.workers, initializer=_init) as pool:
        rows = pool.map(one, jobs, chunksize=4)
    print(f"held-out seed {args.seed}, {args.parcels} parcels per setup")
    for setup in SETUPS:
        for way in ("pixels", "mm"):
            print(summary(rows, setup, way))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
