"""Soak: the unit (`parcel-edge run`, a real process) on the synthetic conveyor for a long time,
the broker bounced every few minutes; counts what was lost and samples resident memory.

    python -m bench.soak --minutes 60 --rate 5 --bounce-every 180

Parcels come at ``--rate`` a second: the synthetic conveyor draws the belt and the interval
trigger cuts a capture every 1/rate s, each through the whole path (decode, quality, classify,
package, durable commit) and out over MQTT 5 to a real mosquitto, which is stopped (SIGTERM) and
restarted every ``--bounce-every`` s.  A receiver with a persistent session collects the records.
At the end the unit gets SIGTERM; what it still held is drained by the unit's own publisher, and
every record the outbox ever committed must have reached the receiver (lost = committed - got).
Resident memory (RSS) of the unit is sampled every ``--sample-every`` s; the table is printed.
"""
from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import paho.mqtt.client as mqtt  # noqa: E402
import psutil  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402

from conftest import Broker, free_port  # noqa: E402
from delivery_helpers import wait_until  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
UNIT = "soak-01"


def unit_config(work: Path, port: int, rate: float) -> Path:
    period = 1.0 / rate
    cfg = work / "unit.yaml"
    cfg.write_text(f"""unit:
  id: {UNIT}
  data_dir: {work / 'data'}
  demo: true
conveyor:
  belt_speed_m_s: 2.0
camera:
  type: synthetic
  fps: {max(10.0, 3 * rate):.0f}
  gap_m: 0.3
  seed: 7
trigger:
  type: interval
  period_s: {period:.3f}
  window_s: {period / 2:.3f}
pipeline:
  capture_queue: 8
mqtt:
  host: 127.0.0.1
  port: {port}
  backoff_min_s: 0.5
  backoff_max_s: 5
status:
  interval_s: 10
""")
    return cfg


class Receiver:
    """A central system: persistent session, QoS 1, records by sequence number."""

    def __init__(self, port: int) -> None:
        self.seqs: set[int] = set()
        self.duplicates = 0
        self.status: dict = {}
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="soak-receiver",
                                  protocol=MQTTProtocolVersion.MQTTv5)
        self.client.on_message = self._message
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"parcel-edge/{UNIT}/#", qos=1)
        self.client.reconnect_delay_set(0.5, 2)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", port, clean_start=False, properties=props)
        self.client.loop_start()

    def _message(self, client, userdata, msg) -> None:
        if msg.topic.endswith("/parcels"):
            seq = json.loads(msg.payload)["seq"]
            with self._lock:
                self.duplicates += seq in self.seqs
                self.seqs.add(seq)
        elif msg.topic.endswith("/status"):
            self.status = json.loads(msg.payload)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def drain(data_dir: Path, port: int) -> bool:
    """What the stopped unit still held, delivered by its own publisher."""
    from edge.outbox import Outbox
    from edge.outbox.config import OutboxConfig
    from edge.publish import Publisher
    from edge.publish.config import MqttConfig, StatusConfig

    box = Outbox(OutboxConfig(), data_dir / "outbox")
    pub = Publisher(MqttConfig(host="127.0.0.1", port=port), box, unit=UNIT,
                    status_cfg=StatusConfig(interval_s=60))
    pub.start()
    ok = wait_until(lambda: box.stats()["depth"] == 0, 120)
    pub.stop()
    box.close()
    return ok


def committed(data_dir: Path) -> set[int]:
    with sqlite3.connect(data_dir / "outbox" / "outbox.db") as db:
        return {r[0] for r in db.execute("SELECT seq FROM items WHERE kind='record'")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=5.0, help="parcels per second")
    ap.add_argument("--bounce-every", type=float, default=180.0, help="seconds between broker restarts")
    ap.add_argument("--down-s", type=float, default=5.0, help="how long the broker stays down")
    ap.add_argument("--sample-every", type=float, default=30.0)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="parcel-edge-soak-"))
    (work / "broker").mkdir()
    broker = Broker(work / "broker", free_port())
    broker.start()
    receiver = Receiver(broker.port)
    cfg = unit_config(work, broker.port, args.rate)
    log = open(work / "unit.log", "w")
    unit = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(cfg)],
                            cwd=REPO, stderr=log)
    proc = psutil.Process(unit.pid)
    started = time.monotonic()
    end = started + args.minutes * 60
    next_bounce, next_sample, bounces = started + args.bounce_every, started, 0
    rows = []
    print(f"soak: {args.minutes} min at {args.rate}/s, broker bounced every {args.bounce_every:.0f} s; "
          f"work folder {work}", file=sys.stderr)
    while time.monotonic() < end and unit.poll() is None:
        now = time.monotonic()
        if now >= next_sample:
            next_sample += args.sample_every
            st = receiver.status
            rows.append((now - started, proc.memory_info().rss / 2**20, st.get("parcels"),
                         (st.get("outbox") or {}).get("depth"), len(receiver.seqs), bounces))
            print("t=%6.0f s  rss %6.1f MB  parcels %s  outbox %s  received %d  bounces %d" % rows[-1],
                  file=sys.stderr, flush=True)
        if now >= next_bounce:
            next_bounce += args.bounce_every
            broker.restart(down_s=args.down_s)
            bounces += 1
        time.sleep(0.5)
    crashed = unit.poll() is not None
    unit.send_signal(signal.SIGTERM)
    unit.wait(60)
    counters = (receiver.status.get("stats") or {}).get("counters", {})
    drained = drain(work / "data", broker.port)
    wait_until(lambda: committed(work / "data") <= receiver.seqs, 30)
    seen = committed(work / "data")
    lost = sorted(seen - receiver.seqs)
    receiver.close()
    broker.stop()
    print("\n| minute | RSS MB | parcels (unit) | outbox depth | records received | broker bounces |")
    print("|---|---|---|---|---|---|")
    for t, rss, parcels, depth, got, b in rows:
        print(f"| {t / 60:.1f} | {rss:.1f} | {parcels} | {depth} | {got} | {b} |")
    print(f"\nparcels committed: {len(seen)}; received: {len(receiver.seqs & seen)}; lost: {len(lost)}"
          f" {lost[:10]}; duplicates received (dropped by id): {receiver.duplicates}; "
          f"broker bounces: {bounces}; drained after stop: {drained}; unit exited early: {crashed}; "
          f"capture-queue drops (machine too slow for the rate): "
          f"{counters.get('dropped.capture_queue_full', 0)}; exit code {unit.returncode}")
    rss = [r[1] for r in rows[1:]] or [0.0]
    print(f"RSS after the first sample: min {min(rss):.1f} MB, max {max(rss):.1f} MB, "
          f"last {rss[-1]:.1f} MB")
    return 0 if not lost and not crashed else 1


if __name__ == "__main__":
    raise SystemExit(main())
