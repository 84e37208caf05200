"""Logging: journald-native priorities under systemd, plain lines everywhere else.

systemd connects the service's stderr to the journal and says so in
``JOURNAL_STREAM`` (``device:inode`` of that stream).  Lines that start with
``<N>`` (sd-daemon(3)) are stored at syslog priority N, so ``journalctl -p err``
shows the unit's errors; the journal adds time and unit, so they are left out.
Run by hand, the same records are plain timestamped lines.  A handler keeps the
text of the last warning or error for the status topic.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any, Callable, TextIO

PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6,
            logging.DEBUG: 7}
PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def journal_stream(stream: TextIO, env: dict[str, str] | None = None) -> bool:
    """True when ``stream`` is the journal's own stream (not merely a child of a service)."""
    value = (env if env is not None else os.environ).get("JOURNAL_STREAM", "")
    try:
        dev, ino = (int(x) for x in value.split(":"))
        st = os.fstat(stream.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


def priority(levelno: int) -> int:
    """Syslog priority of a logging level (levels between the named ones round down)."""
    for level in sorted(PRIORITY, reverse=True):
        if levelno >= level:
            return PRIORITY[level]
    return 7


class JournalFormatter(logging.Formatter):
    """``<N>name: message``, each line of a traceback prefixed, so none falls to ``info``."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in text.splitlines() or [""])


def setup_logging(verbose: bool = False, stream: TextIO | None = None) -> logging.Handler:
    """Configure the root logger once; returns the handler it installed."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    if journal_stream(stream):
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter(PLAIN))
    root = logging.getLogger()
    if root.handlers:  # configured already (an embedding program, pytest): like basicConfig
        return root.handlers[0]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    return handler


class LastError(logging.Handler):
    """Remembers the last warning or error, for ``status`` (``last_error``)."""

    def __init__(self, publish: Callable[[dict[str, Any]], None],
                 level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._publish = publish

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a bad format string must not break logging
            text = str(record.msg)
        self._publish({"time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
                       "level": record.levelname.lower(), "logger": record.name,
                       "text": " ".join(text.split())[:300]})
