"""``parcel-edge run --config FILE``: the appliance, as systemd starts it.

Start-up: the config is validated (and the synthetic camera refused unless the
file says ``unit.demo: true``), the unit is built and started, the self-test
runs on it (:mod:`edge.selftest`) and only then is systemd told ``READY=1``;
``STATUS=`` stays current while it runs.  SIGTERM stops it cleanly (the queued
parcels are finished, the outbox closed, ``offline`` published).  SIGHUP
(``systemctl reload``) and the ``reload-config`` command re-read the unit's own
file (never a path from the network) and rebuild the unit on it only once it
has validated, telling systemd ``RELOADING=1`` meanwhile; a bad file is
answered with its errors and changes nothing.  ``--drain`` makes a run on a
finite source (replay without loop) wait until the outbox is delivered.
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("edge.run")
STATUS_EVERY_S = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="the unit's YAML config")
    parser.add_argument("--drain", nargs="?", type=float, const=300.0, default=None,
                        metavar="SECONDS", help="when the camera ends, wait (default up to "
                        "300 s) until the broker has acknowledged everything in the outbox")


class RunState:
    """What the signal handlers and the reload command may change, and nothing more."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.terminating = False
        self.unit_stop = threading.Event()
        self.next_cfg: Any = None
        self.last_error: dict[str, Any] | None = None
        self.stats: Any = None
        self.on_reload: Any = lambda: None  # RELOADING=1 as soon as a reload is accepted

    def terminate(self, *_: Any) -> None:
        self.terminating = True
        self.unit_stop.set()

    def reload(self, args: Any) -> dict[str, str]:
        from edge.config import ConfigError, load_config
        from edge.publish.commands import CommandError

        try:
            cfg = load_config(self.path)
            problems = _refusals(cfg)
        except ConfigError as exc:
            problems = exc.lines
        if problems:  # a refusal, answered in one line: not a failure with a traceback
            log.warning("reload refused, still running on the old config: %s", "; ".join(problems))
            raise CommandError("; ".join(problems))
        self.next_cfg = cfg
        self.on_reload()
        self.unit_stop.set()
        return {"result": f"{self.path} is valid; the unit restarts on it"}

    def hangup(self, *_: Any) -> None:
        try:
            self.reload({})
        except ValueError:
            pass  # reload() has logged why

    def record_error(self, info: dict[str, Any]) -> None:
        self.last_error = info
        if self.stats is not None:
            self.stats.gauge("last_error", info)


def _refusals(cfg: Any) -> list[str]:
    if cfg.camera.type == "synthetic" and not cfg.unit.demo:
        return ["camera.type: synthetic makes fake parcels; set unit.demo: true to run a "
                "demonstration unit"]
    return []


def main(args: argparse.Namespace) -> int:
    from edge.config import ConfigError, load_config
    from edge.health import Notifier
    from edge.logs import LastError

    state = RunState(args.config)
    for sig in (signal.SIGTERM, signal.SIGINT):  # first: a stop during start-up is still clean
        signal.signal(sig, state.terminate)
    signal.signal(signal.SIGHUP, state.hangup)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 2
    for line in _refusals(cfg):
        print(f"{args.config}: {line}", file=sys.stderr)
        return 2
    if state.terminating:
        return 0
    logging.getLogger().addHandler(LastError(state.record_error))
    notifier = Notifier()
    state.on_reload = notifier.reloading
    while True:
        code = _serve(cfg, state, notifier, args.drain)
        if state.terminating or state.next_cfg is None or code != 0:
            notifier.stopping()
            return code
        cfg, state.next_cfg = state.next_cfg, None
        state.unit_stop = threading.Event()
        log.info("config reloaded from %s", state.path)


def _serve(cfg: Any, state: RunState, notifier: Any, drain: float | None) -> int:
    from edge.app import build_unit
    from edge.camera import CameraError
    from edge.health import Watchdog

    try:
        unit = build_unit(cfg, commands={"reload-config": state.reload})
    except (CameraError, OSError, ValueError, RuntimeError) as exc:  # GPIO missing: one line
        print(f"run: cannot start: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    _describe(unit, cfg, state)
    outcome: dict[str, int] = {}
    runner = threading.Thread(target=lambda: outcome.update(code=unit.run(state.unit_stop, drain)),
                              name="unit", daemon=True)
    runner.start()
    interval = notifier.watchdog_interval_s()
    watchdog = None
    if interval:
        watchdog = Watchdog(interval, lambda: unit.stats.count("frames")
                            + unit.stats.count("camera_restarts"), notify=lambda m: notifier.watchdog())
        watchdog.start()
    try:
        _selftest(cfg, unit, notifier)
        _wait(runner, unit, notifier)
    finally:
        if watchdog:
            watchdog.stop()
    return outcome.get("code", 1)


def _describe(unit: Any, cfg: Any, state: RunState) -> None:
    from edge import __version__

    state.stats = unit.stats
    digest = hashlib.sha256(state.path.read_bytes()).hexdigest() if state.path.exists() else None
    unit.stats.gauge("software", {"name": "parcel-edge", "version": __version__,
                                  "python": sys.version.split()[0]})
    unit.stats.gauge("config", {"path": str(state.path), "sha256": digest})
    if state.last_error is not None:
        unit.stats.gauge("last_error", state.last_error)


def _selftest(cfg: Any, unit: Any, notifier: Any) -> None:
    from edge.selftest import run_selftest

    notifier.status("self-test")
    result = run_selftest(cfg, unit)
    unit.stats.gauge("selftest", result.as_dict())
    notifier.ready(result.summary())
    log.info("unit %s running (camera %s, trigger %s)", cfg.unit.id, cfg.camera.type,
             cfg.trigger.type)


def _wait(runner: threading.Thread, unit: Any, notifier: Any) -> None:
    """Join the unit's thread in short steps (signals are handled meanwhile), STATUS current."""
    next_status = time.monotonic() + STATUS_EVERY_S
    while runner.is_alive():
        runner.join(0.5)
        if time.monotonic() >= next_status and runner.is_alive():
            next_status += STATUS_EVERY_S
            try:
                notifier.status(_status_line(unit))
            except Exception as exc:  # closing between the check and the query
                log.debug("status line skipped: %s", exc)


def _status_line(unit: Any) -> str:
    depth = unit.outbox.stats()["depth"] if unit.outbox is not None else 0
    connected = unit.publisher.link.connected if unit.publisher is not None else None
    broker = "" if connected is None else (", broker up" if connected else ", broker DOWN")
    return (f"{unit.stats.count('parcels')} parcels, {unit.stats.count('frames')} frames, "
            f"outbox {depth}{broker}")
