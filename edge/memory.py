"""Return freed image memory to the system at once (glibc's malloc), so RSS tracks what is held.

A 12 MP frame is 37 MB.  glibc serves blocks that large with ``mmap`` and
gives them back on ``free``, but after the first such free it raises its
threshold (up to 32 MB) and later frames come from the heap, where freed
memory stays in the process; with one arena per thread the unit's peak RSS
grew by about 100 MB that nothing held.  A fixed threshold of 1 MB and two
arenas keep every frame-sized block on ``mmap``.  Elsewhere than glibc this
does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 1 << 20
ARENAS = 2


def return_frames_to_the_system() -> bool:
    """Set glibc's mmap threshold and arena count; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(M_ARENA_MAX, ARENAS))
    if not ok:
        log.warning("malloc tuning refused; peak memory may run higher")
    return ok


def peak_rss_mb() -> float:
    """This process's own peak resident memory (MB).

    ``getrusage``'s ``ru_maxrss`` is carried across ``exec`` on Linux, so a
    process started from a large one (the benchmark's RSS run, forked from the
    benchmark after its 12 MP measurements) reports its parent's size at the
    fork.  ``VmHWM`` belongs to the process's own address space; ``ru_maxrss``
    stands in where there is no ``/proc``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
