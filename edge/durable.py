"""Writing files so that a power cut leaves either the whole file or none of it.

The outbox spool and package folders both rely on this: temporary file,
fsync, rename, and an fsync of the folder so the rename itself survives.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
from pathlib import Path


def write_atomic(path: Path, data: bytes, mode: int = 0o640) -> None:
    """Temporary file, fsync, rename: a reader sees the whole file or none of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def fsync_dir(path: Path) -> None:
    """Make the folder's entries (a rename, a new file) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(path: Path) -> None:
    """``mkdir -p`` whose new entries survive a power cut: each created folder's parent is
    fsync'd (a name is durable only once its folder is, and nothing else syncs these)."""
    path = Path(path)
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        fsync_dir(folder.parent)


def write_replace(path: Path, data: bytes, mode: int = 0o640) -> None:
    """Temporary file and rename, not yet synced: for many files made durable at once by
    :func:`sync_filesystem` (one journal commit instead of one per file and folder)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    os.replace(tmp, path)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file read in 1 MiB blocks (models and bundles run to tens of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def holds(path: Path, sha256: str, size: int) -> bool:
    """Whether ``path`` already holds exactly this content: a cut before the sync may leave
    a file of the right size whose blocks never reached the disk."""
    try:
        if path.stat().st_size != size:
            return False
        return hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    except OSError:
        return False


def sync_filesystem(path: Path) -> None:
    """Everything written on ``path``'s file system, data and names, on disk (Linux syncfs)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        syncfs = getattr(_LIBC, "syncfs", None)
        if syncfs is None:
            os.sync()
        elif syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"syncfs {path}: {os.strerror(err)}")
    finally:
        os.close(fd)


_LIBC = ctypes.CDLL(None, use_errno=True)
