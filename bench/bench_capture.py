"""Benchmark of exam-photo capture (not a test): upload-to-verdict time, hard photos caught.

    .venv/bin/python bench/bench_capture.py --good 4 --hard 8

Photos are 12 MP phone JPEGs drawn by bench/exam_photos.py, a renderer written apart from
the scenes the capture thresholds were set on.  Each is uploaded through the real page
(FastAPI under a TestClient, logged in, CSRF, multipart) to a hub on SQLite, so the time is
upload to verdict as the officer waits for it.  Rendered photos are cached in
out/bench_capture/ (they take seconds each to draw).
"""
from __future__ import annotations

import argparse
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from exam_photos import ExamPhoto, reference_for, render  # noqa: E402

VIEWS = ("exterior", "label", "interior", "product", "mark")
FAULTS = {"blur": VIEWS, "dark": VIEWS, "glare": VIEWS, "far": ("exterior", "label", "product", "mark")}
PASSWORD = "bench-password-1"


def photos(good: int, hard: int, cache: Path) -> list[ExamPhoto]:
    """``good`` photos per view and ``hard`` per fault (views in turn), cached on disk."""
    plan = [(v, "", 1000 + i) for v in VIEWS for i in range(good)]
    for fault, views in FAULTS.items():
        plan += [(views[i % len(views)], fault, 2000 + i) for i in range(hard)]
    cache.mkdir(parents=True, exist_ok=True)
    out = []
    for view, fault, seed in plan:
        path = cache / f"{view}_{fault or 'good'}_{seed}.jpg"
        if not path.exists():
            path.write_bytes(render(view, fault, seed).data)
        out.append(ExamPhoto(view, fault, path.read_bytes(), reference_for(seed)))
    return out


def _client(root: Path) -> tuple[object, object]:
    from fastapi.testclient import TestClient

    from edge.hub.app import build_for_test
    from edge.hub.photos.config import CaptureConfig
    from edge.hub.photos.service import open_capture
    from edge.hub.web.app import create_web_app
    from edge.hub.web.settings import WebConfig

    hub = build_for_test(root / "hub")
    hub.services.add_user("bench", PASSWORD, "officer", "bench")
    app = create_web_app(hub.services, WebConfig(), secrets.token_bytes(32))
    app.state.capture = open_capture(CaptureConfig(data_dir=str(root / "capture")))
    client = TestClient(app)
    token = _csrf(client.get("/login").text)
    client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf": token})
    return client, app.state.capture


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert match, "no CSRF field"
    return match.group(1)


def run(items: list[ExamPhoto]) -> list[tuple[ExamPhoto, bool, float, str]]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        client, service = _client(Path(tmp))
        token = _csrf(client.get("/capture").text)
        for p in items:
            reference = p.reference  # the case of the parcel photographed
            key = "mark-1" if p.view == "mark" else p.view
            started = time.perf_counter()
            response = client.post(f"/capture/case/{reference}/photo", data={"key": key, "csrf": token},
                                   files={"photo": ("IMG_0001.JPG", p.data, "image/jpeg")})
            ms = (time.perf_counter() - started) * 1000.0
            passed = 'data-passed="1"' in response.text
            failed = re.search(r"Failed: ([a-z_, ]+)", response.text)
            results.append((p, passed, ms, failed.group(1) if failed else ""))
        service.stop()
    return results


def report(results: list[tuple[ExamPhoto, bool, float, str]]) -> None:
    good = [r for r in results if not r[0].fault]
    times = [r[2] for r in results]
    print(f"photos: {len(results)} (12 MP phone JPEG, 4032x3024)")
    print(f"upload to verdict: median {statistics.median(times):.0f} ms, "
          f"p95 {sorted(times)[int(0.95 * (len(times) - 1))]:.0f} ms, max {max(times):.0f} ms\n")
    print("| photos | n | caught (failed) | passed | failing checks |\n|---|---|---|---|---|")
    by = defaultdict(list)
    for r in results:
        by[r[0].fault or "good"].append(r)
    for name in ("good", *FAULTS):
        rows = by.get(name, [])
        if not rows:
            continue
        caught = sum(not r[1] for r in rows)
        why = Counter(c.strip() for r in rows for c in r[3].split(",") if c.strip())
        print(f"| {name} | {len(rows)} | {caught / len(rows):.0%} | {1 - caught / len(rows):.0%} | "
              f"{', '.join(f'{k} {v}' for k, v in why.most_common())} |")
    hard = [r for r in results if r[0].fault]
    print(f"\nhard photos caught: {sum(not r[1] for r in hard)}/{len(hard)}; "
          f"good photos passed: {sum(r[1] for r in good)}/{len(good)}")
    missed = Counter(f"{r[0].fault} {r[0].view}" for r in hard if r[1])
    print(f"  hard photos passed (missed): {dict(missed) or 'none'}")
    for view in VIEWS:
        rows = [r for r in good if r[0].view == view]
        print(f"  good {view}: {sum(r[1] for r in rows)}/{len(rows)} passed "
              f"{[r[3] for r in rows if not r[1]]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--good", type=int, default=4, help="good photos per view")
    parser.add_argument("--hard", type=int, default=8, help="hard photos per fault")
    parser.add_argument("--cache", type=Path, default=Path("out/bench_capture"))
    args = parser.parse_args()
    started = time.perf_counter()
    items = photos(args.good, args.hard, args.cache)
    print(f"rendered/cached {len(items)} photos in {time.perf_counter() - started:.0f} s")
    report(run(items))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
