"""A publishing unit as a real process, for the SIGKILL test and nothing else.

Usage: outbox_worker.py DATA_DIR PORT COUNT
Commits packages until the unit's sequence passes COUNT, printing
``committed <id> <seq>`` once each commit has returned (the parcel counts as
processed), then waits until the outbox is empty and exits 0.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from delivery_helpers import make_package, wait_until  # noqa: E402
from edge.outbox import Outbox  # noqa: E402
from edge.outbox.config import OutboxConfig  # noqa: E402
from edge.publish import Publisher  # noqa: E402
from edge.publish.config import MqttConfig, StatusConfig  # noqa: E402


def main() -> int:
    data_dir, port, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    box = Outbox(OutboxConfig(), data_dir)
    cfg = MqttConfig(host="127.0.0.1", port=port, backoff_min_s=0.1, backoff_max_s=0.5)
    publisher = Publisher(cfg, box, unit="unit-01", status_cfg=StatusConfig(interval_s=5))
    publisher.start()
    while (seq := box.next_seq()) <= count:
        pkg = make_package(seq, outcome="flag" if seq % 5 == 0 else "clear",
                           views={"parcel": 30_000, "thumb": 2_000})
        box.commit(pkg)
        print(f"committed {pkg.record.id} {seq}", flush=True)
        time.sleep(0.03)
    ok = wait_until(lambda: box.stats()["depth"] == 0, 30)
    publisher.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
