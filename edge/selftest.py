"""The start-up self-test: what must work before the unit tells systemd it is ready.

Run once at every start, before ``READY=1``: a frame from the camera (the
unit's own capture loop is already running, so the very camera that will see
parcels is tested, not a second handle on it), a built-in label decoded by the
configured readers, the model's golden inputs, which OCR models the brand check
runs (not required), a durable write in the outbox,
and the broker tried (a TCP connection; not required: the outbox holds parcels
until it comes back).  The result goes on ``status`` (``selftest``), into the
log and into ``systemctl status``; failing checks are errors in the log and on
status, and the unit runs anyway: a unit that reads labels without a model is
worth more than one that stops.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from edge.durable import fsync_dir, write_atomic

log = logging.getLogger(__name__)

# A UPU S10 item id with a valid check digit (8-6-4-2-3-5-9-7 weights): 12345678 -> 5.
TEST_REFERENCE = "RR123456785GB"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    ms: float
    detail: str
    required: bool = True


@dataclass(frozen=True)
class SelfTest:
    ok: bool
    ms: float
    checks: tuple[Check, ...]

    def summary(self) -> str:
        failed = [c.name for c in self.checks if not c.ok]
        head = "self-test passed" if self.ok else f"self-test FAILED ({', '.join(failed)})"
        return f"{head} in {self.ms:.0f} ms"

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "ms": round(self.ms, 1), "checks": [asdict(c) for c in self.checks]}


def timed(name: str, fn: Callable[[], str], required: bool = True) -> Check:
    """Run one check; its exception text is the detail of a failure."""
    started = time.perf_counter()
    try:
        detail, ok = fn(), True
    except Exception as exc:  # every failure is a finding, never a crash
        detail, ok = f"{exc.__class__.__name__}: {exc}", False
    return Check(name, ok, round((time.perf_counter() - started) * 1000.0, 1), detail[:300],
                 required)


def camera_frame(frames: Callable[[], int], timeout_s: float, describe: Callable[[], str]) -> str:
    """Waits for the running capture loop to count a frame."""
    deadline = time.monotonic() + timeout_s
    while frames() < 1:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no frame within {timeout_s:.0f} s")
        time.sleep(0.02)
    return describe()


def test_label() -> np.ndarray:
    """A shipping label with the test reference, rendered by the synthetic generator."""
    from edge.synth.label import LabelSpec, render_label

    spec = LabelSpec(kind="upu_s10", value=TEST_REFERENCE, content=TEST_REFERENCE, gs1=False,
                     hrt=TEST_REFERENCE, header="PRIORITY / SELF-TEST",
                     sender=("PARCEL-EDGE", "SELF TEST"), addressee=("TEST LABEL", "NOWHERE"),
                     declared=("test", 0.0, "XX", "documents"), module_px=3)
    return render_label(spec).image


def label_decoded(decode_cfg: Any) -> str:
    from edge.decode import LabelReader

    reading = LabelReader(decode_cfg).read_image(test_label())
    ref = reading.reference
    if ref is None or ref.value != TEST_REFERENCE or not ref.valid:
        raise ValueError(f"test label read as {ref.value if ref else None!r}, "
                         f"expected {TEST_REFERENCE}")
    return f"{TEST_REFERENCE} read ({len(reading.symbols)} symbols)"


def golden(running: Any, model_dir: Path) -> str:
    """The running model's golden inputs: under updates, the store's version, not the config's."""
    from edge.classify.golden import check_golden

    classifier = getattr(running, "classifier", running)  # an update slot holds the classifier
    model_dir = getattr(classifier, "model_dir", None) or model_dir
    problems = check_golden(classifier, model_dir)
    if problems:
        raise ValueError("; ".join(problems[:3]))
    info = classifier.info
    return f"{len(classifier.manifest.golden)} golden inputs match ({info.name} {info.version})"


def ocr_models() -> str:
    """Whether the brand check reads with the fused OCR models or, slower, the wheel's own
    (after an OS or pip upgrade brought another rapidocr-onnxruntime, say)."""
    from edge import ocr_models

    found, why = ocr_models.checked(ocr_models.FUSED_DIR)  # as the engines found them
    if not found:
        raise ocr_models.OcrModelsError(f"{why}; the wheel's own models run, about 30% slower")
    return f"fused PP-OCR models ({', '.join(found)}) from {ocr_models.FUSED_DIR}"


def outbox_writable(root: Path) -> str:
    probe = root / ".selftest"
    started = time.perf_counter()
    write_atomic(probe, b"parcel-edge self-test\n")
    fsync_dir(root)
    probe.unlink()
    free = os.statvfs(root)
    return (f"durable write {1000 * (time.perf_counter() - started):.1f} ms, "
            f"{free.f_bavail * free.f_frsize // 2**20} MB free")


def broker_reachable(host: str, port: int, timeout_s: float = 3.0) -> str:
    with socket.create_connection((host, port), timeout=timeout_s):
        return f"{host}:{port} accepts connections"


def run_selftest(cfg: Any, unit: Any, frame_timeout_s: float = 15.0) -> SelfTest:
    """All checks on a built, running unit; logs the outcome line by line."""
    started = time.perf_counter()
    checks = [timed("camera", lambda: camera_frame(lambda: unit.stats.count("frames"),
                                                   frame_timeout_s, unit.camera_identity)),
              timed("label", lambda: label_decoded(cfg.decode))]
    if cfg.classify.enabled:
        checks.append(timed("model", lambda: golden(unit.classifier, cfg.classify.model_dir)))
        if cfg.classify.ocr_engine == "rapidocr":
            checks.append(timed("ocr", ocr_models, required=False))
    checks.append(timed("outbox", lambda: outbox_writable(unit.outbox.root)))
    if cfg.mqtt is not None:
        checks.append(timed("broker", lambda: broker_reachable(cfg.mqtt.host, cfg.mqtt.port),
                            required=False))
    result = SelfTest(all(c.ok for c in checks if c.required),
                      round((time.perf_counter() - started) * 1000.0, 1), tuple(checks))
    for c in checks:
        level = logging.INFO if c.ok else (logging.ERROR if c.required else logging.WARNING)
        log.log(level, "self-test %s: %s (%.0f ms): %s", c.name, "ok" if c.ok else "FAILED",
                c.ms, c.detail)
    log.log(logging.INFO if result.ok else logging.ERROR, "%s", result.summary())
    return result
