"""A FUSE file system that loses, at a "power cut", everything that was not made durable.

Usage: python tests/cutfs.py MOUNTPOINT     (foreground; unmount to stop)

All data lives in this process's memory, in two layers, the way a disk with a
volatile write cache behaves under the POSIX rules (the strict reading that
ext4 with ``data=ordered`` is gentler than):

* a file's contents become durable only at ``fsync`` of that file;
* a directory's entries (a created, renamed or removed name) become durable
  only at ``fsync`` of that directory.

Writing ``cut TID...`` to the control file ``/.cut`` is the power cut: every
file goes back to its last fsync'd contents, every directory to its last
fsync'd entries (a name never synced vanishes; a name removed but not synced
comes back).  The test kills the writing process with SIGKILL first, so the
cut happens at whatever instant that process had reached; the threads named
in the message are the dead machine's: a request of theirs still in flight in
the kernel (a killed process does not wait for its FUSE requests) is refused
with EIO, as a disk without power would, instead of landing after the cut.  Reading ``/.stats``
gives counters as JSON.  Caches are off (``entry_timeout=0``, ``attr_timeout=0``)
so the kernel never serves a name or a size from before a cut.
"""
from __future__ import annotations

import errno
import json
import os
import stat
import sys
import threading
import time
from dataclasses import dataclass, field

from fuse import FUSE, FuseOSError, Operations, fuse_get_context

CONTROL = "/.cut"
STATS = "/.stats"


@dataclass(eq=False)
class Node:
    is_dir: bool
    mode: int
    data: bytearray = field(default_factory=bytearray)
    durable: bytes = b""
    mtime: float = field(default_factory=time.time)


def parent_of(path: str) -> str:
    return os.path.dirname(path) or "/"


class CutFS(Operations):
    """Path-keyed nodes; ``live`` is what processes see, ``synced`` what survives a cut."""

    def __init__(self) -> None:
        root = Node(True, 0o755)
        self.live: dict[str, Node] = {"/": root}
        self.synced: dict[str, Node] = {"/": root}
        self._mu = threading.RLock()
        self.counters = {"cuts": 0, "fsync": 0, "fsyncdir": 0, "lost_files": 0,
                         "reverted_files": 0, "writes": 0}
        self.fh = 10
        self.dead: set[int] = set()

    def __call__(self, op: str, *args):
        """Every operation under one lock; none from the threads of a machine that lost power."""
        with self._mu:
            if self.dead and fuse_get_context()[2] in self.dead:
                self.counters["refused_after_cut"] = self.counters.get("refused_after_cut", 0) + 1
                raise FuseOSError(errno.EIO)
            return super().__call__(op, *args)

    # -- helpers ------------------------------------------------------------------
    def _node(self, path: str) -> Node:
        node = self.live.get(path)
        if node is None:
            raise FuseOSError(errno.ENOENT)
        return node

    def _children(self, table: dict[str, Node], path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        return [p for p in table if p != "/" and parent_of(p) == path]

    def _new(self, path: str, node: Node) -> int:
        if parent_of(path) not in self.live or not self.live[parent_of(path)].is_dir:
            raise FuseOSError(errno.ENOENT)
        self.live[path] = node
        self.fh += 1
        return self.fh

    def cut(self) -> None:
        """The power cut: only what was synced is left."""
        before = set(self.live)
        survivors: dict[str, Node] = {}
        for path, node in self.synced.items():
            if path != "/" and parent_of(path) not in self.synced:
                continue
            if not node.is_dir:
                if bytes(node.data) != node.durable:
                    self.counters["reverted_files"] += 1
                node.data = bytearray(node.durable)
            survivors[path] = node
        self.counters["lost_files"] += len(before - set(survivors))
        self.live = survivors
        self.synced = dict(survivors)
        self.counters["cuts"] += 1

    # -- metadata -----------------------------------------------------------------
    def getattr(self, path: str, fh: int | None = None) -> dict:
        with self._mu:
            if path in (CONTROL, STATS):
                size = len(self._stats()) if path == STATS else 0
                return {"st_mode": stat.S_IFREG | 0o600, "st_nlink": 1, "st_size": size}
            node = self._node(path)
            kind = stat.S_IFDIR if node.is_dir else stat.S_IFREG
            return {"st_mode": kind | node.mode, "st_nlink": 2 if node.is_dir else 1,
                    "st_size": len(node.data), "st_mtime": node.mtime, "st_ctime": node.mtime,
                    "st_atime": node.mtime, "st_uid": os.getuid(), "st_gid": os.getgid()}

    def readdir(self, path: str, fh: int) -> list[str]:
        with self._mu:
            self._node(path)
            return [".", ".."] + [os.path.basename(p) for p in self._children(self.live, path)]

    def mkdir(self, path: str, mode: int) -> None:
        with self._mu:
            if path in self.live:
                raise FuseOSError(errno.EEXIST)
            self._new(path, Node(True, mode & 0o7777))

    def rmdir(self, path: str) -> None:
        with self._mu:
            if self._children(self.live, path):
                raise FuseOSError(errno.ENOTEMPTY)
            self._node(path)
            del self.live[path]

    def unlink(self, path: str) -> None:
        with self._mu:
            self._node(path)
            del self.live[path]

    def rename(self, old: str, new: str) -> None:
        with self._mu:
            node = self._node(old)
            if parent_of(new) not in self.live:
                raise FuseOSError(errno.ENOENT)
            moved = {p: n for p, n in self.live.items()
                     if p == old or p.startswith(old.rstrip("/") + "/")}
            for p in moved:
                del self.live[p]
            for p, n in moved.items():
                self.live[new + p[len(old):]] = n
            node.mtime = time.time()

    def chmod(self, path: str, mode: int) -> None:
        with self._mu:
            self._node(path).mode = mode & 0o7777

    def chown(self, path: str, uid: int, gid: int) -> None:
        pass

    def utimens(self, path: str, times: tuple[float, float] | None = None) -> None:
        with self._mu:
            self._node(path).mtime = times[1] if times else time.time()

    def statfs(self, path: str) -> dict:
        return {"f_bsize": 4096, "f_frsize": 4096, "f_blocks": 1 << 22, "f_bfree": 1 << 21,
                "f_bavail": 1 << 21, "f_files": 1 << 20, "f_ffree": 1 << 19, "f_namemax": 255}

    def access(self, path: str, amode: int) -> None:
        with self._mu:
            if path not in (CONTROL, STATS):
                self._node(path)

    # -- data ---------------------------------------------------------------------
    def create(self, path: str, mode: int, fi=None) -> int:
        with self._mu:
            if path in self.live:
                self.live[path].data = bytearray()
                self.fh += 1
                return self.fh
            return self._new(path, Node(False, mode & 0o7777))

    def open(self, path: str, flags: int) -> int:
        with self._mu:
            if path not in (CONTROL, STATS):
                node = self._node(path)
                if flags & os.O_TRUNC:
                    node.data = bytearray()
            self.fh += 1
            return self.fh

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        with self._mu:
            if path == STATS:
                return self._stats()[offset:offset + size]
            return bytes(self._node(path).data[offset:offset + size])

    def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
        with self._mu:
            if path == CONTROL:
                words = data.split()
                if words[:1] == [b"cut"]:
                    self.dead = {int(w) for w in words[1:]}
                    self.cut()
                return len(data)
            node = self._node(path)
            if offset > len(node.data):
                node.data.extend(b"\0" * (offset - len(node.data)))
            node.data[offset:offset + len(data)] = data
            node.mtime = time.time()
            self.counters["writes"] += 1
            return len(data)

    def truncate(self, path: str, length: int, fh: int | None = None) -> None:
        with self._mu:
            if path in (CONTROL, STATS):
                return
            node = self._node(path)
            if length < len(node.data):
                del node.data[length:]
            else:
                node.data.extend(b"\0" * (length - len(node.data)))

    def fsync(self, path: str, datasync: int, fh: int) -> None:
        with self._mu:
            node = self.live.get(path)
            if node is not None and not node.is_dir:
                node.durable = bytes(node.data)
                self.counters["fsync"] += 1

    def fsyncdir(self, path: str, datasync: int, fh: int) -> None:
        with self._mu:
            if path not in self.live:
                return
            for p in self._children(self.synced, path):
                if p not in self.live:
                    del self.synced[p]
            for p in self._children(self.live, path):
                self.synced[p] = self.live[p]
            self.counters["fsyncdir"] += 1

    def flush(self, path: str, fh: int) -> None:
        return None

    def release(self, path: str, fh: int) -> None:
        return None

    def _stats(self) -> bytes:
        return (json.dumps(self.counters) + "\n").encode()


def main() -> int:
    mountpoint = sys.argv[1]
    FUSE(CutFS(), mountpoint, foreground=True, nothreads=False, entry_timeout=0,
         attr_timeout=0, negative_timeout=0, big_writes=True, max_write=131072)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
