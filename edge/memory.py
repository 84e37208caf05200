"""Return freed frame memory to the system at once (glibc's malloc), so RSS tracks what is held.

A 12 MP frame is 37 MB.  glibc serves blocks that large with ``mmap`` and
gives them back on ``free``, but after the first such free it raises its
threshold (up to 32 MB) and later frames come from the heap, where freed
memory stays in the process; with one arena per thread the unit's peak RSS
grew by about 100 MB that nothing held.  A fixed threshold and two arenas
keep every frame-sized block on ``mmap``.  Elsewhere than glibc this does
nothing.

The threshold is 8 MB, not lower: the frame, its grey copy and its half-size
level at 12 MP (37, 12 and 9 MB) lie above it; the working memory of one
parcel's stages lies below it.  The OCR engine runs onnxruntime without its
memory arena, so each model run allocates its tensors afresh (a few MB each
for the text detector); at a 1 MB threshold every one of them was a new
``mmap`` the kernel zeroed page by page and unmapped again.  On the bench
conveyor (``parcel-edge bench --true-scale``) that doubled the brand check:
251 -> 136 ms a parcel at 1280x960 and 256 -> 156 ms at 12 MP (the kernel's
share of the CPU time 39 -> 10 % at 1280x960), for 47 MB more peak RSS at
12 MP (328 -> 375 MB).  The heap is trimmed only past twice the threshold, as
glibc's own dynamic rule does, or a freed block at its top is handed back
and faulted in again on the next parcel.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 8 << 20
TRIM_THRESHOLD_BYTES = 2 * MMAP_THRESHOLD_BYTES
ARENAS = 2


def return_frames_to_the_system() -> bool:
    """Set glibc's mmap and trim thresholds and arena count; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = all(bool(mallopt(option, value)) for option, value in (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES), (M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES),
        (M_ARENA_MAX, ARENAS)))
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
