"""The path at a given frame size beside the floors of its parts and a plain zxing-cpp loop.

Every figure is CPU time of one thread (``time.thread_time``) with OpenCV and
onnxruntime held to one thread, so "per core" means what it says and the
figures do not move with what else loads the machine; only the durable
commit and the fsync floor are wall time (they wait on the disk, not a core).

Per parcel, on the same capture:
- the path: decode, quality, classify, rules, package, commit; the
  capture side's work per camera frame (low-resolution copy, presence,
  scoring) is a cost per frame whatever the parcel rate, reported apart;
- the floors of its parts: zxing-cpp alone on the parcel region of the best
  frame, the two ONNX models alone on inputs already at their size, the OCR
  engine's ONNX models (line detection, orientation, recognition) alone on
  the very tensors the path gave them, OpenCV's JPEG encoder alone on the
  shipped views' pixels, write + fsync of the files;
- a picamera2-example-style loop on the best frame: zxing-cpp on the frame,
  one JPEG of it, the JPEG and a small JSON written and fsync'd (the loop's
  publish, made durable as the path's commit is).
Captures are processed as they come off the synthetic belt, so at 12 MP the
bench holds one parcel's frames at a time.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import cv2
import numpy as np

from edge.camera import EndOfStream
from edge.capture import with_lores
from edge.config import EdgeConfig
from edge.process import Stages, process_parcel
from edge.records import ParcelCapture
from edge.stats import Stats, percentile

PARTS = ("decode", "quality", "classify", "rules", "package", "commit")
FLOORS = ("zxing", "onnx", "ocr", "imencode", "fsync")
WARM_UP = 2


@dataclass
class SizeResult:
    """Per-parcel samples (ms) at one frame size."""

    width: int
    height: int
    path: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in PARTS})
    frame_ms: list[float] = field(default_factory=list)
    floors: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in FLOORS})
    loop_cpu: list[float] = field(default_factory=list)
    loop_wall: list[float] = field(default_factory=list)
    read: int = 0
    loop_read: int = 0
    parcels: int = 0

    def summary(self) -> dict[str, Any]:
        if not self.parcels:
            raise ValueError(f"no parcel was captured at {self.width}x{self.height}")
        med = {k: percentile(v, 50) for k, v in {**self.path, **self.floors}.items()}
        path_cpu = sum(med[k] for k in PARTS if k != "commit")
        path = path_cpu + med["commit"]
        floors = sum(med[k] for k in FLOORS)
        loop_cpu = percentile(self.loop_cpu, 50)
        return {
            "size": f"{self.width}x{self.height}", "parcels": self.parcels,
            "median_ms": {k: round(v, 2) for k, v in med.items()},
            "path_ms": round(path, 2), "path_cpu_ms": round(path_cpu, 2),
            "floors_ms": round(floors, 2), "path_over_floors": round(path / floors, 2),
            # as this figure was first defined, before the brand check ran OCR models
            "path_over_floors_without_ocr": round(path / max(floors - med["ocr"], 1e-6), 2),
            "parcels_per_cpu_s": round(1000.0 / path_cpu, 1),
            # the most any path could do here: its parts' CPU floors and nothing around them
            # (fsync is the commit's wall time, not CPU); a target above it needs cheaper parts
            "floors_per_cpu_s": round(1000.0 / max(floors - med["fsync"], 1e-6), 1),
            "loop_ms": round(loop_cpu + percentile(self.loop_wall, 50), 2),
            "loop_cpu_ms": round(loop_cpu, 2),
            "loop_parcels_per_cpu_s": round(1000.0 / loop_cpu, 1),
            "path_over_loop_per_cpu_s": round(loop_cpu / path_cpu, 2),
            "read": self.read, "loop_read": self.loop_read,
            # parcels whose reference was read, per CPU-second: what a unit is bought for
            "read_per_cpu_s": round(self.read / self.parcels * 1000.0 / path_cpu, 1),
            "loop_read_per_cpu_s": round(self.loop_read / self.parcels * 1000.0 / loop_cpu, 1),
            "frame_cpu_ms": round(percentile(self.frame_ms, 50), 3),
        }


class _Timed:
    """Wraps a stage callable and adds its thread CPU ms to a list."""

    def __init__(self, fn: Callable[..., Any], into: list[float]) -> None:
        self.fn, self.into = fn, into

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        cpu = time.thread_time()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.into.append((time.thread_time() - cpu) * 1000.0)


class _TimedSink:
    def __init__(self, sink: Any, into: list[float]) -> None:
        self.sink, self.into = sink, into

    def commit(self, package: Any) -> None:
        started = time.perf_counter()
        self.sink.commit(package)
        self.into.append((time.perf_counter() - started) * 1000.0)


def sized(cfg: EdgeConfig, width: int, height: int, true_scale: bool = False) -> EdgeConfig:
    """``cfg`` with the synthetic camera at ``width`` x ``height`` and one classifier thread.

    The field of view stays the config's, so a wider sensor draws the same belt finer: the
    demo's 200 mm at 4056 px puts 6.7 px on a bar, three times what a Pi HQ camera over a
    600 mm belt gives.  With ``true_scale`` the field widens with the sensor instead and a
    bar keeps the config's pixels (200 mm at 1280 px becomes 634 mm at 4056 px): the belt a
    sensor that size is bought for.
    """
    conveyor = cfg.conveyor
    if true_scale:
        conveyor = conveyor.model_copy(update={
            "field_of_view_mm": conveyor.field_of_view_mm * width / cfg.camera.width})
    return cfg.model_copy(update={
        "camera": cfg.camera.model_copy(update={"width": width, "height": height}),
        "classify": cfg.classify.model_copy(update={"threads": 1}),
        "conveyor": conveyor,
    })


def _captures(cfg: EdgeConfig, frame_ms: list[float]) -> Iterator[ParcelCapture]:
    """Captures off the synthetic belt; the capture side's CPU per frame into ``frame_ms``."""
    from edge.app import build_capture

    camera, trigger, assembler = build_capture(cfg)
    camera.start()
    try:
        while True:
            frame = camera.read(1.0)
            if frame is None:
                continue
            cpu = time.thread_time()
            frame = with_lores(frame)
            capture = assembler.push(frame, trigger.observe(frame))
            frame_ms.append((time.thread_time() - cpu) * 1000.0)
            if capture is not None:
                yield capture
    except EndOfStream:
        return
    finally:
        camera.stop()
        trigger.close()


def measure(cfg: EdgeConfig, parcels: int, data_dir: Path) -> SizeResult:
    """``parcels`` parcels at the config's frame size: path, floors and loop on each."""
    from edge.app import build_stages
    from edge.classify import load_classifier
    from edge.outbox import Outbox

    cfg = cfg.model_copy(update={"camera": cfg.camera.model_copy(
        update={"parcels": parcels + WARM_UP + 2})})
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    result = SizeResult(cfg.camera.width, cfg.camera.height)
    outbox = Outbox(cfg.outbox, data_dir / f"outbox-{result.width}")
    try:
        classifier = load_classifier(cfg.classify)
        ocr_inputs = _record_ocr(classifier)
        stages = _timed(build_stages(cfg, outbox.next_seq, (outbox,), Stats(), classifier),
                        result.path)
        warm = WARM_UP
        for capture in _captures(cfg, result.frame_ms):
            stats = Stats()
            ocr_inputs.clear()
            package = process_parcel(capture, stages, stats)
            result.floors["ocr"].append(_replayed(ocr_inputs))
            if warm:
                warm -= 1
                for v in (*result.path.values(), result.floors["ocr"]):
                    v.clear()
                continue
            result.read += stats.count("read")
            _floors(capture, package, classifier, cfg, data_dir, result.floors)
            _loop(capture, data_dir, result)
            result.parcels += 1
            if result.parcels >= parcels:
                break
    finally:
        outbox.close()
        cv2.setNumThreads(threads)
    return result


def _timed(stages: Stages, into: dict[str, list[float]]) -> Stages:
    return dataclasses.replace(
        stages, read=_Timed(stages.read, into["decode"]),
        choose=_Timed(stages.choose, into["quality"]),
        classify=_Timed(stages.classify, into["classify"]),
        decide=_Timed(stages.decide, into["rules"]),
        package=_Timed(stages.package, into["package"]),
        sinks=tuple(_TimedSink(s, into["commit"]) for s in stages.sinks))


def _cpu_ms(fn: Callable[[], Any]) -> float:
    cpu = time.thread_time()
    fn()
    return (time.thread_time() - cpu) * 1000.0


def _floors(capture: ParcelCapture, package: Any, classifier: Any, cfg: EdgeConfig,
            data_dir: Path, into: dict[str, list[float]]) -> None:
    import zxingcpp

    frame, box = capture.frames[0].image, capture.boxes[0]
    region = np.ascontiguousarray(frame[box.y:box.y + box.h, box.x:box.x + box.w])
    into["zxing"].append(_cpu_ms(lambda: zxingcpp.read_barcodes(region)))
    into["onnx"].append(_onnx_floor(classifier))
    views = [cv2.imdecode(np.frombuffer(f.data, np.uint8), cv2.IMREAD_COLOR)
             for f in package.files if f.content_type == "image/jpeg"]
    quality = [cv2.IMWRITE_JPEG_QUALITY, cfg.quality.jpeg_quality]
    into["imencode"].append(sum(_cpu_ms(lambda v=v: cv2.imencode(".jpg", v, quality))
                                for v in views))
    into["fsync"].append(_write_fsync(data_dir / "floor", [(f.name, f.data) for f in package.files]))


def _onnx_floor(classifier: Any) -> float:
    """The models the path runs, alone, on inputs already at their size: with a catalogue and a
    surface network only that network (the brand check's OCR is floored apart), else the
    locator and mark classifier (what :meth:`run_inputs` times)."""
    m = classifier.manifest
    if m is None:
        return 0.0
    if m.surface is not None and classifier.catalogue is not None:
        side = m.surface.input.height
        patches = np.full((m.surface_patches, side, side, 3), 128, np.uint8)
        return _cpu_ms(lambda: classifier.run_surface(patches))
    thumb = np.full((m.locator.input.height, m.locator.input.width, 3), 128, np.uint8)
    marks = [np.full((m.model.input.height, m.model.input.width, 3), 128, np.uint8)] * max(
        1, m.locator_candidates)
    return _cpu_ms(lambda: classifier.run_inputs(thumb, marks))


def _record_ocr(classifier: Any) -> list[tuple[Any, np.ndarray]]:
    """Every (session, input) the classifier's OCR models are given, in a list kept for
    :func:`_replayed`; an engine without ONNX models (tesseract) records nothing."""
    inputs: list[tuple[Any, np.ndarray]] = []

    def wrap(_role: str, session: Any) -> Callable[[np.ndarray], Any]:
        def recorded(x: np.ndarray) -> Any:
            inputs.append((session, x))
            return session(x)
        return recorded

    if hasattr(classifier.ocr, "wrap_models"):
        classifier.ocr.wrap_models(wrap)
    return inputs


def _replayed(inputs: list[tuple[Any, np.ndarray]]) -> float:
    """The OCR models alone on the parcel's recorded inputs: the floor of the brand check."""
    return sum(_cpu_ms(lambda s=session, x=x: s(x)) for session, x in inputs)


def _write_fsync(folder: Path, files: list[tuple[str, bytes]]) -> float:
    """Each file written and fsync'd, then the folder: the least a durable commit does."""
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for name, data in files:
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    dfd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return (time.perf_counter() - started) * 1000.0


def _loop(capture: ParcelCapture, data_dir: Path, result: SizeResult) -> None:
    """The picamera2 example's loop on the best frame: decode, JPEG, publish (durably)."""
    import zxingcpp

    from edge.identify import identify
    from edge.identify.reference import best_reference

    frame = capture.frames[0].image
    cpu = time.thread_time()
    found = zxingcpp.read_barcodes(frame)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    message = json.dumps({"seq": capture.capture_id, "codes": [b.text for b in found]}).encode()
    result.loop_cpu.append((time.thread_time() - cpu) * 1000.0)
    result.loop_wall.append(_write_fsync(data_dir / "loop", [("frame.jpg", jpeg.tobytes()),
                                                             ("frame.json", message)]))
    reference = best_reference([identify(b.text) for b in found])
    result.loop_read += int(reference is not None and reference.valid)


FULL_RES_FPS = 10.0
"""Frames per second of a 12 MP sensor at full resolution (the Pi HQ camera's mode)."""


def record_frames(cfg: EdgeConfig, parcels: int, folder: Path) -> int:
    """The synthetic belt's frames for ``parcels`` parcels written as JPEG files.

    The whole unit's memory is then measured replaying them, as from a
    camera: the generator's own buffers (a 12 MP belt, parcel sprites) are
    no part of a unit's footprint.
    """
    from edge.camera import open_camera, CameraContext

    big = cfg.camera.width * cfg.camera.height > 4_000_000
    camera_cfg = cfg.camera.model_copy(update={"parcels": parcels, "realtime": False,
                                               **({"fps": FULL_RES_FPS} if big else {})})
    camera = open_camera(camera_cfg, CameraContext(conveyor=cfg.conveyor, seed=0))
    folder.mkdir(parents=True, exist_ok=True)
    camera.start()
    n = 0
    try:
        while True:
            frame = camera.read(1.0)
            if frame is not None:
                cv2.imwrite(str(folder / f"{n:06d}.jpg"), frame.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
                n += 1
    except EndOfStream:
        pass
    finally:
        camera.stop()
    return n


def replaying(cfg: EdgeConfig, folder: Path) -> EdgeConfig:
    """``cfg`` with a replay camera on ``folder``, as fast as frames are read.

    Replayed frames are stamped when read, and the source waits on the path
    (backpressure), so the jam limit on a parcel's time in view is lifted.
    """
    from edge.camera.replay import Config as ReplayConfig

    return cfg.model_copy(update={"camera": ReplayConfig(path=folder, fps=0),
                                  "capture": cfg.capture.model_copy(update={"max_parcel_s": 120.0})})


def temporary_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="parcel-edge-bench-")
