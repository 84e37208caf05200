"""Standard file names, built only from parts that were validated here.

The reference number comes from a barcode, i.e. from whoever printed the
label, so it is re-checked against a strict whitelist even though the decode
stage validated it: a name is the one place where a stray ``/`` or ``..``
would escape the package folder.  Anything that fails becomes ``NOREAD``.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from edge.configbase import safe_id
from edge.records import Reference, RefKind, utc_text

NOREAD = "NOREAD"
VIEWS = ("parcel", "label", "parcel-redacted", "label-redacted", "record")
EXTENSIONS = {"jpeg": "jpg", "json": "json"}
_REFERENCE = re.compile(r"^[A-Z0-9]{6,40}$")
_KINDS = frozenset(k.value for k in RefKind)
# Exam-table views (the profile's ``exam_views``): ``<view>[-<n>][-redacted]``, e.g. ``mark-2``.
EXAM_VIEW = re.compile(r"^[a-z][a-z0-9_]{0,11}(-[1-9])?(-redacted)?$")
NAME = re.compile(r"^[A-Z0-9]{6,40}_[A-Za-z0-9][A-Za-z0-9_-]{0,31}_\d{8}T\d{6}Z_\d{8,}_"
                  r"(parcel|label|parcel-redacted|label-redacted|record|"
                  r"[a-z][a-z0-9_]{0,11}(-[1-9])?(-redacted)?)\.(jpg|json)$")


class NamingError(ValueError):
    """A part of a file name that failed validation (never reaches the file system)."""


def reference_part(reference: Reference | None) -> str:
    """The reference value if it is valid, of a known kind and plain ``A-Z0-9``; else NOREAD."""
    if reference is None or not reference.valid or reference.kind not in _KINDS:
        return NOREAD
    value = str(reference.value)
    return value if _REFERENCE.match(value) else NOREAD


def _utc(time_utc: str) -> datetime:
    try:
        when = datetime.fromisoformat(time_utc)
    except (TypeError, ValueError):
        raise NamingError(f"time {time_utc!r} is not ISO 8601") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def time_part(time_utc: str) -> str:
    """ISO 8601 time as compact UTC (``20261123T020500Z``); naive times are taken as UTC."""
    return _utc(time_utc).strftime("%Y%m%dT%H%M%SZ")


def iso_utc(time_utc: str) -> str:
    """The same instant re-written from parsed parts (``2026-11-23T02:05:00.123Z``)."""
    return utc_text(_utc(time_utc))


def file_name(reference: Reference | None, unit: str, time_utc: str, seq: int, view: str,
              kind: str = "jpeg") -> str:
    """``<reference|NOREAD>_<unit>_<UTC time>_<seq>_<view>.<ext>``, every part checked."""
    try:
        unit = safe_id(unit)
    except ValueError:
        raise NamingError(f"unit id {unit!r} is not a safe identifier") from None
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise NamingError(f"sequence {seq!r} is not a non-negative integer")
    if view not in VIEWS and not EXAM_VIEW.match(view):
        raise NamingError(f"view {view!r} is not one of {', '.join(VIEWS)} or an exam view")
    if kind not in EXTENSIONS:
        raise NamingError(f"file kind {kind!r} is not one of {', '.join(EXTENSIONS)}")
    name = (f"{reference_part(reference)}_{unit}_{time_part(time_utc)}_{seq:08d}_{view}"
            f".{EXTENSIONS[kind]}")
    return check_name(name)


def check_name(name: str) -> str:
    """``name`` itself if it has the standard shape; used again right before writing."""
    if not NAME.match(name):
        raise NamingError(f"file name {name!r} does not follow the standard")
    return name
