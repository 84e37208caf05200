"""systemd integration: READY/STOPPING notifications and a watchdog fed only by progress.

The watchdog is pinged only while the capture loop is visibly alive (frames or
frame time-outs keep counting), so a hung camera driver gets the unit
restarted by systemd instead of silently sitting there for months.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Callable

log = logging.getLogger(__name__)


def sd_notify(message: str, env: dict[str, str] | None = None) -> bool:
    """Send one notification to systemd; False (and no error) when not run by systemd."""
    address = (env if env is not None else os.environ).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode("ascii"))
        return True
    except OSError as exc:
        log.warning("sd_notify failed: %s", exc)
        return False


def watchdog_interval_s(env: dict[str, str] | None = None) -> float | None:
    """Half of systemd's WatchdogSec, the ping period systemd's docs recommend."""
    usec = (env if env is not None else os.environ).get("WATCHDOG_USEC", "")
    return int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else None


class Watchdog(threading.Thread):
    """Pings ``WATCHDOG=1`` while ``progress()`` keeps changing between pings."""

    def __init__(self, interval_s: float, progress: Callable[[], int],
                 notify: Callable[[str], bool] = sd_notify) -> None:
        super().__init__(name="watchdog", daemon=True)
        self.interval_s, self.progress, self.notify = interval_s, progress, notify
        self._halt = threading.Event()
        self.stalled = 0

    def run(self) -> None:
        last = self.progress()
        while not self._halt.wait(self.interval_s):
            now = self.progress()
            if now != last:
                self.notify("WATCHDOG=1")
            else:
                self.stalled += 1
                log.warning("no capture progress for %.1f s: not feeding the watchdog",
                            self.interval_s)
            last = now

    def stop(self) -> None:
        self._halt.set()
