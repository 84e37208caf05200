"""``parcel-edge run --config FILE``: the appliance, as systemd starts it.

SIGTERM stops it cleanly (the queued parcels are finished, the outbox closed,
``offline`` published).  A ``reload-config`` command re-reads the unit's own
file (never a path from the network) and rebuilds the unit on it only once it
has validated; a bad file is answered with its errors and changes nothing.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("edge.run")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="the unit's YAML config")


class RunState:
    """What the signal handler and the reload command may change, and nothing more."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.terminating = False
        self.unit_stop = threading.Event()
        self.next_cfg: Any = None

    def terminate(self, *_: Any) -> None:
        self.terminating = True
        self.unit_stop.set()

    def reload(self, args: Any) -> dict[str, str]:
        from edge.config import ConfigError, load_config

        try:
            self.next_cfg = load_config(self.path)
        except ConfigError as exc:
            raise ValueError("; ".join(exc.lines)) from None
        self.unit_stop.set()
        return {"result": f"{self.path} is valid; the unit restarts on it"}


def main(args: argparse.Namespace) -> int:
    from edge.config import ConfigError, load_config

    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 2
    state = RunState(args.config)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, state.terminate)
    while True:
        code = _serve(cfg, state)
        if state.terminating or state.next_cfg is None or code != 0:
            return code
        cfg, state.next_cfg = state.next_cfg, None
        state.unit_stop = threading.Event()
        log.info("config reloaded from %s", state.path)


def _serve(cfg: Any, state: RunState) -> int:
    from edge.app import build_unit
    from edge.camera import CameraError
    from edge.health import Watchdog, sd_notify, watchdog_interval_s

    try:
        unit = build_unit(cfg, commands={"reload-config": state.reload})
    except (CameraError, OSError, ValueError) as exc:
        print(f"run: cannot start: {exc}", file=sys.stderr)
        return 1
    interval = watchdog_interval_s()
    watchdog = None
    if interval:
        watchdog = Watchdog(interval, lambda: unit.stats.count("frames")
                            + unit.stats.count("frame_timeouts"))
        watchdog.start()
    sd_notify("READY=1")
    log.info("unit %s running (camera %s, trigger %s)", cfg.unit.id, cfg.camera.type,
             cfg.trigger.type)
    try:
        return unit.run(state.unit_stop)
    finally:
        sd_notify("STOPPING=1")
        if watchdog:
            watchdog.stop()
