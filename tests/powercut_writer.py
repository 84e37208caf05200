"""A unit's outbox as a real process on the power-cut file system (tests/cutfs.py).

Usage: powercut_writer.py DATA_DIR PORT      (a fork server, driven on stdin)

Imports once, then for each ``run SEED`` line on stdin forks a child: the
child opens the outbox (recovering what the last cut left), starts the
publisher against the broker on PORT and commits parcels as fast as the disk
allows, printing ``committed <id> <seq>`` once each commit has returned: from
then on the parcel counts as seen and must survive any cut.  The child runs
until it is killed (SIGKILL, by the test); the server prints ``pid N`` after
the fork and ``reaped N`` once the child is dead, so the test cuts the power
only after the last write of the dead process.  Forking keeps each start-up
at milliseconds, so a run can afford hundreds of cuts.
"""
from __future__ import annotations

import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from delivery_helpers import make_package  # noqa: E402
from edge.outbox import Outbox  # noqa: E402
from edge.outbox.config import OutboxConfig  # noqa: E402
from edge.publish import Publisher  # noqa: E402
from edge.publish.config import MqttConfig, StatusConfig  # noqa: E402


def child(data_dir: Path, port: int, seed: int) -> None:
    rng = random.Random(seed)
    box = Outbox(OutboxConfig(), data_dir / "outbox")
    print(f"opened depth={box.stats()['depth']}", flush=True)
    publisher = Publisher(MqttConfig(host="127.0.0.1", port=port, backoff_min_s=0.1,
                                     backoff_max_s=0.5), box, unit="unit-01",
                          status_cfg=StatusConfig(interval_s=60))
    publisher.start()
    while True:
        seq = box.next_seq()
        outcome = "flag" if rng.random() < 0.2 else "clear"
        pkg = make_package(seq, outcome=outcome,
                           views={"parcel": rng.randint(20_000, 90_000), "label": 6_000})
        box.commit(pkg)
        print(f"committed {pkg.record.id} {seq}", flush=True)


def main() -> int:
    data_dir, port = Path(sys.argv[1]), int(sys.argv[2])
    for line in sys.stdin:
        words = line.split()
        if words[:1] != ["run"]:
            continue
        pid = os.fork()
        if pid == 0:
            try:
                child(data_dir, port, int(words[1]))
            except BaseException as exc:  # noqa: BLE001 - reported, then the child ends
                print(f"error {exc.__class__.__name__}: {exc}", flush=True)
            os._exit(1)
        print(f"pid {pid}", flush=True)
        os.waitpid(pid, 0)
        print(f"reaped {pid}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
