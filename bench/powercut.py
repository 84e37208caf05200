"""Hundreds of power cuts: the outbox on a file system that throws unsynced writes away.

    python -m bench.powercut --cuts 300

The rig is the test's (tests/powercut.py, tests/cutfs.py): a FUSE file system
keeping unsynced data in memory, the outbox in a real process publishing to a
real mosquitto, SIGKILL and a cut at a random instant, then the checks a
restarted unit depends on.  Needs root and /dev/fuse (fusepy, libfuse2).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import Broker, free_port  # noqa: E402
from powercut import run_cuts  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cuts", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-s", type=float, default=1.5, help="longest run between cuts")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="parcel-edge-powercut-"))
    (work / "broker").mkdir()
    broker = Broker(work / "broker", free_port())
    broker.start()
    started = time.monotonic()
    every = max(1, args.cuts // 20)
    try:
        tally = run_cuts(work, broker.port, args.cuts, seed=args.seed, max_s=args.max_s,
                         log=lambda line: (line.startswith("file system")
                                           or int(line.split()[1].split("/")[0]) % every == 0)
                         and print(line, file=sys.stderr, flush=True))
    finally:
        broker.stop()
    print(f"cuts survived: {tally.survived} of {tally.cuts}; parcels committed and checked: "
          f"{len(tally.seen)}; failures: {len(tally.failures)} {tally.failures[:3]}; "
          f"published images {tally.published_images}, records {tally.published_records}, "
          f"torn or unparsable on the wire: {len(tally.bad_published)}; "
          f"{time.monotonic() - started:.0f} s")
    return 0 if tally.survived == tally.cuts and not tally.bad_published else 1


if __name__ == "__main__":
    raise SystemExit(main())
