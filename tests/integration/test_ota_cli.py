"""The maintainer's workflow with the real commands against a running ``parcel-edge run``.

keygen → sign → verify → publish; the unit (synthetic conveyor, real broker)
trials the bundle on live parcels, promotes it with no gap in its parcel
sequence, answers ``model status`` and ``model rollback`` over MQTT.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from ota_helpers import REPO, SHIPPED_VERSION, model_copy, wait_for
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edge", "model", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=timeout)


def ok_json(*args: str) -> dict:
    proc = cli(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def renamed(manifest: dict) -> None:
    manifest["version"] = "1.9.0"


def test_keygen_sign_verify_publish_promote_status_rollback(tmp_path: Path, broker) -> None:
    keys = [ok_json("keygen", "--key", str(tmp_path / f"k{i}.pem")) for i in range(2)]
    assert (tmp_path / "k0.pem").stat().st_mode & 0o777 == 0o600
    model = model_copy(tmp_path / "model", renamed)
    bundle = tmp_path / "bundle"
    ok_json("sign", str(bundle), "--model", str(model), "--version", "2.0.0",
            "--key", str(tmp_path / "k0.pem"))
    signed = ok_json("sign", str(bundle), "--key", str(tmp_path / "k1.pem"))
    assert len(signed["signatures"]) == 2
    config = tmp_path / "unit.yaml"
    config.write_text(
        f"unit: {{id: u1, data_dir: {tmp_path / 'data'}, demo: true}}\n"
        f"classify: {{model_dir: {REPO / 'models' / 'current'}}}\n"
        "camera: {type: synthetic, fps: 30, mark_prob: 0.6}\n"
        "trigger: {type: interval, period_s: 0.25, window_s: 0.1}\n"
        f"mqtt: {{host: 127.0.0.1, port: {broker.port}, backoff_min_s: 0.1, backoff_max_s: 0.5}}\n"
        "status: {interval_s: 1}\n"
        "update:\n  enabled: true\n  warmup_budget_ms: 20000\n"
        f"  trusted_keys: [{keys[0]['public_key']}, {keys[1]['public_key']}]\n  threshold: 2\n"
        "  shadow: {parcels: 6, max_disagreement: 0.5}\n"
        "  probation: {parcels: 6, latency_budget_ms: 10000, max_flag_rate: 1.0}\n")
    assert ok_json("verify", str(bundle), "--config", str(config))["version"] == "2.0.0"
    one = tmp_path / "one-signer"
    ok_json("sign", str(one), "--model", str(model), "--version", "3.0.0",
            "--key", str(tmp_path / "k0.pem"))
    refused = cli("verify", str(one), "--config", str(config), "--json")
    assert refused.returncode == 1 and json.loads(refused.stdout)["step"] == "signature"

    records: list[dict] = []
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    sub.on_message = lambda c, u, m: records.append(json.loads(m.payload))
    sub.connect("127.0.0.1", broker.port)
    sub.subscribe("parcel-edge/u1/parcels", qos=1)
    sub.loop_start()
    with open(tmp_path / "stderr.txt", "w") as log:  # a file: an unread pipe would block the unit
        unit = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(config)],
                                cwd=REPO, stderr=log, text=True)
    broker_arg = f"127.0.0.1:{broker.port}"
    try:
        assert wait_for(lambda: len(records) >= 3, 180), "the unit published no parcels"
        ok_json("publish", str(bundle), "--broker", broker_arg, "--chunk-kb", "32")

        def stable() -> dict | None:
            proc = cli("status", "--broker", broker_arg, "--unit", "u1", "--json", timeout=30)
            status = json.loads(proc.stdout) if proc.returncode == 0 else {}
            return status if (status.get("last") or {}).get("result") == "stable" else None
        status = wait_for(stable, 300, every=1.0)
        assert status and status["installed"]["version"] == "2.0.0", status
        assert status["installed"]["model"]["version"] == "1.9.0"
        n = len(records)
        assert wait_for(lambda: len(records) > n + 2, 120)
        rolled = ok_json("rollback", "--broker", broker_arg, "--unit", "u1")
        assert rolled["installed"]["version"] == "0" and rolled["last"]["result"] == "rolled_back"
        promote = cli("promote", "--broker", broker_arg, "--unit", "u1")
        assert promote.returncode == 1 and "nothing to promote" in promote.stderr
    finally:
        unit.send_signal(signal.SIGTERM)
        unit.wait(timeout=60)
        sub.disconnect()
        sub.loop_stop()
    assert unit.returncode == 0, (tmp_path / "stderr.txt").read_text()[-2000:]
    seqs = [r["seq"] for r in records]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a parcel went missing in the swap"
    versions = [r["classification"]["model"]["version"] for r in records
                if r["classification"].get("model")]
    assert SHIPPED_VERSION in versions and "1.9.0" in versions


def test_install_status_and_rollback_on_a_stopped_units_store(tmp_path: Path) -> None:
    ok_json("keygen", "--key", str(tmp_path / "k.pem"))
    pub = ok_json("keygen", "--key", str(tmp_path / "other.pem"))["public_key"]
    key = json.loads(cli("keygen", "--key", str(tmp_path / "k2.pem"), "--json").stdout)
    config = tmp_path / "unit.yaml"
    config.write_text(
        f"unit: {{id: u1, data_dir: {tmp_path / 'data'}}}\n"
        f"classify: {{model_dir: {REPO / 'models' / 'current'}}}\n"
        f"update:\n  enabled: true\n  trusted_keys: [{key['public_key']}, {pub}]\n")
    bundle = tmp_path / "b"
    ok_json("sign", str(bundle), "--model", str(REPO / "models" / "current"), "--version", "1.5",
            "--key", str(tmp_path / "k2.pem"))
    installed = ok_json("install", str(bundle), "--config", str(config))
    assert installed["installed"]["version"] == "1.5" and installed["installed"]["probation"]
    status = ok_json("status", "--config", str(config))
    assert status["pointer"]["current"] == "1.5" and status["current_intact"]
    again = cli("install", str(bundle), "--config", str(config), "--json")
    assert again.returncode == 2 and "installed here" in again.stderr
    older = tmp_path / "older"
    ok_json("sign", str(older), "--model", str(REPO / "models" / "current"), "--version", "1.4",
            "--key", str(tmp_path / "k2.pem"))
    replay = cli("install", str(older), "--config", str(config), "--json")
    assert replay.returncode == 2 and "not above 1.5" in replay.stderr
    rolled = ok_json("rollback", "--config", str(config))
    assert rolled["pointer"]["current"] == "0" and rolled["pointer"]["highest"] == "1.5"
    tampered = tmp_path / "t"
    ok_json("sign", str(tampered), "--model", str(REPO / "models" / "current"), "--version", "2",
            "--key", str(tmp_path / "k.pem"))
    refused = cli("install", str(tampered), "--config", str(config))
    assert refused.returncode == 2 and "signature" in refused.stderr
