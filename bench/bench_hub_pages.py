"""Officers' page times with a big store: queue and search ≤ 200 ms median at 100,000 parcels.

Fills a hub's SQLite store with copies of real unit records (the synthetic conveyor's,
each copy with its own id, sequence, time, a valid UPU S10 reference, outcome and brand),
serves the real web app under uvicorn and times whole HTTP requests of a logged-in
officer (login, database, rendering).  The filled store is kept in ``--dir`` and reused.

    PYTHONPATH=. python bench/bench_hub_pages.py --parcels 100000 --dir out/bench-hub
"""
from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.hub.web.conftest import PASSWORD, LiveServer, make_app  # noqa: E402

OUTCOMES = (("clear", 0.80), ("flag", 0.06), ("review", 0.08), ("no_read", 0.04),
            ("quality_reject", 0.02))
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
UNITS = tuple(f"unit-{i:02d}" for i in range(1, 9))


def s10(serial: int, prefix: str = "RR", country: str = "CN") -> str:
    digits = f"{serial:08d}"
    check = 11 - sum(int(d) * w for d, w in zip(digits, S10_WEIGHTS)) % 11
    return f"{prefix}{digits}{ {10: 0, 11: 5}.get(check, check)}{country}"


def templates(work: Path) -> list[dict[str, Any]]:
    """A few real records from the unit's whole path (the synthetic conveyor)."""
    from edge.demo import demo_config, run_synthetic, with_run_overrides
    cfg = with_run_overrides(demo_config(None), work / "unit", 12, 1)
    run_synthetic(cfg, work / "unit", write_packages=True, progress=None, total=12)
    return [json.loads(p.read_text()) for p in sorted((work / "unit" / "packages").rglob("*_record.json"))]


def fill(store: Any, records: list[dict[str, Any]], n: int, seed: int = 7,
         batch: int = 1000) -> None:
    """``n`` copies through the store's ingest, ``batch`` per transaction (as ingest batches)."""
    from edge.hub.store.base import RecordIn
    rng = random.Random(seed)
    pending: list[Any] = []
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    brands = ("ZENTRO", "AURELIA", "NOVAPEAK", "KESTREL", "")
    started = time.perf_counter()
    for i in range(n):
        rec = dict(rng.choice(records))  # shallow: only top-level keys are replaced below
        outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
        unit = UNITS[i % len(UNITS)]
        rec.update(id=str(uuid.UUID(int=rng.getrandbits(128))), unit=unit, seq=i // len(UNITS) + 1,
                   time_utc=(start + timedelta(seconds=26 * i)).isoformat(timespec="milliseconds")
                   .replace("+00:00", "Z"))
        rec["reference"] = {"kind": "upu_s10", "value": s10(i), "valid": True,
                            "confidence": 1.0, "votes": 1}
        rec["verdict"] = {**rec["verdict"], "outcome": outcome}
        if rec.get("classification"):
            rec["classification"] = {**rec["classification"], "brand": rng.choice(brands)}
        pending.append(RecordIn(rec, unit, f"parcel-edge/{unit}", outcome == "flag"))
        if len(pending) == batch or i == n - 1:
            store.ingest(pending, rec["time_utc"])
            pending = []
        if i and i % 10000 == 0:
            print(f"  stored {i} parcels, {i / (time.perf_counter() - started):.0f}/s", flush=True)


def timed(client: Any, url: str, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parcels", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    import httpx
    from edge.hub.app import build_for_test
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench-hub-"))
    work.mkdir(parents=True, exist_ok=True)
    hub = build_for_test(work / "hub")
    have = len(hub.services.search(_q(limit=1, unit=UNITS[0])))
    if not have:
        print(f"filling the store with {args.parcels} parcels (kept in {work})", flush=True)
        hub.services.add_user("bench1", PASSWORD, "officer", "bench")
        fill(hub.store, templates(work), args.parcels)
    with LiveServer(make_app(hub)) as server, httpx.Client(base_url=server.url) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text).group(1)
        client.post("/login", data={"username": "bench1", "password": PASSWORD, "csrf": token})
        urls = {"queue": "/queue", "queue (flags only)": "/queue?only=flag",
                "search: ref prefix, 100 hits": "/search?reference=RR000412",
                "search: ref prefix, 10k hits": "/search?reference=RR0004",
                "search: exact reference": f"/search?reference={s10(args.parcels // 2)}",
                "search: unit + outcome": f"/search?unit={UNITS[3]}&outcome=review",
                "search: brand + day": "/search?brand=ZENTRO&since=2026-10-20&until=2026-10-21",
                "parcel page": None}
        rows = hub.services.queue(limit=1)
        urls["parcel page"] = f"/parcel/{rows[0].parcel_id}" if rows else "/queue"
        print(f"{args.parcels} parcels stored; {args.requests} requests each (median / p95 ms):")
        for name, url in urls.items():
            med, p95 = timed(client, url, args.requests)
            print(f"  {name:28s} {med:7.1f} / {p95:7.1f}")
    hub.stop()
    return 0


def _q(**kw: Any) -> Any:
    from edge.hub.store.base import SearchQuery
    return SearchQuery(**kw)


if __name__ == "__main__":
    raise SystemExit(main())
