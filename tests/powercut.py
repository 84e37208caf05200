"""The power-cut rig shared by the test and bench/powercut.py.

A CutFS (tests/cutfs.py) is mounted; the unit's outbox runs in a real process
on it (tests/powercut_writer.py) publishing to a real broker; at a random instant
the process is killed with SIGKILL and the file system cut, so only what was
fsync'd survives.  After each cut the outbox is reopened on what survived (what
a restarted unit does) and checked: SQLite's integrity check passes, every
parcel the process had reported committed is there, and every pending item's
bytes match their SHA-256, so nothing half-written can be published.  A
receiver checks every image and record that reached the broker the same way.
"""
from __future__ import annotations

import hashlib
import json
import os
import queue
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


@dataclass
class Tally:
    cuts: int = 0
    survived: int = 0
    seen: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    published_images: int = 0
    published_records: int = 0
    bad_published: list[str] = field(default_factory=list)


class Mount:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, os.environ.get("CUTFS", str(HERE / "cutfs.py")), str(path)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while not os.path.ismount(path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cutfs did not mount: {self.proc.stderr.read().decode()[-500:]}")
            time.sleep(0.05)

    def cut(self, tids: list[int]) -> None:
        with open(self.path / ".cut", "w") as f:
            f.write(" ".join(["cut", *map(str, tids)]))

    def stats(self) -> dict:
        return json.loads((self.path / ".stats").read_text())

    def close(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Receiver:
    """Checks every message that reached the broker: images by SHA-256, records as JSON."""

    def __init__(self, port: int, tally: Tally) -> None:
        self.tally = tally
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self.client.on_message = self._message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("parcel-edge/unit-01/#", qos=1)
        self.client.loop_start()

    def _message(self, client, userdata, msg) -> None:
        user = dict(getattr(msg.properties, "UserProperty", []) or [])
        if "/images/" in msg.topic:
            self.tally.published_images += 1
            if hashlib.sha256(msg.payload).hexdigest() != user.get("sha256"):
                self.tally.bad_published.append(f"image {msg.topic} does not match its SHA-256")
        elif msg.topic.endswith("/parcels"):
            self.tally.published_records += 1
            try:
                json.loads(msg.payload)["id"]
            except (ValueError, KeyError) as exc:
                self.tally.bad_published.append(f"record {msg.payload[:40]!r}: {exc}")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Writer:
    """The fork server (tests/powercut_writer.py) and the lines its children print."""

    def __init__(self, mount: Mount, port: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen([sys.executable, str(HERE / "powercut_writer.py"),
                                      str(mount.path / "data"), str(port)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                     cwd=REPO, text=True, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put("eof")

    def next(self, timeout: float = 60.0) -> str:
        return self.lines.get(timeout=timeout)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(30)


def run_once(writer: Writer, seed: int, seconds: float, tally: Tally) -> list[int]:
    """One life of the unit, killed with SIGKILL after ``seconds`` (counted from its start-up,
    or for one run in eight from the fork, to cut during recovery); returns its thread ids."""
    writer.proc.stdin.write(f"run {seed}\n")
    writer.proc.stdin.flush()
    line = writer.next()
    if not line.startswith("pid "):
        raise RuntimeError(f"writer server said {line!r}")
    pid = int(line.split()[1])
    deadline = None if seed % 8 == 0 else time.monotonic() + 60
    while deadline is not None:
        try:
            line = writer.next(max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        _note(line, tally)
        if "opened" in line or "error " in line:
            break
    time.sleep(seconds)
    os.kill(pid, signal.SIGSTOP)  # frozen, so its thread list is complete
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except FileNotFoundError:
        tids = [pid]
    os.kill(pid, signal.SIGKILL)  # the instant of the cut
    while True:
        line = writer.next()
        _note(line, tally)
        if "reaped" in line:
            break
    return tids


COMMITTED = re.compile(r"committed ([0-9a-f]{32}) (\d+)")


def _note(line: str, tally: Tally) -> None:
    """Lines may run together when the kernel delivers two writes at once: find each one."""
    for rid, seq in COMMITTED.findall(line):
        tally.seen[rid] = int(seq)
    if "error " in line:
        tally.failures.append(f"writer failed before the cut: {line}")


def check(mount: Mount, tally: Tally) -> list[str]:
    """What a restarted unit finds: intact SQLite, every seen parcel, no torn item."""
    from edge.outbox import Outbox
    from edge.outbox.config import OutboxConfig

    root = mount.path / "data" / "outbox"
    db_path = root / "outbox.db"
    if not tally.seen:
        return []
    if not db_path.exists():
        return [f"outbox.db is gone after {len(tally.seen)} parcels were committed"]
    problems = []
    # Closed before the next run: a connection left open across a cut would be a process that
    # survived the power cut, and its mapping of the -shm file would outlive the file's contents.
    db = sqlite3.connect(db_path)
    try:
        result = db.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            problems.append(f"integrity_check: {result[:3]}")
    except sqlite3.DatabaseError as exc:
        problems.append(f"integrity_check failed: {exc}")
    finally:
        db.close()
    box = Outbox(OutboxConfig(), root)
    try:
        with box._lock:
            have = {r[0] for r in box._db.execute("SELECT id FROM items WHERE kind='record'")}
        missing = sorted(set(tally.seen) - have, key=tally.seen.get)
        if missing:
            problems.append(f"{len(missing)} committed parcels missing, e.g. seq "
                            f"{[tally.seen[m] for m in missing[:5]]}")
        for item in box.pending(100_000):
            data = item.read()
            if item.kind == "image" and hashlib.sha256(data).hexdigest() != item.sha256:
                problems.append(f"torn image {item.id}")
            elif item.kind != "image":
                json.loads(data)
    except Exception as exc:  # anything unreadable is a finding
        problems.append(f"reopening the outbox failed: {exc.__class__.__name__}: {exc}")
    finally:
        box.close()
    return problems


def run_cuts(work: Path, port: int, cuts: int, seed: int = 1, max_s: float = 2.0,
             log=None) -> Tally:
    rng = random.Random(seed)
    tally = Tally()
    mount = Mount(work / "mnt")
    receiver = Receiver(port, tally)
    writer = Writer(mount, port)
    try:
        for n in range(cuts):
            tids = run_once(writer, rng.randrange(1 << 30), rng.uniform(0.02, max_s), tally)
            mount.cut(tids)
            tally.cuts += 1
            problems = check(mount, tally)
            tally.failures += [f"cut {n + 1}: {p}" for p in problems]
            tally.survived += not problems
            if log:
                log(f"cut {n + 1}/{cuts}: {len(tally.seen)} parcels seen so far, "
                    f"{'ok' if not problems else problems}")
        tally_fs = mount.stats()
        if log:
            log(f"file system: {tally_fs}")
    finally:
        writer.close()
        receiver.close()
        mount.close()
    return tally
