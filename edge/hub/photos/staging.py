"""Accepted photos of an unfiled set, on disk until the officer files them.

One folder per officer and reference number, so two officers photographing
the same parcel do not mix their sets and a phone that drops off the network
finds its set again.  Only photos that passed are written (the upload's bytes
as sent, named by view key); everything written goes through tmp-fsync-rename.
Folder names come from validated parts only.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.durable import write_atomic
from edge.package.naming import EXAM_VIEW

_REFERENCE = re.compile(r"^[A-Z0-9]{6,40}$")


@dataclass(frozen=True)
class Staged:
    """One accepted photo: its view key, the upload's file and its JSON report."""

    key: str
    path: Path
    report: dict[str, Any]


class Staging:
    """The unfiled sets under ``root``."""

    def __init__(self, root: Path, keep_s: float) -> None:
        self.root = root
        self.keep_s = keep_s

    def folder(self, officer: str, reference: str) -> Path:
        """``sets/<officer's hash>/<reference>``: a user name may hold any character."""
        if not _REFERENCE.match(reference):
            raise ValueError("not a validated reference number")
        who = hashlib.sha256(officer.encode("utf-8")).hexdigest()[:24]
        return self.root / "sets" / who / reference

    def put(self, officer: str, reference: str, key: str, data: bytes, report: dict[str, Any]) -> None:
        if not EXAM_VIEW.match(key) or key.endswith("-redacted"):
            raise ValueError(f"bad view key {key[:40]!r}")
        folder = self.folder(officer, reference)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / f"{key}.photo", data)
        write_atomic(folder / f"{key}.json", json.dumps(report, sort_keys=True).encode())

    def shots(self, officer: str, reference: str) -> list[Staged]:
        folder = self.folder(officer, reference)
        if not folder.is_dir():
            return []
        out = []
        for meta in sorted(folder.glob("*.json")):
            photo = meta.with_suffix(".photo")
            if photo.exists() and EXAM_VIEW.match(meta.stem):
                out.append(Staged(meta.stem, photo, json.loads(meta.read_text())))
        return out

    def drop(self, officer: str, reference: str, key: str | None = None) -> None:
        folder = self.folder(officer, reference)
        if key is None:
            shutil.rmtree(folder, ignore_errors=True)
            return
        for suffix in (".photo", ".json"):
            (folder / f"{key}{suffix}").unlink(missing_ok=True)

    def sweep(self, now: float | None = None) -> int:
        """Drop sets nobody touched for ``keep_s``; returns how many."""
        now = time.time() if now is None else now
        dropped = 0
        for folder in (self.root / "sets").glob("*/*"):
            newest = max((p.stat().st_mtime for p in folder.iterdir()), default=0.0)
            if now - newest > self.keep_s:
                shutil.rmtree(folder, ignore_errors=True)
                dropped += 1
        return dropped
