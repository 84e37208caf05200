"""The run loop: a capture thread feeding the per-parcel path through a bounded queue.

The camera must never wait on the slow stages, so captures cross a bounded
queue; when it is full a live unit drops the capture with a counter and a log
line (the belt does not stop), while a synthetic or replayed source, which can
wait, applies backpressure instead.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from edge.backoff import exponential
from edge.camera import CameraError, EndOfStream
from edge.capture import single_frame, with_lores
from edge.process import Handoff, Stages, process_parcel
from edge.records import Package, ParcelCapture
from edge.stats import Stats

log = logging.getLogger(__name__)
_DONE = object()


@dataclass(frozen=True)
class LoopSettings:
    queue_size: int = 8
    frame_timeout_s: float = 1.0
    camera_retries: int = 5
    backpressure: bool = False
    retry_base_s: float = 0.5
    workers: int = 1
    stall_s: float = 10.0
    queue_bytes: int = 0  # 0: only ``queue_size`` bounds the queue


class _Bytes:
    """The pixel bytes of the captures queued, against a budget; one capture always fits.

    A 12 MP capture is tens of MB where a 1280x960 one is a few, so a count
    alone cannot bound the unit's memory.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.queued = 0
        self._cond = threading.Condition()

    def fits(self, size: int) -> bool:
        return not self.budget or self.queued == 0 or self.queued + size <= self.budget

    def take(self, size: int, wait: bool) -> bool:
        """Count ``size`` in; with ``wait`` block until it fits, else say whether it did."""
        with self._cond:
            if wait:
                self._cond.wait_for(lambda: self.fits(size))
            elif not self.fits(size):
                return False
            self.queued += size
            return True

    def add(self, size: int) -> None:
        """Count a capture in past the budget (the test capture has its own slot)."""
        with self._cond:
            self.queued += size

    def give(self, size: int) -> None:
        with self._cond:
            self.queued -= size
            self._cond.notify_all()


def capture_bytes(capture: ParcelCapture) -> int:
    return sum(int(f.image.nbytes) for f in capture.frames)


class Pipeline:
    """Owns the threads of one run; ``run`` returns the process exit code."""

    def __init__(self, camera: Any, trigger: Any, assembler: Any, stages: Stages,
                 stats: Stats, settings: LoopSettings,
                 on_package: Callable[[Package], None] | None = None) -> None:
        self.camera, self.trigger, self.assembler = camera, trigger, assembler
        self.stages, self.stats, self.settings = stages, stats, settings
        self.on_package = on_package
        # One slot beyond the parcels' share is the test capture's own: it never takes a parcel's.
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=settings.queue_size + 1)
        self._fatal: str | None = None
        self._test_capture = threading.Event()
        self._test_lock = threading.Lock()
        self._tests_in_path = 0
        self._take = threading.Lock()
        self._bytes = _Bytes(settings.queue_bytes)

    def request_test_capture(self) -> bool:
        """The next frame goes through the whole path as a parcel (``cmd/test-capture``).

        Lets an installer check focus, framing and delivery without a parcel
        on the belt; the record says ``trigger: test``.  One at a time, in its
        own queue slot: False (refused) while one is pending or in the path.
        """
        with self._test_lock:
            if self._tests_in_path or self._test_capture.is_set():
                return False
            self._test_capture.set()
            return True

    def run(self, stop: threading.Event) -> int:
        capture_thread = threading.Thread(target=self._capture_loop, args=(stop,),
                                          name="capture", daemon=True)
        capture_thread.start()
        workers = [threading.Thread(target=self._process_loop, name=f"path-{i}", daemon=True)
                   for i in range(1, self.settings.workers)]
        for worker in workers:
            worker.start()
        self._process_loop()
        for worker in workers:
            worker.join()
        capture_thread.join(timeout=5.0)
        if self._fatal:
            log.error("stopped: %s", self._fatal)
            return 1
        return 0

    # -- capture side -----------------------------------------------------------------
    def _capture_loop(self, stop: threading.Event) -> None:
        try:
            if self._start_camera(stop):
                self._frames(stop)
        except CameraError as exc:
            self._fatal = f"camera: {exc}"
            self.stats.error("camera")
        except Exception as exc:  # the loop must always hand over _DONE
            self._fatal = f"capture: {exc.__class__.__name__}: {exc}"
            self.stats.error("capture")
            log.exception("capture loop failed")
        finally:
            self._finish_capture()

    def _start_camera(self, stop: threading.Event) -> bool:
        """A camera absent at start is retried like one that fails later; False if stopped."""
        failures = 0
        while not stop.is_set():
            try:
                self.camera.start()
                return True
            except CameraError as exc:
                failures += 1
                self._recover(exc, failures, stop, restart=False)
        return False

    def _frames(self, stop: threading.Event) -> None:
        failures = 0
        silent_since = time.monotonic()
        while not stop.is_set():
            try:
                frame = self.camera.read(self.settings.frame_timeout_s)
                if frame is None and time.monotonic() - silent_since > self.settings.stall_s:
                    raise CameraError(f"stalled: no frame for {self.settings.stall_s:.0f} s")
            except EndOfStream:
                return
            except CameraError as exc:
                failures += 1
                self._recover(exc, failures, stop)
                silent_since = time.monotonic()
                continue
            if frame is None:
                self.stats.incr("frame_timeouts")
                continue
            failures, silent_since = 0, time.monotonic()
            self._observe(frame)

    def _recover(self, exc: CameraError, failures: int, stop: threading.Event,
                 restart: bool = True) -> None:
        """Restart the camera with a growing pause; give up after the configured retries."""
        if failures > self.settings.camera_retries:
            raise CameraError(f"{exc} (gave up after {failures - 1} restarts)")
        self.stats.error("camera")
        self.stats.incr("camera_restarts")
        delay = exponential(self.settings.retry_base_s, 30.0, failures - 1)
        log.warning("camera failed (%s); restart %d/%d in %.1f s",
                    exc, failures, self.settings.camera_retries, delay)
        stop.wait(delay)
        if not restart:
            return
        try:
            self.camera.stop()
            self.camera.start()
        except CameraError as again:
            log.warning("camera restart failed: %s", again)

    def _observe(self, frame: Any) -> None:
        self.stats.incr("frames")
        cpu = time.thread_time()
        frame = with_lores(frame)
        if self._test_capture.is_set():
            self._hand_over_test(single_frame(frame, "test", capture_id=-frame.seq))
        presence = self.trigger.observe(frame)
        self.stats.time("presence", presence.ms)
        capture = self.assembler.push(frame, presence)
        self.stats.time("frame_cpu", (time.thread_time() - cpu) * 1000.0)
        if capture is not None:
            self._hand_over(capture)

    def _hand_over_test(self, capture: ParcelCapture) -> None:
        with self._test_lock:
            self._test_capture.clear()
            self._tests_in_path += 1
        try:
            self._bytes.add(capture_bytes(capture))
            self._queue.put_nowait(capture)  # its own slot: live parcels never fill the last one
            self.stats.incr("test_captures")
        except queue.Full:  # a source with backpressure may have filled every slot
            self._bytes.give(capture_bytes(capture))
            self._test_done(capture.trigger)
            self.stats.incr("dropped.test_capture")
            log.warning("test capture skipped: the path is busy")

    def _hand_over(self, capture: ParcelCapture) -> None:
        self.stats.incr("captures")
        size = capture_bytes(capture)
        if self.settings.backpressure:
            self._bytes.take(size, wait=True)
            self._queue.put(capture)
            return
        if not self._bytes.take(size, wait=False):
            self.stats.incr("dropped.capture_queue_bytes")
            self.stats.error("queue_full")
            log.warning("capture queue holds %d MB: dropped parcel capture %d",
                        self._bytes.queued // 1_000_000, capture.capture_id)
            return
        try:
            with self._test_lock:
                if self._queue.qsize() - self._tests_in_path >= self.settings.queue_size:
                    raise queue.Full
                self._queue.put_nowait(capture)
        except queue.Full:
            self._bytes.give(size)
            self.stats.incr("dropped.capture_queue_full")
            self.stats.error("queue_full")
            log.warning("capture queue full (%d): dropped parcel capture %d",
                        self.settings.queue_size, capture.capture_id)

    def _finish_capture(self) -> None:
        try:
            last = self.assembler.flush()
            if last is not None:
                self.stats.incr("captures")
                self._bytes.take(capture_bytes(last), wait=True)
                self._queue.put(last)
        finally:
            for closer in (self.camera.stop, self.trigger.close):
                try:
                    closer()
                except Exception as exc:  # closing must not hide the real outcome
                    log.warning("close failed: %s", exc)
            self._queue.put(_DONE)

    # -- processing side --------------------------------------------------------------
    def _test_done(self, trigger: str) -> None:
        if trigger == "test":
            with self._test_lock:
                self._tests_in_path -= 1

    def _process_loop(self) -> None:
        while True:
            with self._take:  # a capture and its ticket together, so tickets follow the queue
                item = self._queue.get()
                ticket = None if item is _DONE else self.stages.turns.ticket()
            if item is _DONE:
                self._queue.put(_DONE)  # the other workers stop on it too
                return
            self._bytes.give(capture_bytes(item))
            self.stats.gauge("capture_queue", self._queue.qsize())
            handoff = Handoff(item)
            del item  # the path holds the only reference: frames it does not choose are freed
            self._process(handoff, ticket)

    def _process(self, capture: Handoff, ticket: int | None = None) -> None:
        started = time.perf_counter()
        cpu = time.thread_time()
        try:
            package = process_parcel(capture, self.stages, self.stats, ticket)
        except Exception as exc:
            self._test_done(capture.trigger)
            self.stats.error("process")
            log.error("parcel capture %d failed: %s: %s", capture.capture_id,
                      exc.__class__.__name__, exc)
            return
        self._test_done(capture.trigger)
        self.stats.time("path", (time.perf_counter() - started) * 1000.0)
        self.stats.time("path_cpu", (time.thread_time() - cpu) * 1000.0)
        if self.on_package is not None:
            self.on_package(package)
