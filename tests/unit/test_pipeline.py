"""The run loop's contract: bounded queue drops are counted, camera failures retried then fatal,
a failing parcel does not stop the unit, and the stream's end drains everything."""
from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest

from edge.camera import CameraError, EndOfStream
from edge.pipeline import LoopSettings, Pipeline
from edge.process import Stages
from edge.records import (Box, Classification, Frame, LabelReading, Package, ParcelCapture,
                          QualityReport, Reference, Verdict)
from edge.stats import Stats
from edge.trigger import Presence


class ListCamera:
    """Frames from a list; entries that are exceptions are raised instead."""

    name = "list"

    def __init__(self, items: list[Any]) -> None:
        self.items = list(items)
        self.starts = 0

    def start(self) -> None:
        self.starts += 1

    def read(self, timeout: float) -> Frame | None:
        if not self.items:
            raise EndOfStream
        item = self.items.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    def stop(self) -> None:
        pass


class EveryFrameTrigger:
    def observe(self, frame: Frame) -> Presence:
        return Presence(True, Box(0, 0, 8, 8))

    def close(self) -> None:
        pass


class OneFrameParcels:
    """Each frame is one parcel: keeps the loop mechanics under test, not assembly."""

    def __init__(self) -> None:
        self.n = 0

    def push(self, frame: Frame, presence: Presence) -> ParcelCapture:
        self.n += 1
        return ParcelCapture(self.n, (frame,), (presence.box,), (1.0,))

    def flush(self) -> None:
        return None


class MemorySink:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.packages: list[Package] = []
        self.delay_s = delay_s

    def commit(self, package: Package) -> None:
        time.sleep(self.delay_s)
        self.packages.append(package)


def frame(i: int) -> Frame:
    return Frame(i, float(i), "2026-11-23T00:00:00Z", np.zeros((8, 8, 3), np.uint8))


def stages(sink: MemorySink, fail_on: int | None = None) -> Stages:
    seq = iter(range(1, 10_000))

    def read(capture: ParcelCapture) -> LabelReading:
        if capture.capture_id == fail_on:
            raise ValueError("boom")
        return LabelReading((), Reference("upu_s10", "RR123456785GB", True), frame_seq=0)

    return Stages(
        unit="u1", read=read,
        choose=lambda c, r: (0, QualityReport("p", "parcel", ())),
        classify=lambda image, box, label: Classification(None, {}, available=False),
        decide=lambda r, q, c: Verdict("clear"),
        package=lambda record, image, label_box, parcel_box, pyramid=None: Package(record, ()),
        next_seq=lambda: next(seq), sinks=(sink,))


def run(camera: ListCamera, sink: MemorySink, settings: LoopSettings, fail_on: int | None = None
        ) -> tuple[int, Stats]:
    stats = Stats()
    pipe = Pipeline(camera, EveryFrameTrigger(), OneFrameParcels(), stages(sink, fail_on),
                    stats, settings)
    return pipe.run(threading.Event()), stats


def test_end_of_stream_drains_every_parcel() -> None:
    sink = MemorySink()
    code, stats = run(ListCamera([frame(i) for i in range(20)]), sink, LoopSettings(queue_size=2,
                                                                                    backpressure=True))
    assert code == 0
    assert [p.record.seq for p in sink.packages] == list(range(1, 21))
    assert stats.count("parcels") == 20 and stats.count("read") == 20


def test_full_queue_drops_with_a_counter_and_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    sink = MemorySink(delay_s=0.01)
    code, stats = run(ListCamera([frame(i) for i in range(30)]), sink, LoopSettings(queue_size=1))
    dropped = stats.count("dropped.capture_queue_full")
    assert code == 0 and dropped > 0
    assert len(sink.packages) + dropped == 30
    assert "capture queue full" in caplog.text


def test_camera_failure_is_retried_then_recovers() -> None:
    sink = MemorySink()
    camera = ListCamera([frame(0), CameraError("usb gone"), frame(1)])
    code, stats = run(camera, sink, LoopSettings(retry_base_s=0.001))
    assert code == 0 and len(sink.packages) == 2 and camera.starts == 2
    assert stats.snapshot()["errors"]["camera"] == 1


def test_camera_that_stays_dead_ends_the_run_non_zero() -> None:
    camera = ListCamera([CameraError("no camera")] * 10)
    code, stats = run(camera, MemorySink(), LoopSettings(camera_retries=2, retry_base_s=0.001))
    assert code == 1 and camera.starts == 3


def test_a_failing_parcel_is_counted_and_the_next_goes_on() -> None:
    sink = MemorySink()
    code, stats = run(ListCamera([frame(i) for i in range(3)]), sink,
                      LoopSettings(backpressure=True), fail_on=2)
    assert code == 0 and len(sink.packages) == 2
    assert stats.snapshot()["errors"] == {"process": 1}


def test_stop_event_ends_an_endless_source() -> None:
    class Endless(ListCamera):
        def read(self, timeout: float) -> Frame | None:
            time.sleep(0.001)
            return frame(0)

    stop = threading.Event()
    sink = MemorySink()
    pipe = Pipeline(Endless([]), EveryFrameTrigger(), OneFrameParcels(), stages(sink), Stats(),
                    LoopSettings(queue_size=4))
    threading.Timer(0.2, stop.set).start()
    assert pipe.run(stop) == 0 and sink.packages


def test_several_workers_commit_in_sequence_order() -> None:
    sink = MemorySink(delay_s=0.002)
    code, stats = run(ListCamera([frame(i) for i in range(40)]), sink,
                      LoopSettings(queue_size=4, backpressure=True, workers=3))
    assert code == 0 and stats.count("parcels") == 40
    assert [p.record.seq for p in sink.packages] == list(range(1, 41))


def test_each_path_worker_gets_its_own_stage_object() -> None:
    """Stateful stages (the label reader) must not be shared between workers."""
    from edge.app import PerThread

    made: list[object] = []
    per = PerThread(lambda: made.append(object()) or made[-1])
    seen: dict[str, tuple[object, object]] = {}

    def work(name: str) -> None:
        seen[name] = (per.get(), per.get())

    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(first is second for first, second in seen.values())
    assert seen["a"][0] is not seen["b"][0] and len(made) == 2
