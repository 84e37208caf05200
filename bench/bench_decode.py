"""Label-reading benchmark: read rate per nuisance, wrong references, ms per parcel, beside the plain libraries.

Not a test: it prints the table for an issue's closing note.  Three sets, all
rendered once into folders and reused:

- ``independent``: bench/independent_labels.py, written apart from edge.synth
  (zxing-cpp's writer, other fonts, surfaces and decoys), 1280x960;
- ``independent-12mp``: the same renderer at 4056x3040 (a Pi HQ camera);
- ``own``: the project's own generator (edge.synth), which flatters.

On every image, side by side: parcel-edge (``LabelReader().read_image``,
default config, whole frame, no parcel box), plain zxing-cpp
(``zxingcpp.read_barcodes(img)`` with its defaults) and plain pyzbar
(``pyzbar.decode(gray)``).  A "read" is a validated reference equal to the
truth, a "wrong" a validated reference that is not.  Milliseconds are CPU
time of this process on one thread (OpenCV set to one thread; zxing-cpp and
libzbar use one), so a loaded machine inflates them less than wall time.

    python bench/bench_decode.py --dir /tmp/decode-bench --n 210 --n12 35 --seed 1000
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import independent_labels  # noqa: E402

from edge.decode import LabelReader  # noqa: E402
from edge.identify import best_reference  # noqa: E402
from edge.records import Reference, Symbol  # noqa: E402

Method = Callable[[np.ndarray], Reference | None]


def own_set(folder: Path, n: int, seed: int) -> list[dict[str, Any]]:
    """The project's own generator, same nuisances where it has them."""
    from edge.synth import render_still, sample_parcel

    index = folder / "index.json"
    if index.exists():
        return json.loads(index.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = ("clean", "jpeg", "rotation", "perspective", "low_light", "defocus", "motion_blur")
    rows = []
    for i in range(n):
        name = names[i % len(names)]
        image, truth = render_still(sample_parcel(rng), rng, (name,))
        path = folder / f"{i:04d}_{name}.png"
        cv2.imwrite(str(path), image)
        rows.append({"file": path.name, "nuisance": name, "reference": truth["reference"]["value"]})
    index.write_text(json.dumps(rows, indent=1))
    return rows


def methods() -> dict[str, Method]:
    import zxingcpp
    from pyzbar import pyzbar

    reader = LabelReader()

    def plain(found: list[tuple[str, str]]) -> Reference | None:
        return best_reference([Symbol(f, t, "plain") for f, t in found])

    return {
        "parcel-edge": lambda img: reader.read_image(img).reference,
        "zxing-cpp": lambda img: plain([(b.format.name, b.text) for b in zxingcpp.read_barcodes(img)]),
        "pyzbar": lambda img: plain([(d.type, d.data.decode("latin-1"))
                                     for d in pyzbar.decode(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))]),
    }


def run(folder: Path, rows: list[dict[str, Any]], ms: dict[str, Method]) -> dict[str, Any]:
    table: dict[str, dict[str, list[int]]] = {}
    cpu: dict[str, list[float]] = {m: [] for m in ms}
    wrong = {m: 0 for m in ms}
    for row in rows:
        img = cv2.imread(str(folder / row["file"]), cv2.IMREAD_COLOR)
        for name, method in ms.items():
            t = time.process_time()
            ref = method(img)
            cpu[name].append((time.process_time() - t) * 1000.0)
            cell = table.setdefault(row["nuisance"], {}).setdefault(name, [0, 0])
            cell[1] += 1
            if ref is not None and ref.value == row["reference"]:
                cell[0] += 1
            elif ref is not None:
                wrong[name] += 1
    return {"table": table, "wrong": wrong, "cpu": cpu}


def report(title: str, result: dict[str, Any]) -> None:
    names = list(result["wrong"])
    print(f"\n## {title}", flush=True)
    print(f"{'nuisance':<13}" + "".join(f"{n:>14}" for n in names))
    totals = {n: [0, 0] for n in names}
    for nuisance, cells in result["table"].items():
        print(f"{nuisance:<13}" + "".join(f"{cells[n][0]:>9}/{cells[n][1]:<4}" for n in names))
        for n in names:
            totals[n][0] += cells[n][0]
            totals[n][1] += cells[n][1]
    print(f"{'all':<13}" + "".join(f"{totals[n][0] / max(1, totals[n][1]):>13.1%} " for n in names))
    print(f"{'wrong refs':<13}" + "".join(f"{result['wrong'][n]:>14}" for n in names))
    for stat, fn in (("median ms", statistics.median), ("p95 ms", lambda v: float(np.percentile(v, 95)))):
        print(f"{stat:<13}" + "".join(f"{fn(result['cpu'][n]):>14.1f}" for n in names), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/decode-bench"))
    ap.add_argument("--n", type=int, default=210, help="frames per 1280x960 set (a multiple of 7)")
    ap.add_argument("--n12", type=int, default=35, help="frames in the 4056x3040 set")
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--sets", default="independent,independent-12mp,own")
    a = ap.parse_args()
    cv2.setNumThreads(1)
    ms = methods()
    sets = a.sets.split(",")
    if "independent" in sets:
        folder = a.dir / f"independent-{a.seed}"
        report(f"independent renderer, 1280x960, seed {a.seed}",
               run(folder, independent_labels.generate(folder, a.n, a.seed), ms))
    if "independent-12mp" in sets:
        folder = a.dir / f"independent12-{a.seed}"
        rows = independent_labels.generate(folder, a.n12, a.seed + 1, (4056, 3040))
        report(f"independent renderer, 4056x3040, seed {a.seed + 1}", run(folder, rows, ms))
    if "own" in sets:
        folder = a.dir / f"own-{a.seed}"
        report(f"own generator (edge.synth), seed {a.seed}", run(folder, own_set(folder, a.n, a.seed), ms))


if __name__ == "__main__":
    main()
