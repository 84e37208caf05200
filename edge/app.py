"""The composition root: the one place that builds every part from the config and wires it.

Nothing else in the package constructs a backend or reads the config as a
whole; hardware comes in through ``hardware`` (a fake picamera2 module, a
gpiozero mock pin factory) so tests wire the very same unit.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable

from edge.camera import CameraContext, open_camera
from edge.config import EdgeConfig
from edge.outbox.resend import resend_command
from edge.pipeline import LoopSettings, Pipeline
from edge.process import Sink, Stages
from edge.records import Package
from edge.stats import Stats
from edge.trigger import TriggerContext, open_trigger

log = logging.getLogger(__name__)


@dataclass
class Unit:
    """A built unit: run it once with a stop event; it closes what it opened."""

    cfg: EdgeConfig
    stats: Stats
    pipeline: Pipeline
    outbox: Any
    publisher: Any | None = None
    updater: Any | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)
    classifier: Any = None
    camera: Any = None

    def camera_identity(self) -> str:
        """One line for the self-test and the log: which camera, what exposure."""
        from edge.camera import identity

        info = identity(self.camera)
        self.stats.gauge("camera", info)
        return ", ".join(f"{k} {v}" for k, v in info.items() if v is not None)

    def run(self, stop: threading.Event, drain_s: float | None = None) -> int:
        """Until ``stop`` or the camera ends; ``drain_s``: then wait that long for delivery."""
        if self.publisher is not None:
            self.publisher.start()
        try:
            code = self.pipeline.run(stop)
            if drain_s is not None and self.publisher is not None and not stop.is_set():
                code = code or self._drain(stop, drain_s)
            return code
        finally:
            self.close()

    def _drain(self, stop: threading.Event, timeout_s: float) -> int:
        """Wait until the broker acknowledged everything; 1 if the outbox is still not empty."""
        deadline = time.monotonic() + timeout_s
        while (depth := self.outbox.stats()["depth"]) and time.monotonic() < deadline:
            if stop.wait(0.2):
                break
        if depth:
            log.error("drain: %d items still in the outbox after %.0f s", depth, timeout_s)
            return 1
        log.info("drain: the outbox is delivered")
        return 0

    def close(self) -> None:
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception as exc:  # one failing close must not skip the others
                log.warning("shutdown step failed: %s", exc)
        self.closers.clear()


class FolderSink:
    """Writes each package into a folder people can browse (demo, ``process --out``)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir

    def commit(self, package: Package) -> None:
        from edge.package import write_package

        write_package(package, self.out_dir)


def build_stages(cfg: EdgeConfig, next_seq: Callable[[], int], sinks: tuple[Sink, ...],
                 stats: Stats, classifier: Any = None) -> Stages:
    """The per-parcel stages; a model that fails to load leaves classification unavailable.

    ``classifier`` is the update slot when over-the-air updates are on (it swaps
    models between two parcels); otherwise the model in ``classify.model_dir``.
    """
    from edge.classify import load_classifier
    from edge.config import expected_blur_px, module_px
    from edge.decode import LabelReader
    from edge.package import build_package
    from edge.quality import choose_frame
    from edge.rules import decide, load_rules

    if classifier is None:
        classifier = load_classifier(cfg.classify)
    model_gauge(stats, classifier)
    if not classifier.available:
        stats.error("model_unavailable")
    rules = load_rules(cfg.rules)
    readers = PerThread(partial(LabelReader, cfg.decode, blur_prior_px=expected_blur_px(cfg),
                                 module_px=module_px(cfg)))
    return Stages(
        unit=cfg.unit.id, read=partial(_read, readers=readers),
        choose=partial(_choose, profile=cfg.quality, choose_frame=choose_frame),
        classify=classifier.classify,
        decide=partial(_decide, rules=rules, decide=decide),
        package=partial(_package, profile=cfg.quality, cfg=cfg.package, build=build_package),
        next_seq=next_seq, sinks=sinks,
        field_of_view_mm=cfg.conveyor.field_of_view_mm)


def model_gauge(stats: Stats, classifier: Any) -> None:
    """The model the path runs now, in ``status`` (set again on every swap)."""
    info = classifier.info
    stats.gauge("model", {"name": info.name, "version": info.version, "sha256": info.sha256}
                if info else {"available": False, "error": classifier.error})


class PerThread:
    """One object per path worker, made on first use in that thread.

    The label reader keeps an OpenCV barcode detector and counters, neither
    safe to share, while ``pipeline.workers`` runs several parcels at once.
    """

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._local = threading.local()

    def get(self) -> Any:
        obj = getattr(self._local, "obj", None)
        if obj is None:
            obj = self._local.obj = self._make()
        return obj


def _read(capture: Any, *, readers: PerThread) -> Any:
    return readers.get().read(capture)


def _choose(capture: Any, reading: Any, *, profile: Any, choose_frame: Callable) -> Any:
    return choose_frame(capture, reading, profile)


def _decide(reading: Any, report: Any, classification: Any, *, rules: Any,
            decide: Callable) -> Any:
    return decide(reading, report, classification, rules)


def _package(record: Any, image: Any, paper: Any, parcel_box: Any, *, profile: Any,
             cfg: Any, build: Callable, pyramid: Any = None) -> Any:
    """The path hands over the label's paper, followed once for the brand check and this."""
    return build(record, image, paper, profile, cfg, parcel_box=parcel_box, pyramid=pyramid,
                 located=True)


def build_capture(cfg: EdgeConfig, hardware: dict[str, Any] | None = None, seed: int = 0
                  ) -> tuple[Any, Any, Any]:
    """Camera, trigger and parcel assembler: the capture side of the unit."""
    from edge.capture import ParcelAssembler

    hardware = dict(hardware or {})
    camera = open_camera(cfg.camera, CameraContext(conveyor=cfg.conveyor, seed=seed,
                                                   hardware=hardware))
    trigger = open_trigger(cfg.trigger, TriggerContext(hardware=hardware))
    return camera, trigger, ParcelAssembler(cfg.capture, trigger=cfg.trigger.type)


def build_unit(cfg: EdgeConfig, *, hardware: dict[str, Any] | None = None,
               extra_sinks: tuple[Sink, ...] = (), backpressure: bool | None = None,
               with_publisher: bool = True, seed: int = 0,
               on_package: Callable[[Package], None] | None = None,
               commands: dict[str, Callable[..., Any]] | None = None) -> Unit:
    """Build the whole unit.

    ``backpressure`` (default: whether the source can wait, see
    :func:`source_can_wait`) makes a full capture queue hold the camera back
    instead of dropping a parcel.
    """
    from edge.classify import load_classifier
    from edge.memory import return_frames_to_the_system
    from edge.outbox import Outbox

    return_frames_to_the_system()
    if backpressure is None:
        backpressure = source_can_wait(cfg)

    stats = Stats()
    camera, trigger, assembler = build_capture(cfg, hardware, seed)
    outbox = Outbox(cfg.outbox, cfg.unit.data_dir / "outbox")
    updater = _build_updater(cfg, stats)
    classifier = updater.slot if updater else load_classifier(cfg.classify)
    try:
        stages = build_stages(cfg, outbox.next_seq, (outbox, *extra_sinks), stats, classifier)
    except Exception:
        outbox.close()
        if updater:
            updater.close()
        raise
    settings = LoopSettings(cfg.pipeline.capture_queue, cfg.pipeline.frame_timeout_s,
                            cfg.pipeline.camera_retries, backpressure,
                            workers=cfg.pipeline.workers, stall_s=cfg.pipeline.camera_stall_s,
                            queue_bytes=cfg.pipeline.capture_queue_mb * 1_000_000)
    pipeline = Pipeline(camera, trigger, assembler, stages, stats, settings, on_package)
    unit = Unit(cfg, stats, pipeline, outbox, classifier=classifier, camera=camera)
    outbox.start_housekeeping(cfg.outbox.housekeeping_s)
    unit.closers.append(outbox.close)
    if updater is not None:
        unit.updater = updater
        updater.start()
        unit.closers.append(updater.close)
        commands = {**updater.commands(), **(commands or {})}
    if with_publisher and cfg.mqtt is not None:
        handlers = {"test-capture": partial(_test_capture, pipeline),
                    "resend": resend_command(outbox), **(commands or {})}
        unit.publisher = _build_publisher(cfg, outbox, stats, handlers)
        unit.closers.append(unit.publisher.stop)
    return unit


def _build_updater(cfg: EdgeConfig, stats: Stats) -> Any:
    """Signed model updates (``update.enabled``): the store's current version in a swappable slot."""
    if not cfg.update.enabled:
        return None
    from edge.update import build_updater

    return build_updater(cfg, partial(model_gauge, stats))


WAITING_SOURCES = ("synthetic", "replay")


def source_can_wait(cfg: EdgeConfig) -> bool:
    """A synthetic belt or a replayed recording can be paused; a live camera's belt cannot."""
    return cfg.camera.type in WAITING_SOURCES


def _test_capture(pipeline: Pipeline, args: Any) -> dict[str, str]:
    from edge.publish.commands import CommandError

    if not pipeline.request_test_capture():
        raise CommandError("busy: a test capture is already pending or in the path")
    return {"result": "the next frame is captured as a test parcel"}


def _build_publisher(cfg: EdgeConfig, outbox: Any, stats: Stats,
                     commands: dict[str, Callable[..., Any]]) -> Any:
    from edge.publish import Publisher

    return Publisher(cfg.mqtt, outbox, unit=cfg.unit.id, status=stats.snapshot,
                     status_cfg=cfg.status, commands=commands)
