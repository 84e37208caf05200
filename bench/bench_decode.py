"""Label-reading benchmark (issue #3): read rate per nuisance, wrong references, ms per image.

Not a test: it prints a table for the closing note.  The seeded set is
rendered once into a folder (PNG + truth JSON) and reused on later runs:

    .venv/bin/python bench/bench_decode.py --set /tmp/decode-set --per-nuisance 60

Wall time depends on what else the machine runs; CPU time (process time,
one thread: OpenCV is set to one thread) is the cost on one core.
Compared side by side on the same images: the full reader (``LabelReader``
with the parcel box the capture stage would give it), plain zxing-cpp on the
full frame, plain pyzbar on the full frame.  A "read" is a validated
reference equal to the truth; a "wrong" is a validated reference that is not.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from edge.decode import DecodeConfig, LabelReader  # noqa: E402
from edge.decode.zbar import open as open_zbar  # noqa: E402
from edge.decode.zxing import open as open_zxing  # noqa: E402
from edge.identify import best_reference  # noqa: E402
from edge.identify.sanitize import safe_text  # noqa: E402
from edge.records import Box, Reference, Symbol  # noqa: E402

NUISANCES = ("clean", "rotation", "perspective", "motion_blur", "defocus", "low_light", "gradient", "glare", "jpeg")


def generate(folder: Path, per_nuisance: int, seed: int) -> None:
    """Render the seeded set (skipped when its index already exists)."""
    from edge.synth import render_still, sample_parcel

    index = folder / "index.json"
    if index.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    items = []
    for name in NUISANCES:
        for i in range(per_nuisance):
            image, truth = render_still(sample_parcel(rng), rng, (name,))
            stem = f"{name}-{i:04d}"
            cv2.imwrite(str(folder / f"{stem}.png"), image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
            (folder / f"{stem}.json").write_text(json.dumps(truth))
            items.append({"stem": stem, "nuisance": name})
    index.write_text(json.dumps(items))


def load(folder: Path, limit: int | None) -> Iterator[tuple[str, np.ndarray, dict[str, Any]]]:
    items = json.loads((folder / "index.json").read_text())
    for item in items[:limit]:
        image = cv2.imread(str(folder / f"{item['stem']}.png"), cv2.IMREAD_COLOR)
        truth = json.loads((folder / f"{item['stem']}.json").read_text())
        yield item["nuisance"], image, truth


def _plain(decoder: Any) -> Callable[[np.ndarray, dict[str, Any]], Reference | None]:
    def run(image: np.ndarray, truth: dict[str, Any]) -> Reference | None:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        syms = [Symbol(r.format, safe_text(r.text), decoder.name) for r in decoder.decode(gray)]
        return best_reference(syms)
    return run


def _full(reader: LabelReader, use_box: bool) -> Callable[[np.ndarray, dict[str, Any]], Reference | None]:
    def run(image: np.ndarray, truth: dict[str, Any]) -> Reference | None:
        box = Box(*truth["parcel_box"]) if use_box and truth.get("parcel_box") else None
        return reader.read_image(image, box=box).reference
    return run


def score(ref: Reference | None, truth: dict[str, Any]) -> str:
    want = truth.get("reference")
    if ref is None:
        return "miss"
    if want and ref.kind == want["kind"] and ref.value == want["value"]:
        return "read"
    return "wrong"


def bench(folder: Path, limit: int | None, cfg: DecodeConfig,
          reader: LabelReader | None = None) -> dict[str, dict[str, Any]]:
    methods = {
        "reader": _full(reader or LabelReader(cfg), True),
        "reader-nobox": _full(LabelReader(cfg), False),
        "zxing": _plain(open_zxing(cfg)),
        "pyzbar": _plain(open_zbar(cfg)),
    }
    results: dict[str, dict[str, Any]] = {m: {"ms": [], "cpu_ms": [], "by": {}} for m in methods}
    for nuisance, image, truth in load(folder, limit):
        for name, fn in methods.items():
            t0, c0 = time.perf_counter(), time.process_time()
            ref = fn(image, truth)
            results[name]["ms"].append((time.perf_counter() - t0) * 1000)
            results[name]["cpu_ms"].append((time.process_time() - c0) * 1000)
            by = results[name]["by"].setdefault(nuisance, {"read": 0, "miss": 0, "wrong": 0})
            by[score(ref, truth)] += 1
    return results


def table(results: dict[str, dict[str, Any]]) -> str:
    names = list(results)
    rows = ["| nuisance | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    nuisances = list(next(iter(results.values()))["by"])
    for nz in nuisances + ["overall"]:
        cells = []
        for name in names:
            by = results[name]["by"]
            counts = by[nz] if nz != "overall" else {
                k: sum(v[k] for v in by.values()) for k in ("read", "miss", "wrong")}
            total = sum(counts.values())
            cells.append(f"{100 * counts['read'] / total:.1f}% ({counts['wrong']} wrong)")
        rows.append(f"| {nz} | " + " | ".join(cells) + " |")
    for label, key, q in (("median ms (wall)", "ms", 50), ("p95 ms (wall)", "ms", 95),
                          ("median ms (CPU)", "cpu_ms", 50), ("p95 ms (CPU)", "cpu_ms", 95)):
        rows.append(f"| {label} | " + " | ".join(
            f"{np.percentile(results[n][key], q):.1f}" for n in names) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=Path("/tmp/decode-set"), help="folder of the seeded set")
    ap.add_argument("--per-nuisance", type=int, default=60, help="images per nuisance when generating")
    ap.add_argument("--seed", type=int, default=20260301)
    ap.add_argument("--limit", type=int, default=None, help="only the first N images")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)
    generate(args.set, args.per_nuisance, args.seed)
    reader = LabelReader(DecodeConfig())
    results = bench(args.set, args.limit, DecodeConfig(), reader)
    print(table(results))
    rungs = {k[len("read_by_"):]: v for k, v in reader.counters.items() if k.startswith("read_by_")}
    print("reader (with parcel box), reads by rung:", ", ".join(f"{k} {v}" for k, v in rungs.items()))
    if args.json:
        args.json.write_text(json.dumps({k: {"by": v["by"], "median_ms": statistics.median(v["ms"]),
                                             "median_cpu_ms": statistics.median(v["cpu_ms"])}
                                         for k, v in results.items()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
