"""Is the system clock synchronised?  Asked of the kernel, the way timedatectl asks.

A Raspberry Pi has no battery-backed clock: until NTP (systemd-timesyncd,
chrony) has set it, ``time_utc`` on a record is last shutdown's time or 1970.
The kernel knows: ``adjtimex(2)`` with no modes returns ``TIME_ERROR`` while
the clock is unsynchronised (``STA_UNSYNC``), which is what every NTP daemon
clears once it has disciplined the clock.  Records and the status carry the
answer so a receiver can tell a real time from a guess.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time

TIME_ERROR = 5
STA_UNSYNC = 0x0040
_TIMEX_BYTES = 512  # struct timex is 208 bytes on 64-bit Linux; room to spare
_CACHE_S = 5.0

_lock = threading.Lock()
_cached: tuple[float, bool | None] = (-1e9, None)


def _adjtimex() -> tuple[int, int] | None:
    """(return state, status flags) of adjtimex(2) with modes=0, or None where unavailable."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        buf = ctypes.create_string_buffer(_TIMEX_BYTES)  # modes = 0: read only
        state = libc.adjtimex(buf)
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    # struct timex: unsigned int modes; (pad); long offset, freq, maxerror, esterror; int status
    status = int.from_bytes(buf.raw[40:44], "little", signed=True)
    return state, status


def clock_synced(now: float | None = None) -> bool | None:
    """True once NTP has set the clock, False before, None where the kernel cannot say.

    Cached for a few seconds: records ask once per parcel.
    """
    global _cached
    now = time.monotonic() if now is None else now
    with _lock:
        if now - _cached[0] < _CACHE_S:
            return _cached[1]
        got = _adjtimex()
        value = None if got is None else not (got[0] == TIME_ERROR or got[1] & STA_UNSYNC)
        _cached = (now, value)
        return value
