"""The composition root: the one place that builds every part from the config and wires it.

Nothing else in the package constructs a backend or reads the config as a
whole; hardware comes in through ``hardware`` (a fake picamera2 module, a
gpiozero mock pin factory) so tests wire the very same unit.
"""
from __future__ import annotations

import logging
import threading
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
    closers: list[Callable[[], None]] = field(default_factory=list)

    def run(self, stop: threading.Event) -> int:
        if self.publisher is not None:
            self.publisher.start()
        try:
            return self.pipeline.run(stop)
        finally:
            self.close()

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
                 stats: Stats) -> Stages:
    """The per-parcel stages; a model that fails to load leaves classification unavailable."""
    from edge.classify import load_classifier
    from edge.decode import LabelReader
    from edge.package import build_package
    from edge.quality import choose_frame
    from edge.rules import decide, load_rules

    classifier = load_classifier(cfg.classify)
    info = classifier.info
    stats.gauge("model", {"name": info.name, "version": info.version, "sha256": info.sha256}
                if info else {"available": False, "error": classifier.error})
    if not classifier.available:
        stats.error("model_unavailable")
    rules = load_rules(cfg.rules)
    readers = PerThread(partial(LabelReader, cfg.decode))
    return Stages(
        unit=cfg.unit.id, read=partial(_read, readers=readers),
        choose=partial(_choose, profile=cfg.quality, choose_frame=choose_frame),
        classify=classifier.classify,
        decide=partial(_decide, rules=rules, decide=decide),
        package=partial(_package, profile=cfg.quality, cfg=cfg.package, build=build_package),
        next_seq=next_seq, sinks=sinks)


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


def _package(record: Any, image: Any, label_box: Any, parcel_box: Any, *, profile: Any,
             cfg: Any, build: Callable) -> Any:
    return build(record, image, label_box, profile, cfg, parcel_box=parcel_box)


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
               extra_sinks: tuple[Sink, ...] = (), backpressure: bool = False,
               with_publisher: bool = True, seed: int = 0,
               on_package: Callable[[Package], None] | None = None,
               commands: dict[str, Callable[..., Any]] | None = None) -> Unit:
    """Build the whole unit.  ``backpressure`` suits sources that can wait (replay, synthetic)."""
    from edge.outbox import Outbox

    stats = Stats()
    camera, trigger, assembler = build_capture(cfg, hardware, seed)
    outbox = Outbox(cfg.outbox, cfg.unit.data_dir / "outbox")
    stages = build_stages(cfg, outbox.next_seq, (outbox, *extra_sinks), stats)
    settings = LoopSettings(cfg.pipeline.capture_queue, cfg.pipeline.frame_timeout_s,
                            cfg.pipeline.camera_retries, backpressure,
                            workers=cfg.pipeline.workers)
    pipeline = Pipeline(camera, trigger, assembler, stages, stats, settings, on_package)
    unit = Unit(cfg, stats, pipeline, outbox)
    unit.closers.append(outbox.close)
    if with_publisher and cfg.mqtt is not None:
        handlers = {"test-capture": partial(_test_capture, pipeline),
                    "resend": resend_command(outbox), **(commands or {})}
        unit.publisher = _build_publisher(cfg, outbox, stats, handlers)
        unit.closers.append(unit.publisher.stop)
    return unit


def _test_capture(pipeline: Pipeline, args: Any) -> dict[str, str]:
    pipeline.request_test_capture()
    return {"result": "the next frame is captured as a test parcel"}


def _build_publisher(cfg: EdgeConfig, outbox: Any, stats: Stats,
                     commands: dict[str, Callable[..., Any]]) -> Any:
    from edge.publish import Publisher

    return Publisher(cfg.mqtt, outbox, unit=cfg.unit.id, status=stats.snapshot,
                     status_cfg=cfg.status, commands=commands)
