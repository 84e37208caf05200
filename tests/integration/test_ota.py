"""Over-the-air updates with real parts: mosquitto, onnxruntime, SIGKILLed processes.

The shadow trial and probation need live parcels: ``Feeder`` pushes the golden
parcels through the update slot from several threads, as the path's workers
do; the end-to-end test runs ``parcel-edge run`` on the synthetic conveyor.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from ota_helpers import (REPO, SHIPPED_VERSION, Feeder, catalogue_copy, golden_parcels,
                         make_bundle, model_copy, names_nobody_prints, unit_yaml, wait_for)
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge.config import parse_config
from edge.update import build_updater, signing
from edge.update.bundle import parse_manifest
from edge.update.checks import read_bundle_dir
from edge.update.publish import chunks, offer_payload, publish_bundle
from edge.update.store import VersionStore
from edge.update.trial import model_flags

pytestmark = pytest.mark.integration
TOPIC = "parcel-edge/updates"


@pytest.fixture(scope="module")
def key():
    return signing.generate()


class Watcher:
    """A maintainer's client: publishes bundles, collects ``model/status``."""

    def __init__(self, port: int, unit: str = "u1") -> None:
        self.statuses: list[dict] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self.client.on_message = lambda c, u, m: self.statuses.append(json.loads(m.payload))
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(f"parcel-edge/{unit}/model/status", qos=1)
        self.client.loop_start()

    def last(self, **want) -> dict | None:
        for s in reversed(self.statuses):
            last = s.get("last") or {}
            if all(last.get(k) == v for k, v in want.items()):
                return s
        return None

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def start(tmp_path: Path, key, port: int, extra: str):
    up = build_updater(parse_config(unit_yaml(tmp_path, [key], port=port, extra=extra)))
    up.start()
    return up


TRIAL = ("  shadow: {parcels: 12, max_disagreement: 0.05}\n"
         "  probation: {parcels: 12, latency_budget_ms: 10000, max_flag_rate: 0.9}\n")


def test_over_the_broker_a_bundle_is_trialled_promoted_and_a_replay_refused(
        tmp_path: Path, broker, key) -> None:
    watcher = Watcher(broker.port)
    up = start(tmp_path, key, broker.port, TRIAL)
    try:
        with Feeder(up.slot) as feeder:
            publish_bundle(watcher.client, make_bundle(tmp_path, "1.2.0", [key]), TOPIC, 16 * 1024)
            stable = wait_for(lambda: watcher.last(result="stable"), 180)
            assert stable, watcher.statuses[-1:]
        assert not feeder.failures
        phases = [s["phase"] for s in watcher.statuses]
        assert phases.index("downloading") < phases.index("trial") < phases.index("probation")
        promoted = watcher.last(result="promoted")
        trial = json.loads(promoted["last"]["reason"].split("; ")[0][len("trial "):])
        assert trial["parcels"] == 12 and trial["disagreement_rate"] == 0.0
        assert stable["installed"] == {**stable["installed"], "version": "1.2.0", "previous": "0",
                                       "highest": "1.2.0", "probation": False}
        publish_bundle(watcher.client, make_bundle(tmp_path, "1.1.0", [key]), TOPIC, 16 * 1024)
        replay = wait_for(lambda: watcher.last(step="version"), 180)
        assert replay and "not above 1.2.0" in replay["last"]["reason"]
        assert up.manager.pointer.current == "1.2.0"
        left: list = []  # the broker keeps one bundle per topic: 1.2.0's chunks were cleared
        watcher.client.message_callback_add(f"{TOPIC}/bundles/models/#",
                                            lambda c, u, m: left.append(m.topic))
        watcher.client.subscribe(f"{TOPIC}/bundles/models/#", qos=1)
        assert wait_for(lambda: left, 5)
        time.sleep(0.5)
        assert left and all("/1.1.0/" in t for t in left)
    finally:
        up.close()
        watcher.close()


def publish_parts(client, bundle: Path, skip: set[int] = frozenset(), cut_last: int = 0) -> int:
    items = list(chunks(bundle, TOPIC, 16 * 1024))
    for n, (topic, data) in enumerate(items):
        if n in skip:
            continue
        if cut_last and n == len(items) - 1:
            data = data[:-cut_last]
        client.publish(topic, data, qos=1, retain=True).wait_for_publish(10)
    client.publish(f"{TOPIC}/offer", offer_payload(bundle, 16 * 1024), qos=1,
                   retain=True).wait_for_publish(10)
    return len(items)


def test_a_truncated_download_fails_with_its_reason(tmp_path: Path, broker, key) -> None:
    watcher = Watcher(broker.port)
    up = start(tmp_path, key, broker.port, "  download_timeout_s: 5\n")
    try:
        publish_parts(watcher.client, make_bundle(tmp_path, "1.2.0", [key]), cut_last=100)
        failed = wait_for(lambda: watcher.last(result="failed"), 180)
        assert failed and failed["last"]["step"] == "files"
        assert "chunks missing, 1 refused for a wrong size" in failed["last"]["reason"]
        assert up.manager.pointer.current == "0"
    finally:
        up.close()
        watcher.close()


def test_an_oversized_offer_is_refused_before_download(tmp_path: Path, broker, key) -> None:
    watcher = Watcher(broker.port)
    up = start(tmp_path, key, broker.port, "  max_bundle_mb: 0.1\n")
    try:
        publish_bundle(watcher.client, make_bundle(tmp_path, "1.2.0", [key]), TOPIC, 16 * 1024)
        refused = wait_for(lambda: watcher.last(step="size"), 180)
        assert refused and "over this unit's limit" in refused["last"]["reason"]
        assert not list((tmp_path / "data" / "models" / "staging").iterdir())
    finally:
        up.close()
        watcher.close()


def test_a_download_resumes_after_a_restart(tmp_path: Path, broker, key) -> None:
    watcher = Watcher(broker.port)
    bundle = make_bundle(tmp_path, "1.2.0", [key])
    extra = "  shadow: {parcels: 0}\n  probation: {parcels: 0}\n"
    up = start(tmp_path, key, broker.port, extra)
    staging = tmp_path / "data" / "models" / "staging" / "1.2.0" / "chunks"
    try:
        total = publish_parts(watcher.client, bundle, skip={3, 7})
        assert wait_for(lambda: staging.exists() and len(list(staging.iterdir())) == total - 2, 180)
    finally:
        up.close()
    held = {p.name: p.stat().st_mtime_ns for p in staging.iterdir()}
    manifest = parse_manifest(read_bundle_dir(bundle)[0])
    items = list(chunks(bundle, TOPIC, 16 * 1024))
    for n in (3, 7):
        watcher.client.publish(items[n][0], items[n][1], qos=1, retain=True).wait_for_publish(10)
    before = len(watcher.statuses)
    up = start(tmp_path, key, broker.port, extra)
    try:
        done = wait_for(lambda: watcher.last(result="promoted", version="1.2.0"), 180)
        assert done and manifest.version == "1.2.0"
        assert up.manager.pointer.current == "1.2.0"
        resumed = [s["pending"] for s in watcher.statuses[before:] if s["phase"] == "downloading"]
        assert len(held) == total - 2 and resumed[0]["chunks"] == total - 2, resumed
    finally:
        up.close()
        watcher.close()


def test_a_shadow_trial_that_disagrees_too_much_is_refused(tmp_path: Path, key) -> None:
    cfg = parse_config(unit_yaml(tmp_path, [key], extra="  shadow: {parcels: 10}\n"))
    up = build_updater(cfg, with_link=False)
    up.manager.start()
    try:
        bundle = make_bundle(tmp_path, "1.2.0", [key],
                             catalogue=catalogue_copy(tmp_path / "c", names_nobody_prints))
        with Feeder(up.slot) as feeder:
            up.manager.command("install-local", {"bundle": str(bundle)})
            done = wait_for(lambda: (up.manager.last or {}).get("step") == "shadow", 180)
        assert done, up.manager.status()
        assert "of 10 parcels (bound 5.0%)" in up.manager.last["reason"]
        assert up.manager.pointer.current == "0" and "1.2.0" in up.manager.pointer.rejected
        assert all(r.catalogue.version == "1.0.0" for r in feeder.results)  # verdicts untouched
    finally:
        up.close()


def test_probation_rolls_back_a_collapsed_verdict_mix(tmp_path: Path, key) -> None:
    extra = ("  shadow: {parcels: 4, max_disagreement: 1.0}\n"
             "  probation: {parcels: 10, max_flag_rate: 0.5, latency_budget_ms: 10000}\n")
    up = build_updater(parse_config(unit_yaml(tmp_path, [key], extra=extra)), with_link=False)
    up.manager.start()
    try:
        bundle = make_bundle(tmp_path, "1.2.0", [key],
                             catalogue=catalogue_copy(tmp_path / "c", names_nobody_prints))
        # Only golden parcels the shipped model flags: the shadow trial's baseline is then
        # 100% whichever parcels it sees.  With all four (two flagged) it depended on which
        # four the trial took, and on a loaded machine, with two feeder threads and parcels
        # skipped while the shadow was busy, one flag in four left 10 parcels expecting 2.5,
        # short of the collapse rule's 5, and the version passed probation.
        flagged = [im for im in golden_parcels() if model_flags(up.slot.classify(im, None))]
        assert flagged
        with Feeder(up.slot, images=flagged):
            up.manager.command("install-local", {"bundle": str(bundle)})
            done = wait_for(lambda: (up.manager.last or {}).get("result") == "rolled_back", 180)
        assert done, up.manager.status()
        assert "verdict mix collapsed: nothing flagged in 10 parcels" in up.manager.last["reason"]
        ptr = up.manager.pointer
        assert (ptr.current, ptr.highest) == ("0", "1.2.0") and up.slot.info.version == SHIPPED_VERSION
    finally:
        up.close()
    store = VersionStore(tmp_path / "data" / "models")  # and so it stays after a restart
    assert store.open(REPO / "models" / "current").current == "0"
    store.close()


STEPS = ["files-checked", "moved", "completed", "listed", "synced", "renamed", "dir-synced",
         "validated", "pointer-written", "pointer-renamed", "pointer-synced", "pruned"]


@pytest.mark.slow
def test_a_kill_between_any_two_install_steps_leaves_one_valid_version(tmp_path: Path,
                                                                      key) -> None:
    worker = Path(__file__).with_name("ota_worker.py")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    bundle = make_bundle(tmp_path, "1.2.0", [key])
    extra = "  shadow: {parcels: 0}\n  probation: {parcels: 0}\n"
    for step in STEPS:
        root = tmp_path / step
        config = root / "unit.yaml"
        root.mkdir()
        config.write_text(unit_yaml(root, [key], extra=extra))
        run = subprocess.run([sys.executable, str(worker), str(config), str(bundle), step],
                             capture_output=True, text=True, timeout=120, env=env, cwd=REPO)
        assert run.returncode == -9 and f"step {step}" in run.stdout, (step, run.stderr[-800:])
        up = build_updater(parse_config(config.read_text()), with_link=False)
        try:
            ptr = up.manager.pointer
            promoted = STEPS.index(step) >= STEPS.index("pointer-renamed")
            assert ptr.current == ("1.2.0" if promoted else "0"), step
            assert ptr.highest == ptr.current and up.store.intact(ptr.current), step
            assert up.slot.available and up.slot.info.version == SHIPPED_VERSION, step
            left = sorted(p.name for p in up.store.versions.iterdir())
            assert left == sorted({ptr.current, *( [ptr.previous] if ptr.previous else [])}), step
        finally:
            up.close()


def _tls(pki: Path, port: int, cn: str, seen: list) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{cn}-ota",
                         protocol=MQTTProtocolVersion.MQTTv5)
    client.tls_set(ca_certs=str(pki / "ca.crt"), certfile=str(pki / f"{cn}.crt"),
                   keyfile=str(pki / f"{cn}.key"))
    client.on_message = lambda c, u, m: seen.append((m.topic, bytes(m.payload)))
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert wait_for(client.is_connected, 10)
    return client


def test_the_production_acl_lets_maintainers_publish_updates_and_units_only_read_them(
        tmp_path: Path) -> None:
    from conftest import Broker, free_port, production_config
    from delivery_tls import make_pki

    pki, workdir, port = tmp_path / "pki", tmp_path / "prod", free_port()
    make_pki(pki, ["unit-01", "maintainer"])
    workdir.mkdir()
    configs = REPO / "config" / "mosquitto"
    broker = Broker(workdir, port, config=production_config(
        configs / "production.conf", workdir, port, pki, configs / "production.acl"))
    broker.start()
    unit_seen: list = []
    maint_seen: list = []
    unit = _tls(pki, port, "unit-01", unit_seen)
    maintainer = _tls(pki, port, "maintainer", maint_seen)
    try:
        unit.subscribe(f"{TOPIC}/#", qos=1)
        maintainer.subscribe([(f"{TOPIC}/#", 1), ("parcel-edge/unit-01/model/status", 1)])
        time.sleep(0.3)
        maintainer.publish(f"{TOPIC}/offer", b"from the maintainer", qos=1,
                           retain=True).wait_for_publish(5)
        unit.publish(f"{TOPIC}/offer", b"forged by a unit", qos=1, retain=True).wait_for_publish(5)
        unit.publish("parcel-edge/unit-01/model/status", b"{}", qos=1).wait_for_publish(5)
        assert wait_for(lambda: (f"{TOPIC}/offer", b"from the maintainer") in unit_seen, 10)
        assert wait_for(lambda: any(t.endswith("model/status") for t, _ in maint_seen), 10)
        time.sleep(0.5)
        assert all(p != b"forged by a unit" for _, p in unit_seen + maint_seen)
    finally:
        for client in (unit, maintainer):
            client.disconnect()
            client.loop_stop()
        broker.stop()
