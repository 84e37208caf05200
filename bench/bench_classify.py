"""Benchmark of the classify + rules stages on two renderers side by side (not a test).

    .venv/bin/python -m bench.bench_classify [--per-kind 40] [--workers 2] [--json]

* held-out: ``bench.heldout``, written apart from every renderer training or
  tuning used (other fonts, surfaces, layouts, decoys, handling print);
* generator: the project's own ``edge.synth`` scenes (seed 4004, as before).

Figures are the rules stage's verdicts (a valid reference read, no quality
report), so they are what officers get: per kind, flagged / sent to review;
the parcel is handed to classify as the unit hands it (``edge.process``: the
label's paper followed from its codes and painted over, on the pyramid level
the model wants), with the codes' box from the renderer's truth standing in
for the label reader's (``--keep-label`` classifies the frame as drawn);
brand right (the brand named for branded parcels, none for the others);
packaging right; and the whole classify stage's time on one thread.

``--seed`` draws another held-out split (tune on one, report on another);
``--recorded`` gives the unit a catalogue whose reference pictures are the
held-out renderer's genuine marks (its typefaces), as a site records the marks
its parcels really carry; the demo catalogue's are the generator's.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.classify import ClassifyConfig, load_classifier
from edge.process import classify_reduced, label_paper, not_the_box
from edge.pyramid import Pyramid
from edge.records import Box, Classification, LabelReading, Reference
from bench.bench_packaging_scale import SETUPS, frame_of
from edge.rules import RulesConfig, decide, load_rules

GENERATOR_SEED = 4004
HELD_OUT_SEED = 5151
DEMO_CATALOGUE = Path(__file__).resolve().parent.parent / "models" / "catalogue"
SOURCES = ("held-out", "generator")
GEN_KIND = {"": "unbranded", "genuine": "genuine", "wrong_packaging": "wrong_packaging",
            "misspelled": "misspelled", "wrong_colour": "wrong_colour", "distorted": "distorted",
            "low_quality": "low_quality"}
_state: dict[str, Any] = {}


def _init(keep_label: bool = False, seed: int = HELD_OUT_SEED, catalogue: str = "",
          frame: str = "1280") -> None:
    cv2.setNumThreads(1)
    _state["frame"] = frame
    _state["keep_label"] = keep_label
    _state["seed"] = seed
    _state["clf"] = load_classifier(ClassifyConfig(threads=1, **(
        {"catalogue_dir": Path(catalogue)} if catalogue else {})))
    _state["rules"] = load_rules(RulesConfig())


def _parcel(job: tuple[str, int, str]) -> tuple[np.ndarray, dict[str, Any]]:
    source, index, kind = job
    if source == "held-out":
        from bench import heldout

        r = heldout.render(_state.get("seed", HELD_OUT_SEED), index, kind)
        return r.image, r.truth
    from models import dataset as ds

    p = ds.render(GENERATOR_SEED, index, 0.85)
    return p.image, {"kind": GEN_KIND[p.variant], "brand": p.brand,
                     "packaging": p.truth["packaging"], "parcel_box": p.truth["parcel_box"],
                     "codes_box": _codes(p.truth["barcodes"])}


def _codes(barcodes: list[dict[str, Any]]) -> list[int] | None:
    around = Box.around([Box(*b["box"]) for b in barcodes])
    return None if around is None else [around.x, around.y, around.w, around.h]


def judge_one(job: tuple[str, int, str]) -> dict[str, Any]:
    image, truth = _parcel(job)
    frame, moved, px_per_mm = frame_of(image, _state.get("frame", "1280"))
    codes = truth.get("codes_box")
    start = time.perf_counter()
    c = as_the_unit(frame, moved(truth["parcel_box"]), moved(codes) if codes else None,
                    px_per_mm)
    ms = (time.perf_counter() - start) * 1000
    reading = LabelReading(symbols=(), reference=Reference("upu_s10", "RR123456785US", True))
    verdict = decide(reading, None, c, _state["rules"])
    return {"source": job[0], "kind": truth["kind"], "brand": truth["brand"],
            "packaging": truth["packaging"], "surface": truth.get("surface", ""),
            "said_brand": c.brand, "said_packaging": c.packaging, "outcome": verdict.outcome,
            "reasons": list(verdict.reasons[:2]), "ms": ms, "error": c.error,
            "mark_text": c.mark_text, "name_match": c.name_match, "index": job[1],
            "evidence": dict(c.evidence)}


def as_the_unit(image: np.ndarray, box: Box, codes: Box | None,
                px_per_mm: float) -> Classification:
    """Classify as ``edge.process._analyse`` does once the label reader has found the codes."""
    pyramid = Pyramid(image)
    seed = codes if codes is not None and not _state.get("keep_label") else None
    paper = label_paper(pyramid, seed) if seed is not None else None
    return classify_reduced(_state["clf"].classify, pyramid, box,
                            not_the_box(paper, seed, box.area), px_per_mm)


def recorded_catalogue(folder: Path) -> Path:
    """The demo catalogue with each brand's reference picture replaced by its genuine mark as
    the held-out renderer draws it: a site records the marks its parcels really carry."""
    from bench import heldout
    from edge.synth import marks

    manifest = json.loads((DEMO_CATALOGUE / "catalogue.json").read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    for entry in manifest["brands"]:
        brand = next(b for b in marks.BRANDS if b.name == entry["name"])
        name = f"{brand.name.lower()}-recorded.png"
        cv2.imwrite(str(folder / name), heldout.recorded_reference(brand))
        entry["references"] = [name]
    manifest["name"] += "-recorded"
    (folder / "catalogue.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return folder


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_kind[r["kind"]].append(r)
    kinds = {k: {"n": len(v), "flag": _rate(v, ("flag",)), "review": _rate(v, ("review",)),
                 "flag_or_review": _rate(v, ("flag", "review"))} for k, v in sorted(by_kind.items())}
    branded = [r for r in rows if r["brand"]]
    plain = [r for r in rows if not r["brand"]]
    surfaces: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        surfaces[r["surface"] or r["packaging"]].append(r["said_packaging"] == r["packaging"])
    return {
        "n": len(rows), "per_kind": kinds,
        "brand_right_branded": _mean([r["said_brand"] == r["brand"] for r in branded]),
        "no_brand_on_unbranded": _mean([r["said_brand"] == "" for r in plain]),
        "packaging_right": _mean([r["said_packaging"] == r["packaging"] for r in rows]),
        "packaging_right_per_surface": {k: _mean(v) for k, v in sorted(surfaces.items())},
        "stage_ms_median": round(statistics.median(r["ms"] for r in rows), 1),
        "stage_ms_p95": round(float(np.percentile([r["ms"] for r in rows], 95)), 1),
    }


def _rate(rows: list[dict[str, Any]], outcomes: tuple[str, ...]) -> float:
    return _mean([r["outcome"] in outcomes for r in rows])


def _mean(values: list[bool]) -> float:
    return round(float(np.mean(values)), 4) if values else float("nan")


def jobs(per_kind: int, sources: tuple[str, ...] = SOURCES) -> list[tuple[str, int, str]]:
    from bench import heldout

    out = [("held-out", i, k) for k in heldout.KINDS for i in range(per_kind)]
    out = out if "held-out" in sources else []
    return out + ([("generator", i, "") for i in range(per_kind * 7)]
                  if "generator" in sources else [])


def table(results: dict[str, dict[str, Any]]) -> str:
    names = list(results)
    kinds = sorted({k for r in results.values() for k in r["per_kind"]})
    lines = [f"{'figure':<36}" + "".join(f"{n:>24}" for n in names)]
    for k in kinds:
        cells = []
        for n in names:
            v = results[n]["per_kind"].get(k)
            cells.append("-" if v is None else f"{v['flag']:.1%} / {v['review']:.1%} (n={v['n']})")
        lines.append(f"{k + ' flag / review':<36}" + "".join(f"{c:>24}" for c in cells))
    for key in ("brand_right_branded", "no_brand_on_unbranded", "packaging_right",
                "stage_ms_median", "stage_ms_p95"):
        lines.append(f"{key:<36}" + "".join(f"{results[n][key]:>24}" for n in names))
    for n in names:
        lines.append(f"packaging per surface ({n}): {results[n]['packaging_right_per_surface']}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rows", help="write every parcel's row to this JSON file")
    parser.add_argument("--keep-label", action="store_true",
                        help="classify the frame as drawn, the label not painted over")
    parser.add_argument("--recorded", action="store_true",
                        help="the held-out renderer's genuine marks as the catalogue's references")
    parser.add_argument("--only", choices=SOURCES, help="one renderer only")
    parser.add_argument("--seed", type=int, default=HELD_OUT_SEED,
                        help="held-out renderer's seed: tune on one, report on another")
    parser.add_argument("--frame", choices=SETUPS, default="1280",
                        help="the frame each parcel is classified in (bench_packaging_scale's: "
                        "as drawn, 12 MP over the same 200 mm, or 12 MP over a 634 mm belt)")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="bench-catalogue-")
    catalogue = str(recorded_catalogue(Path(tmp.name))) if args.recorded else ""
    with tmp, mp.get_context("fork").Pool(args.workers, initializer=_init,
                                             initargs=(args.keep_label, args.seed,
                                                       catalogue, args.frame)) as pool:
        # the recorded references are the held-out world's marks, not the generator's
        sources = ("held-out",) if args.recorded else (args.only,) if args.only else SOURCES
        rows = pool.map(judge_one, jobs(args.per_kind, sources), chunksize=4)
    results = {s: summarize([r for r in rows if r["source"] == s]) for s in sources}
    if args.rows:
        with open(args.rows, "w", encoding="utf-8") as fh:
            json.dump(rows, fh)
    print(json.dumps(results) if args.json else table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
