"""Over-the-air update benchmark (not a test): publish → promoted, swaps under load, shadow cost.

    .venv/bin/python bench/bench_ota.py [--shadow N] [--swaps N]

Starts its own mosquitto on a free loopback port (the test fixture's Broker),
signs a real bundle of the shipped model and feeds the golden parcels through
the update slot from two threads, as the path's workers would.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion  # noqa: E402

from conftest import Broker, free_port  # noqa: E402
from ota_helpers import Feeder, golden_parcels, make_bundle, model_copy, unit_yaml, wait_for  # noqa: E402
from edge.config import parse_config  # noqa: E402
from edge.update import build_updater, signing  # noqa: E402
from edge.update.publish import publish_bundle  # noqa: E402
from edge.update.trial import ShadowTrial  # noqa: E402


def publish_to_promoted(tmp: Path, port: int, key: Any, shadow: int) -> dict[str, float]:
    """Seconds from the maintainer's publish to the unit's promotion, parcels flowing."""
    extra = f"  shadow: {{parcels: {shadow}}}\n  probation: {{parcels: 50}}\n"
    up = build_updater(parse_config(unit_yaml(tmp, [key], port=port, extra=extra)))
    up.start()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    bundle = make_bundle(tmp, "1.2.0", [key])
    marks: dict[str, float] = {}
    try:
        with Feeder(up.slot) as feeder:
            wait_for(lambda: len(feeder.results) > 10)
            t0 = time.perf_counter()
            publish_bundle(client, bundle, "parcel-edge/updates", 64 * 1024)
            marks["published_s"] = time.perf_counter() - t0
            wait_for(lambda: up.manager.phase in ("trial", "probation"), 120, 0.005)
            marks["checked_and_loaded_s"] = time.perf_counter() - t0
            wait_for(lambda: up.manager.phase == "probation", 600, 0.005)
            marks["promoted_s"] = time.perf_counter() - t0
            marks["shadow_parcels"] = shadow
    finally:
        up.close()
        client.disconnect()
        client.loop_stop()
    return {k: round(v, 3) for k, v in marks.items()}


def reference(up: Any, images: list) -> dict[str, list]:
    return {up.slot.info.version: [up.slot.classifier.classify(im, None).scores for im in images]}


def swaps_under_load(tmp: Path, key: Any, swaps: int) -> dict[str, Any]:
    """Promote and roll back ``swaps`` times while two threads classify; count lost and wrong."""
    def renamed(m: dict) -> None:
        m["version"] = "1.2.0"

    extra = "  shadow: {parcels: 0}\n  probation: {parcels: 0}\n"
    up = build_updater(parse_config(unit_yaml(tmp, [key], extra=extra)), with_link=False)
    up.manager.start()
    images = golden_parcels()
    expected = reference(up, images)
    model = model_copy(tmp / "renamed", renamed)
    try:
        with Feeder(up.slot) as feeder:
            for n in range(swaps):
                if n % 2 == 0:
                    bundle = make_bundle(tmp, f"2.{n}", [key], model=model)
                    up.manager.command("install-local", {"bundle": str(bundle)})
                    expected.update(reference(up, images))
                else:
                    up.manager.command("rollback")
                time.sleep(0.3)
        misjudged = sum(1 for r in feeder.results
                        if not r.available or r.scores not in expected.get(r.model.version, []))
        return {"swaps": swaps, "parcels": feeder.calls, "answered": len(feeder.results),
                "lost": feeder.calls - len(feeder.results) + len(feeder.failures),
                "misjudged": misjudged,
                "versions_seen": sorted({r.model.version for r in feeder.results})}
    finally:
        up.close()


def shadow_cost(tmp: Path, key: Any, parcels: int, rate: float) -> dict[str, Any]:
    """Median ms per parcel through the slot, alone and with a candidate in the shadow.

    ``rate`` parcels/s paces the parcels as a belt would (0: back to back, the worst case
    for contention: the shadow thread then competes for the same cores all the time).
    """
    up = build_updater(parse_config(unit_yaml(tmp, [key])), with_link=False)
    images = golden_parcels()
    try:
        def run() -> float:
            times = []
            for i in range(parcels):
                t = time.perf_counter()
                up.slot.classify(images[i % len(images)], None)
                times.append((time.perf_counter() - t) * 1000)
                if rate:
                    time.sleep(max(0.0, 1.0 / rate - times[-1] / 1000))
            return statistics.median(times)
        alone = run()
        candidate = up.manager.loader(up.store.path(up.manager.pointer.current))
        trial = ShadowTrial(candidate, parcels * 10, lambda s: None)
        up.slot.shadow(trial)
        shadowed = run()
        trial.close()
        summary = trial.summary()
        return {"parcels": parcels, "rate_per_s": rate, "alone_ms": round(alone, 2),
                "with_shadow_ms": round(shadowed, 2), "extra_ms": round(shadowed - alone, 2),
                "shadow_judged": summary["parcels"], "shadow_skipped": summary["skipped"]}
    finally:
        up.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shadow", type=int, default=200, help="shadow trial parcels")
    parser.add_argument("--swaps", type=int, default=10)
    parser.add_argument("--rate", type=float, default=5.0, help="belt parcels/s for shadow cost")
    parser.add_argument("--parcels", type=int, default=100, help="parcels per shadow-cost run")
    args = parser.parse_args()
    key = signing.generate()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "broker").mkdir()
        broker = Broker(tmp / "broker", free_port())
        broker.start()
        try:
            for shadow in (0, args.shadow):
                (tmp / f"p{shadow}").mkdir()
                out[f"publish_to_promoted_shadow_{shadow}"] = publish_to_promoted(
                    tmp / f"p{shadow}", broker.port, key, shadow)
        finally:
            broker.stop()
        (tmp / "swap").mkdir()
        out["swap_under_load"] = swaps_under_load(tmp / "swap", key, args.swaps)
        for rate in (args.rate, 0.0):
            (tmp / f"shadow{rate}").mkdir()
            out[f"shadow_cost_rate_{rate:g}"] = shadow_cost(tmp / f"shadow{rate}", key,
                                                            args.parcels, rate)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
