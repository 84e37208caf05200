"""The path at real scale: the shared pyramid, redaction at the cost of the crop, numbering in
capture order with packaging outside the ordering, frames held per parcel, backpressure."""
from __future__ import annotations

import dataclasses
import gc
import platform
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.app import source_can_wait
from edge.capture import ParcelAssembler, with_lores
from edge.config import CaptureConfig, EdgeConfig
from edge.package import redact
from edge.process import Handoff, Stages, Turns, classify_reduced, process_parcel
from edge.pyramid import Pyramid, scale_box
from edge.records import (Box, Classification, Frame, LabelReading, Package, ParcelCapture,
                          QualityReport, Verdict)
from edge.stats import Stats
from edge.trigger import Presence


def _noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), np.uint8)


def _old_apply(image: np.ndarray, r: redact.Redaction, style: str) -> np.ndarray:
    """The previous implementation: a copy of the frame and a numpy boolean mask."""
    out = image.copy()
    label = r.label
    view = out[label.y:label.y + label.h, label.x:label.x + label.w]
    hide = r.mask > 0
    if style == "black":
        view[hide] = 0
        return out
    h, w = view.shape[:2]
    small = cv2.resize(view, (max(1, w // 12), max(1, h // 12)), interpolation=cv2.INTER_AREA)
    view[hide] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)[hide]
    return out


@pytest.mark.parametrize("style", ["black", "pixelate"])
def test_redacted_crops_are_byte_identical_to_cropping_the_redacted_frame(style: str) -> None:
    image = _noise(300, 400)
    label = Box(120, 80, 150, 90)
    mask = (np.random.default_rng(1).random((label.h, label.w)) > 0.5).astype(np.uint8) * 255
    plan = redact.Redaction(label, mask, 3)
    whole = _old_apply(image, plan, style)
    for box in (Box(0, 0, 400, 300), Box(100, 60, 200, 150), Box(150, 100, 40, 30),
                Box(0, 0, 50, 50), Box(250, 150, 150, 150)):
        crop = redact.redacted_crop(image, box, plan, style)  # type: ignore[arg-type]
        assert crop.tobytes() == whole[box.y:box.y + box.h, box.x:box.x + box.w].tobytes()
    assert redact.apply(image, plan, style).tobytes() == whole.tobytes()  # type: ignore[arg-type]
    assert image.tobytes() == _noise(300, 400).tobytes()  # the frame itself is untouched


def test_pyramid_levels_are_area_averages_made_once() -> None:
    image = _noise(960, 1280)
    p = Pyramid(image)
    direct = cv2.resize(image, (320, 240), interpolation=cv2.INTER_AREA).astype(int)
    assert np.abs(p.colour(2).astype(int) - direct).max() <= 1
    assert p.colour(2) is p.colour(2) and p.grey(1) is p.grey(1)
    grey, f = p.grey_at_most(640)
    assert grey.shape == (480, 640) and f == 0.5
    grey, f = Pyramid(_noise(3040, 4056)).grey_at_most(640)
    assert grey.shape == (380, 507) and f == pytest.approx(0.125, abs=1e-3)
    assert p.level_for(1280) == 0 and Pyramid(_noise(3040, 4056)).model_level() == 1


def test_a_low_resolution_copy_stands_in_for_its_level() -> None:
    frame = Frame(1, 0.0, "", _noise(960, 1280))
    small = with_lores(frame).lores
    assert small is not None and small.shape == (480, 640, 3)
    p = Pyramid(frame.image, small)
    assert p.colour(1) is small  # the full frame was not halved again
    assert scale_box(Box(3, 5, 7, 9), 0.5) == Box(1, 2, 4, 5)


def test_classify_on_a_reduced_level_gives_the_mark_in_frame_pixels() -> None:
    seen: list[tuple[tuple[int, ...], Box | None]] = []

    def classify(image: np.ndarray, box: Box | None, label: Box | None) -> Classification:
        seen.append((image.shape, box))
        return Classification(None, {}, mark_box=Box(100, 50, 20, 10))

    result = classify_reduced(classify, Pyramid(_noise(3040, 4056)), Box(400, 400, 2000, 1600))
    assert seen == [((1520, 2028, 3), Box(200, 200, 1000, 800))]
    assert result.mark_box == Box(200, 100, 40, 20)
    seen.clear()
    classify_reduced(classify, Pyramid(_noise(960, 1280)), Box(1, 2, 3, 4))
    assert seen == [((960, 1280, 3), Box(1, 2, 3, 4))]


def test_the_assembler_holds_no_more_full_frames_than_go_downstream() -> None:
    assembler = ParcelAssembler(CaptureConfig(max_frames=6, best_frames=2))
    for i in range(10):
        f = with_lores(Frame(i, i / 30, "", _noise(96, 128, i)))
        assembler.push(f, Presence(True, Box(10, 10, 60, 60)))
        assert len(assembler._held) <= 2
    capture = assembler.push(Frame(11, 1.0, "", _noise(96, 128)), Presence(False))
    assert capture is not None and len(capture.frames) == 2


def _stages(sink: list[Package], package_s: float, fail: set[int]) -> Stages:
    seq = iter(range(1, 1000))
    busy = {"now": 0, "max": 0}
    numbered: dict[int, int] = {}
    lock = threading.Lock()

    def read(capture: ParcelCapture) -> LabelReading:
        time.sleep(0.002 * (capture.capture_id % 3))  # later captures may finish analysing first
        if capture.capture_id in fail:
            raise ValueError("bad parcel")
        return LabelReading((), None)

    def package(record, image, label_box, parcel_box, pyramid=None):  # type: ignore[no-untyped-def]
        numbered[record.seq] = int(image[0, 0, 0])  # the capture id is painted into its frame
        with lock:
            busy["now"] += 1
            busy["max"] = max(busy["max"], busy["now"])
        time.sleep(package_s)
        with lock:
            busy["now"] -= 1
        return Package(record, ())

    class Sink:
        def commit(self, p: Package) -> None:
            sink.append(p)

    stages = Stages(unit="u1", read=read, choose=lambda c, r: (0, QualityReport("p", "parcel", ())),
                    classify=lambda image, box, label: Classification(None, {}, available=False),
                    decide=lambda r, q, c: Verdict("no_read"), package=package,
                    next_seq=lambda: next(seq), sinks=(Sink(),))
    stages.__dict__["busy"], stages.__dict__["numbered"] = busy, numbered
    return stages


def test_numbers_follow_capture_order_and_packaging_runs_in_parallel() -> None:
    sink: list[Package] = []
    stages = _stages(sink, 0.03, fail={4})
    captures = [ParcelCapture(i, (Frame(i, 0.0, "", np.full((8, 8, 3), i, np.uint8)),),
                              (Box(0, 0, 8, 8),), (1.0,)) for i in range(1, 13)]
    tickets = [stages.turns.ticket() for _ in captures]

    def work(ids: list[int]) -> None:
        for i in ids:
            try:
                process_parcel(captures[i], stages, Stats(), tickets[i])
            except ValueError:
                pass

    threads = [threading.Thread(target=work, args=(list(range(k, 12, 2)),)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert [p.record.seq for p in sink] == list(range(1, 12))  # committed in order, no gap
    numbered = stages.__dict__["numbered"]
    assert [numbered[s] for s in sorted(numbered)] == [c for c in range(1, 13) if c != 4]
    assert stages.__dict__["busy"]["max"] == 2  # two packages were being built at once


def test_turns_skip_a_ticket_that_failed() -> None:
    turns = Turns()
    a, b = turns.ticket(), turns.ticket()
    turns.release(a)
    with turns.turn("number", b):
        pass
    with turns.turn("commit", b):
        pass
    assert turns.ticket() == 2


def test_run_waits_on_sources_that_can_wait_and_drops_on_live_ones() -> None:
    assert source_can_wait(EdgeConfig())
    live = EdgeConfig.model_validate({"camera": {"type": "opencv"}})
    assert not source_can_wait(live)


def test_the_capture_queue_is_bounded_in_bytes_and_one_capture_always_fits() -> None:
    from edge.pipeline import _Bytes

    budget = _Bytes(100)
    assert budget.take(150, wait=False)  # alone in the queue: admitted whatever its size
    assert not budget.take(10, wait=False)
    budget.give(150)
    assert budget.take(60, wait=False) and budget.take(40, wait=False)
    assert not budget.take(1, wait=False)
    released = threading.Timer(0.05, budget.give, args=(60,))
    released.start()
    assert budget.take(50, wait=True) and budget.queued == 90  # waited for room


def test_a_large_frame_is_held_as_its_parcel_part_with_the_geometry_kept() -> None:
    from edge.capture import parcel_part
    from edge.quality import assess
    from edge.quality.config import QualityProfile

    image = _noise(3040, 4056)
    part, box = parcel_part(Frame(1, 0.0, "", image), Box(1000, 800, 1200, 1000))
    assert part.image.shape == (1000 + 2 * 120, 1200 + 2 * 120, 3) and part.origin == (880, 680)
    assert part.sensor == (4056, 3040) and box == Box(120, 120, 1200, 1000)
    assert part.image.tobytes() == image[680:1920, 880:2320].tobytes()
    small, same = parcel_part(Frame(1, 0.0, "", _noise(960, 1280)), Box(10, 10, 100, 100))
    assert small.origin == (0, 0) and same == Box(10, 10, 100, 100)
    report = assess(part.image, QualityProfile(), box, sensor=part.sensor, origin=part.origin)
    values = {c.name: c.value for c in report.checks}
    assert values["width"] == 4056 and values["height"] == 3040
    assert values["framing"] == pytest.approx(1000 / 4056, abs=1e-3)  # as in the whole frame


def test_frame_memory_goes_back_to_the_system_on_glibc() -> None:
    from edge.memory import return_frames_to_the_system

    assert return_frames_to_the_system() is (platform.libc_ver()[0] == "glibc")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc" or not Path("/proc/self/status").exists(),
                    reason="malloc tuning is glibc's; RSS is read from Linux's /proc")
def test_frames_go_back_to_the_system_and_working_memory_is_reused() -> None:
    """A 12 MP frame freed leaves RSS at once; a parcel's few-MB working blocks (the OCR
    models' tensors, run without onnxruntime's arena) are reused, not faulted in afresh:
    at a 1 MB mmap threshold each was, and the brand check took twice as long."""
    code = """if True:
        import resource, numpy as np
        from edge.memory import return_frames_to_the_system
        assert return_frames_to_the_system()
        def rss():
            with open('/proc/self/status') as f:
                return next(int(l.split()[1]) for l in f if l.startswith('VmRSS:')) / 1024
        np.ones(4 << 20, np.uint8)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(20):
            block = np.ones(4 << 20, np.uint8)
            del block
        faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20
        frame = np.ones(37 << 20, np.uint8)
        held = rss()
        del frame
        print(faults, held - rss())
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    faults, freed = (float(v) for v in out.stdout.split())
    assert faults < 16  # a 4 MB block is 1024 pages: none faulted in again
    assert freed > 30  # MB: the frame's memory left the process when it was freed


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_a_process_started_from_a_large_one_reports_its_own_peak_memory() -> None:
    """The benchmark's RSS run is started from the benchmark after its 12 MP measurements;
    Linux carries ``ru_maxrss`` across exec, and that run reported its parent's size."""
    held = np.ones(300 * 1024 * 1024, np.uint8)  # 300 MB, touched
    code = ("import resource; from edge.memory import peak_rss_mb; "
            "print(peak_rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    own, inherited = (float(v) for v in out.stdout.split())
    assert held.sum() == held.size
    assert own < 150 and inherited > 300  # the second is what the benchmark used to report


def test_frames_not_chosen_are_freed_before_classify_runs() -> None:
    """Handed over, a capture's other frames go once the quality stage chose one: at 12 MP
    each is ~10 MB, held otherwise through classify and packaging on every worker."""
    images = [np.full((64, 64, 3), i, np.uint8) for i in range(3)]
    refs = [weakref.ref(image) for image in images]
    capture = ParcelCapture(1, tuple(Frame(i, 0.0, "", im) for i, im in enumerate(images)),
                            (Box(0, 0, 64, 64),) * 3, (3.0, 2.0, 1.0))
    del images
    alive: list[bool] = []

    def classify(image: np.ndarray, box: Box, label: Box | None) -> Classification:
        gc.collect()
        alive.extend(r() is not None for r in refs)
        return Classification(None, {}, available=False)

    sink: list[Package] = []
    stages = dataclasses.replace(_stages(sink, 0.0, set()), classify=classify,
                                 choose=lambda c, r: (1, QualityReport("p", "parcel", ())))
    handoff = Handoff(capture)
    del capture
    package = process_parcel(handoff, stages, Stats())
    assert alive == [False, True, False]
    assert sink == [package]
    with pytest.raises(ValueError, match="taken already"):
        handoff.take()


def test_the_path_hands_the_classifier_the_frames_pyramid_at_its_scale() -> None:
    """With the conveyor's scale known, classify gets the level as fine as it was built at and
    the whole pyramid beside it (the packaging network cuts its patches at its training's
    px/mm); without it, the level by size and nothing more."""
    from edge.pyramid import Surface

    image = np.zeros((3040, 4056, 3), np.uint8)
    handed: list[object] = []

    def classify(image: np.ndarray, box: Box, label: Box | None, **extra: object) -> Classification:
        handed.append((image.shape, extra.get("surface")))
        return Classification(None, {}, available=False)

    for field in (600.0, None):
        stages = dataclasses.replace(_stages([], 0.0, set()), classify=classify,
                                     field_of_view_mm=field)
        capture = ParcelCapture(1, (Frame(0, 0.0, "", image),), (Box(800, 600, 2000, 1500),), (1.0,))
        process_parcel(capture, stages, Stats())
    (shape, surface), (by_size, none) = handed
    # over 600 mm the full frame is the level as fine as the classifier's 6.4 px/mm; without a
    # field of view the level is chosen by size (2028 px: half that resolution)
    assert shape == (3040, 4056, 3) and by_size == (1520, 2028, 3) and none is None
    assert isinstance(surface, Surface) and surface.px_per_mm == pytest.approx(6.76)
    assert surface.box == Box(800, 600, 2000, 1500) and surface.pyramid.image is image
    assert surface.level_at_least(6.4) == 0
