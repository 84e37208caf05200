"""Parcel packages for the delivery tests, the SIGKILL worker and the delivery benchmark.

Image bytes are random (incompressible like JPEG); only their SHA-256 matters
to the outbox, the publisher and the receivers.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import time
import uuid
from typing import Mapping

from edge.records import ImageRef, Package, PackageFile, ParcelRecord, Reference, Verdict

DEFAULT_VIEWS = {"parcel": 20_000, "thumb": 2_000}


def record_id() -> str:
    return uuid.uuid4().hex


def make_package(seq: int, unit: str = "unit-01", outcome: str = "clear",
                 views: Mapping[str, int] | None = None, rid: str | None = None) -> Package:
    files = []
    refs = []
    for view, size in (DEFAULT_VIEWS if views is None else views).items():
        data = os.urandom(size)
        digest = hashlib.sha256(data).hexdigest()
        files.append(PackageFile(f"{view}.jpg", view, data, digest, "image/jpeg"))
        refs.append(ImageRef(view, f"{view}.jpg", digest, size, 640, 480))
    reasons = ("logo of a protected brand on a poly mailer",) if outcome == "flag" else ()
    record = ParcelRecord(
        id=rid or record_id(), unit=unit, seq=seq,
        time_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        reference=Reference("upu_s10", f"RR{seq % 100000000:08d}9DE", True),
        symbols=(), verdict=Verdict(outcome, reasons), classification=None, quality=(),
        images=tuple(refs), timings_ms={"t_capture": time.time()})
    return Package(record, tuple(files))


def wait_until(condition, timeout: float, step: float = 0.05) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


def broker_args(port: int, client_id: str) -> argparse.Namespace:
    """Arguments for :func:`edge.receive.subscriber.subscriber` against a local test broker."""
    return argparse.Namespace(host="127.0.0.1", port=port, client_id=client_id, username=None,
                              password_file=None, ca_file=None, cert_file=None, key_file=None)
