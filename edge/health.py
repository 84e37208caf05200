"""systemd integration, exactly to the sd_notify(3) protocol, and a watchdog fed only by progress.

No maintained pure-Python library covers what the unit needs (the ``sdnotify``
package is unmaintained since 2017 and knows neither ``WATCHDOG_PID`` nor
reloads; systemd-python needs libsystemd headers on the Pi), and the protocol
is one datagram: so it is written here, to the letter of sd_notify(3):

* ``NOTIFY_SOCKET`` is a path, or an abstract address when it starts with ``@``;
* ``WATCHDOG_USEC`` applies to us only if ``WATCHDOG_PID`` is unset or is our pid;
* a reload is ``RELOADING=1`` with ``MONOTONIC_USEC=`` (CLOCK_MONOTONIC), then
  ``READY=1`` when done; ``STOPPING=1`` is only for a real stop (after it
  systemd waits for the process to exit, and kills it at ``TimeoutStopSec``);
* ``STATUS=`` is one line shown by ``systemctl status``.

The watchdog is pinged only while the capture loop is visibly alive (frames
keep coming), so a hung camera driver gets the unit restarted by systemd
instead of silently sitting there for months.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Callable, Mapping

log = logging.getLogger(__name__)


def sd_notify(message: str, env: Mapping[str, str] | None = None) -> bool:
    """Send one notification to systemd; False (and no error) when not run by systemd."""
    address = (env if env is not None else os.environ).get("NOTIFY_SOCKET", "")
    if not address or address[0] not in "/@":
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message.encode("utf-8"), address)
        return True
    except OSError as exc:
        log.warning("sd_notify failed: %s", exc)
        return False


def watchdog_interval_s(env: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """Half of systemd's WatchdogSec (the ping period sd_watchdog_enabled(3) recommends),
    or None when there is no watchdog or it is meant for another process."""
    env = env if env is not None else os.environ
    usec = env.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    owner = env.get("WATCHDOG_PID", "")
    if owner and (not owner.isdigit() or int(owner) != (pid if pid is not None else os.getpid())):
        return None
    return int(usec) / 2e6


def one_line(text: str, limit: int = 200) -> str:
    """STATUS= must be one line; the rest of the datagram would be read as more fields."""
    return " ".join(str(text).split())[:limit]


class Notifier:
    """The unit's side of the protocol; every call is a no-op outside systemd."""

    def __init__(self, env: Mapping[str, str] | None = None,
                 send: Callable[[str, Mapping[str, str] | None], bool] = sd_notify) -> None:
        self._env = env
        self._send = send

    def status(self, text: str) -> bool:
        return self._send(f"STATUS={one_line(text)}", self._env)

    def ready(self, text: str) -> bool:
        return self._send(f"READY=1\nSTATUS={one_line(text)}", self._env)

    def reloading(self) -> bool:
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self._send(f"RELOADING=1\nMONOTONIC_USEC={usec}\nSTATUS=reloading the config",
                          self._env)

    def stopping(self) -> bool:
        return self._send("STOPPING=1\nSTATUS=stopping", self._env)

    def watchdog(self) -> bool:
        return self._send("WATCHDOG=1", self._env)

    def watchdog_interval_s(self) -> float | None:
        return watchdog_interval_s(self._env)


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
