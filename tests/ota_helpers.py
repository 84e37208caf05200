"""Bundles for the update tests: real keys, the shipped model, edits a tamperer would make."""
from __future__ import annotations

import json
import shutil
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import cv2

from edge.update import signing
from edge.update.bundle import MANIFEST_FILE, SIGNATURES_FILE, build_manifest

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "models" / "current"
# The shipped model's own version: what a unit runs before any update.
SHIPPED_VERSION = json.loads((SHIPPED / "manifest.json").read_text())["version"]
CATALOGUE = REPO / "models" / "catalogue"


def model_copy(dest: Path, edit: Callable[[dict], None] | None = None) -> Path:
    """The shipped model folder, its own manifest edited (thresholds, version) if asked."""
    shutil.copytree(SHIPPED, dest)
    if edit is not None:
        manifest = json.loads((dest / "manifest.json").read_text())
        edit(manifest)
        (dest / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return dest


def catalogue_copy(dest: Path, edit: Callable[[dict], None]) -> Path:
    """The shipped brand catalogue, its ``catalogue.json`` edited."""
    shutil.copytree(CATALOGUE, dest)
    body = json.loads((dest / "catalogue.json").read_text())
    edit(body)
    (dest / "catalogue.json").write_text(json.dumps(body, indent=1))
    return dest


def names_nobody_prints(catalogue: dict) -> None:
    """A broken catalogue that still validates: its names match no mark, so nothing is flagged.

    The verdict is the brand check's (the words read, measured against the
    catalogue), so a bad catalogue is what turns a unit's verdict mix over.
    """
    for n, brand in enumerate(catalogue["brands"]):
        brand["name"] = brand["spellings"][0] = f"QWXZ{n}"
    catalogue["version"] = "9.9.9"


def make_bundle(root: Path, version: str, keys: list[Any], *, model: Path | None = None,
                catalogue: Path | None = None, valid_days: float = 30.0,
                now: datetime | None = None, name: str = "models") -> Path:
    out = root / f"bundle-{version}-{len(list(root.glob('bundle-*')))}"
    out.mkdir(parents=True)
    sources = {}
    if model is not None or catalogue is None:
        shutil.copytree(model or SHIPPED, out / "model")
        sources["model"] = out / "model"
    if catalogue is not None:
        shutil.copytree(catalogue, out / "catalogue")
        sources["catalogue"] = out / "catalogue"
    data = build_manifest(name, version, sources, valid_days=valid_days, requires={"edge": "0.1.0"},
                          now=now)
    (out / MANIFEST_FILE).write_bytes(data)
    sigs = [signing.sign(k, data).to_json() for k in keys]
    (out / SIGNATURES_FILE).write_text(json.dumps(sigs))
    return out


def expired(root: Path, keys: list[Any]) -> Path:
    return make_bundle(root, "5.0.0", keys, valid_days=1,
                       now=datetime.now(timezone.utc) - timedelta(days=3))


def unit_yaml(tmp: Path, keys: list[Any], *, port: int | None = None, extra: str = "",
              threshold: int = 1) -> str:
    trusted = ", ".join(signing.public_b64(k) for k in keys)
    mqtt = f"mqtt: {{host: 127.0.0.1, port: {port}, backoff_min_s: 0.1, backoff_max_s: 0.5}}\n" \
        if port else ""
    return (f"unit: {{id: u1, data_dir: {tmp / 'data'}}}\n"
            f"classify: {{model_dir: {SHIPPED}}}\n{mqtt}"
            f"update:\n  enabled: true\n  trusted_keys: [{trusted}]\n  threshold: {threshold}\n"
            # the machine running the suite may be loaded many times over: time is not judged here
            "  warmup_budget_ms: 20000\n"
            f"{extra}")


def golden_parcels() -> list[Any]:
    return [cv2.imread(str(p)) for p in sorted(SHIPPED.glob("golden_*_parcel.png"))]


def wait_for(check: Callable[[], Any], timeout: float = 120.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return check()


class Feeder:
    """Live parcels through the slot from several threads, as the path's workers would."""

    def __init__(self, slot: Any, threads: int = 2, images: list[Any] | None = None) -> None:
        self.slot = slot
        self.images = images or golden_parcels()
        self.results: list[Any] = []
        self.calls = 0
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                         for i in range(threads)]

    def __enter__(self) -> "Feeder":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(10)

    def _run(self, n: int) -> None:
        i = n
        while not self._stop.is_set():
            with self._lock:
                self.calls += 1
            try:
                result = self.slot.classify(self.images[i % len(self.images)], None)
            except Exception as exc:  # recorded: a swap must never raise into the path
                with self._lock:
                    self.failures.append(repr(exc))
                continue
            with self._lock:
                self.results.append(result)
            i += 1
            time.sleep(0.002)
