"""The retained ``status`` message: what a maintainer checks first about a unit.

Counters come from the path's stats (any callable returning a mapping, so the
publisher does not depend on how the lead's ``Stats`` is built); the delivery
side adds its own: outbox depth and oldest age, disk, connection, errors.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from edge.clock import clock_synced
from edge.records import STATUS_SCHEMA

log = logging.getLogger(__name__)

THERMAL = Path("/sys/class/thermal")
# Headline figures lifted from the path's stats to the top of the payload.
PATH_KEYS = ("fps", "parcels", "read", "read_rate", "flagged", "model")
# What a maintainer asks first, lifted from the path's gauges: which software on which config,
# which camera at what exposure, how the self-test went, and the last thing that went wrong.
GAUGE_KEYS = ("software", "config", "camera", "selftest", "last_error")


def cpu_temperature_c(root: Path = THERMAL) -> float | None:
    """The CPU zone's temperature (a Pi has one zone), or None where there is none."""
    zones = sorted(root.glob("thermal_zone*"))
    preferred = [z for z in zones if _read(z / "type") in ("cpu-thermal", "x86_pkg_temp")]
    for zone in preferred + zones:
        raw = _read(zone / "temp")
        try:
            return round(int(raw) / 1000.0, 1)
        except (TypeError, ValueError):
            continue
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def disk_usage(path: Path) -> dict[str, int]:
    st = os.statvfs(path)
    return {"total_bytes": st.f_blocks * st.f_frsize, "free_bytes": st.f_bavail * st.f_frsize}


def _merge_errors(*sources: Mapping[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for source in sources:
        for key, value in source.items():
            if isinstance(value, (int, float)):
                out[str(key)] = out.get(str(key), 0) + int(value)
    return out


class StatusReporter:
    """Builds status payloads; ``due`` says when the next one should go."""

    def __init__(self, unit: str, interval_s: float, data_dir: Path,
                 stats: Callable[[], Mapping[str, Any]],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._unit = unit
        self._interval = interval_s
        self._data_dir = data_dir
        self._stats = stats
        self._clock = clock
        self._started = clock()
        self._next = self._started

    def due(self) -> bool:
        return self._clock() >= self._next

    def payload(self, outbox: Mapping[str, Any], delivery: Mapping[str, Any],
                errors: Mapping[str, int]) -> dict[str, Any]:
        """One status message; a failing stats callable is itself reported, not fatal."""
        self._next = self._clock() + self._interval
        try:
            stats = dict(self._stats())
        except Exception as exc:  # the status must go out even when stats break
            log.exception("stats snapshot failed")
            stats = {"errors": {f"stats:{exc.__class__.__name__}": 1}}
        path_errors = stats.get("errors") if isinstance(stats.get("errors"), Mapping) else {}
        body: dict[str, Any] = {
            "schema": STATUS_SCHEMA,
            "unit": self._unit,
            "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "uptime_s": round(self._clock() - self._started, 1),
            "outbox": dict(outbox),
            "disk": disk_usage(self._data_dir),
            "cpu_temp_c": cpu_temperature_c(),
            "delivery": dict(delivery),
            "errors": _merge_errors(path_errors or {}, errors),
            "stats": stats,
        }
        for key in PATH_KEYS:
            body[key] = stats.get(key)
        gauges = stats.get("gauges") if isinstance(stats.get("gauges"), Mapping) else {}
        for key in GAUGE_KEYS:
            body[key] = gauges.get(key)
        body["clock_synced"] = clock_synced()
        return body
