"""Installed versions and the one pointer that says which runs: atomic across a power cut.

Layout under the store folder::

    pointer.json          current, previous, highest ever installed, rejected versions
    versions/<v>/         model/, catalogue/, files.json (size + SHA-256 of every file),
                          bundle.json and signatures.json as received
    staging/<v>/          downloads in progress (resumable)

A version folder is complete and fsync'd before its rename makes it visible;
the pointer is replaced by one rename of an fsync'd file.  So whatever instant
the power goes, ``pointer.json`` names exactly one complete version, and the
highest version ever installed moves in the same rename as ``current``, so a
rollback or a restart can never reopen the door to a replayed old bundle.
"""
from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from edge.durable import fsync_dir
from edge.update.bundle import sha256_of, version_key

log = logging.getLogger(__name__)

STORE_SCHEMA = "parcel-edge/model-store/1"
POINTER = "pointer.json"
FILES = "files.json"
SEED_VERSION = "0"
MAX_REJECTED = 32
Step = Callable[[str], None]


class StoreError(RuntimeError):
    """The store cannot be used (locked by another process, nothing valid to run)."""


@dataclass(frozen=True)
class Pointer:
    current: str
    previous: str | None = None
    highest: str = SEED_VERSION
    probation: bool = False
    rejected: Mapping[str, str] = field(default_factory=dict)


def _nothing(step: str) -> None:
    return None


def fsync_tree(root: Path) -> None:
    """Every file and folder under ``root`` durable, deepest first."""
    for folder, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(folder))


def list_files(root: Path) -> dict[str, dict[str, Any]]:
    return {p.relative_to(root).as_posix(): {"size": p.stat().st_size, "sha256": sha256_of(p)}
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != FILES}


class VersionStore:
    """One unit's versions; one process at a time holds it (an exclusive lock)."""

    def __init__(self, root: Path, *, lock: bool = True) -> None:
        """``lock=False`` only reads (``model status`` beside a running unit)."""
        self.root = Path(root)
        self.versions = self.root / "versions"
        self.staging = self.root / "staging"
        for folder in (self.root, self.versions, self.staging):
            folder.mkdir(parents=True, exist_ok=True)
        self._lock = -1
        if not lock:
            return
        self._lock = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock)
            raise StoreError(f"{self.root} is in use by another process (a running unit?)") \
                from None

    def close(self) -> None:
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1

    # -- reading ---------------------------------------------------------------------------
    def path(self, version: str) -> Path:
        version_key(version)
        return self.versions / version

    def pointer(self) -> Pointer | None:
        try:
            raw = json.loads((self.root / POINTER).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.error("model store pointer unreadable: %s", exc)
            return None
        return Pointer(raw["current"], raw.get("previous"), raw.get("highest", SEED_VERSION),
                       bool(raw.get("probation", False)), dict(raw.get("rejected", {})))

    def intact(self, version: str | None) -> bool:
        """The version folder exists and every file matches its recorded size and hash."""
        if version is None:
            return False
        folder = self.path(version)
        try:
            want = json.loads((folder / FILES).read_text(encoding="utf-8"))
            return bool(want) and list_files(folder) == want
        except (OSError, ValueError):
            return False

    # -- opening and recovery ----------------------------------------------------------------
    def open(self, seed_model_dir: Path, seed_catalogue_dir: Path | None = None) -> Pointer:
        """The pointer after recovery: a damaged current falls back, strays are removed."""
        ptr = self.pointer()
        if ptr is not None and not self.intact(ptr.current):
            log.error("installed version %s is damaged; falling back", ptr.current)
            ptr = self._fall_back(ptr)
        if ptr is None:
            ptr = self._seed(seed_model_dir, seed_catalogue_dir)
        self.prune(ptr)
        return ptr

    def _fall_back(self, ptr: Pointer) -> Pointer | None:
        rejected = {**ptr.rejected, ptr.current: "damaged on disk"}
        if ptr.previous and self.intact(ptr.previous):
            new = Pointer(ptr.previous, None, ptr.highest, False, rejected)
            self.write_pointer(new)
            return new
        return None

    def _seed(self, model_dir: Path, catalogue_dir: Path | None = None) -> Pointer:
        """The shipped model (and catalogue) become version 0 when there is nothing valid to run."""
        old = self.pointer()
        tmp = self.versions / f".{SEED_VERSION}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(self.versions / SEED_VERSION, ignore_errors=True)
        shutil.copytree(model_dir, tmp / "model")
        if catalogue_dir is not None and Path(catalogue_dir).is_dir():
            shutil.copytree(catalogue_dir, tmp / "catalogue")
        self.seal(tmp, SEED_VERSION)
        highest = old.highest if old else SEED_VERSION
        ptr = Pointer(SEED_VERSION, None, highest, False, dict(old.rejected) if old else {})
        self.write_pointer(ptr)
        log.warning("model store %s seeded from %s", self.root, model_dir)
        return ptr

    def prune(self, ptr: Pointer, keep: tuple[str, ...] = ()) -> None:
        """Remove version folders nothing points at, and downloads that are no longer wanted."""
        wanted = {ptr.current, ptr.previous, *keep}
        for folder in self.versions.iterdir():
            if folder.name not in wanted:
                shutil.rmtree(folder, ignore_errors=True)
        for folder in self.staging.iterdir():
            if folder.name in ptr.rejected or folder.name in wanted or not _newer(folder.name,
                                                                                  ptr.highest):
                shutil.rmtree(folder, ignore_errors=True)

    # -- writing ---------------------------------------------------------------------------------
    def seal(self, tmp: Path, version: str, on_step: Step = _nothing) -> Path:
        """Record every file's hash, fsync the lot, rename the folder into place."""
        (tmp / FILES).write_text(json.dumps(list_files(tmp), indent=1, sort_keys=True))
        on_step("listed")
        fsync_tree(tmp)
        on_step("synced")
        final = self.path(version)
        shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)
        on_step("renamed")
        fsync_dir(self.versions)
        on_step("dir-synced")
        return final

    def stage(self, version: str, files: Path, current: str, on_step: Step = _nothing) -> Path:
        """A complete version folder from verified downloads plus what the bundle lacks.

        ``files`` holds the bundle's component folders, bundle.json and
        signatures.json; it is moved, not copied, so what was hashed is what runs.
        """
        tmp = self.versions / f".{version}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.rename(files, tmp)
        on_step("moved")
        running = self.path(current)
        for comp in ("model", "catalogue"):
            if not (tmp / comp).exists() and (running / comp).is_dir():
                shutil.copytree(running / comp, tmp / comp)
        on_step("completed")
        return self.seal(tmp, version, on_step)

    def write_pointer(self, ptr: Pointer, on_step: Step = _nothing) -> None:
        body = {"schema": STORE_SCHEMA, **dataclasses.asdict(ptr)}
        body["rejected"] = dict(list(ptr.rejected.items())[-MAX_REJECTED:])
        tmp = self.root / f".{POINTER}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        try:
            os.write(fd, json.dumps(body, indent=1, sort_keys=True).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        on_step("pointer-written")
        os.replace(tmp, self.root / POINTER)
        on_step("pointer-renamed")
        fsync_dir(self.root)
        on_step("pointer-synced")

    def promote(self, version: str, on_step: Step = _nothing) -> Pointer:
        """``version`` becomes current, the old current is kept as previous; probation starts."""
        ptr = self._require()
        highest = max(ptr.highest, version, key=version_key)
        new = Pointer(version, ptr.current, highest, True, dict(ptr.rejected))
        self.write_pointer(new, on_step)
        self.prune(new)
        on_step("pruned")
        return new

    def rollback(self, reason: str) -> Pointer:
        """Back to the previous version; the highest stays, the rolled-back one is refused."""
        ptr = self._require()
        if not ptr.previous or not self.intact(ptr.previous):
            raise StoreError("no intact previous version to roll back to")
        new = Pointer(ptr.previous, None, ptr.highest, False,
                      {**ptr.rejected, ptr.current: reason})
        self.write_pointer(new)
        self.prune(new)
        return new

    def end_probation(self) -> Pointer:
        new = dataclasses.replace(self._require(), probation=False)
        self.write_pointer(new)
        return new

    def reject(self, version: str, reason: str) -> Pointer:
        """Remember a refused version so a retained offer of it is not tried again."""
        ptr = self._require()
        new = dataclasses.replace(ptr, rejected={**ptr.rejected, version: reason[:300]})
        self.write_pointer(new)
        self.prune(new)
        return new

    def _require(self) -> Pointer:
        ptr = self.pointer()
        if ptr is None:
            raise StoreError(f"{self.root}: no installed version")
        return ptr


def _newer(name: str, highest: str) -> bool:
    try:
        return version_key(name) > version_key(highest)
    except ValueError:
        return False
