"""``parcel-edge run --config FILE``: the appliance, as systemd starts it.

SIGTERM stops it cleanly (the queued parcels are finished, the outbox closed,
``offline`` published); a ``reload-config`` command rebuilds the unit on the
new file only once that file has validated.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

log = logging.getLogger("edge.run")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="the unit's YAML config")


def main(args: argparse.Namespace) -> int:
    from edge.config import ConfigError, load_config

    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return _serve(cfg, stop)


def _serve(cfg, stop: threading.Event) -> int:
    from edge.app import build_unit
    from edge.camera import CameraError
    from edge.health import Watchdog, sd_notify, watchdog_interval_s

    try:
        unit = build_unit(cfg)
    except (CameraError, OSError, ValueError) as exc:
        print(f"run: cannot start: {exc}", file=sys.stderr)
        return 1
    interval = watchdog_interval_s()
    watchdog = None
    if interval:
        progress = lambda: unit.stats.count("frames") + unit.stats.count("frame_timeouts")  # noqa: E731
        watchdog = Watchdog(interval, progress)
        watchdog.start()
    sd_notify("READY=1")
    log.info("unit %s running (camera %s, trigger %s)", cfg.unit.id, cfg.camera.type,
             cfg.trigger.type)
    try:
        return unit.run(stop)
    finally:
        sd_notify("STOPPING=1")
        if watchdog:
            watchdog.stop()
