"""The outbox left alone for months: thumbnails for evicted images, counters that survive
restarts, clean-up on a timer for an idle unit, and free space acted on."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import cv2
import numpy as np

from delivery_helpers import make_package
from edge.outbox import Outbox
from edge.outbox.config import OutboxConfig
from edge.records import Package, PackageFile


def jpeg(seed: int, size: tuple[int, int] = (960, 1280)) -> bytes:
    rng = np.random.default_rng(seed)
    img = cv2.resize(rng.integers(0, 255, (size[0] // 8, size[1] // 8, 3), np.uint8),
                     size[::-1], interpolation=cv2.INTER_LINEAR)
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def real_package(box: Outbox, outcome: str = "clear") -> Package:
    """A parcel view that is a real 1280x960 JPEG, and no thumbnail (as build_package makes)."""
    seq = box.next_seq()
    pkg = make_package(seq, outcome=outcome, views={})
    data = jpeg(seq)
    f = PackageFile("parcel.jpg", "parcel", data, hashlib.sha256(data).hexdigest(), "image/jpeg")
    return Package(pkg.record, (f,))


def open_box(tmp_path: Path, **cfg) -> Outbox:
    return Outbox(OutboxConfig(**cfg), tmp_path / "outbox")


def test_an_evicted_cleared_image_leaves_a_thumbnail_in_its_place(tmp_path: Path) -> None:
    box = open_box(tmp_path, disk_budget_mb=1)
    pkgs = [real_package(box) for _ in range(12)]
    flagged = real_package(box, outcome="flag")
    for pkg in pkgs + [flagged]:
        box.commit(pkg)
    stats = box.stats()
    assert stats["evicted_images"] > 0 and stats["thumbnails"] == stats["evicted_images"]
    pending = box.pending(1000)
    thumbs = {i.parcel: i for i in pending if i.view == "thumb"}
    evicted = [p for p in pkgs if box.evicted_views(p.record.id) == ["parcel"]]
    assert evicted and set(thumbs) == {p.record.id for p in evicted}
    for item in thumbs.values():
        data = item.read()
        assert hashlib.sha256(data).hexdigest() == item.sha256 and item.content_type == "image/jpeg"
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert img is not None and max(img.shape[:2]) == 320
    assert not box.evicted_views(flagged.record.id), "a flagged parcel keeps its full image"
    box.close()


def test_eviction_counters_survive_a_restart(tmp_path: Path) -> None:
    box = open_box(tmp_path, disk_budget_mb=1)
    for _ in range(12):
        box.commit(real_package(box))
    before = {k: box.stats()[k] for k in ("evicted_images", "thumbnails", "dropped_acked")}
    assert before["evicted_images"] > 0
    box.close()
    again = open_box(tmp_path, disk_budget_mb=1)
    assert {k: again.stats()[k] for k in before} == before
    again.close()


def test_an_idle_unit_cleans_acknowledged_data_on_a_timer(tmp_path: Path) -> None:
    """Flagged parcels (never evicted) take the outbox over budget while the broker is away;
    once it acknowledges them an idle unit must not go on reporting itself over budget."""
    box = open_box(tmp_path, disk_budget_mb=1, retain_acked=True)
    while not box.stats()["over_budget"]:
        box.commit(real_package(box, outcome="flag"))
    for item in box.pending(1000):
        box.ack(item.n)
    assert box.stats()["over_budget"] is True, "nothing cleans it until the next parcel..."
    box.start_housekeeping(0.05)
    deadline = time.monotonic() + 5
    while box.stats()["over_budget"] and time.monotonic() < deadline:
        time.sleep(0.05)
    after = box.stats()
    assert after["over_budget"] is False and after["dropped_acked"] > 0, "...but the timer does"
    assert after["evicted_images"] == 0
    box.close()


def test_low_free_space_frees_acknowledged_then_cleared_images(tmp_path: Path) -> None:
    box = open_box(tmp_path)
    pkgs = [real_package(box) for _ in range(4)]
    flagged = real_package(box, outcome="flag")
    for pkg in pkgs + [flagged]:
        box.commit(pkg)
    acked = next(i for i in box.pending(100) if i.parcel == pkgs[0].record.id and i.kind == "image")
    box.ack(acked.n)
    assert box.stats()["low_disk"] is False
    box.close()
    box = open_box(tmp_path, min_free_mb=1_000_000)  # 1 TB: more than this disk has free
    box.housekeep()
    stats = box.stats()
    assert stats["low_disk"] is True
    assert stats["dropped_acked"] >= 1, "acknowledged data went first"
    assert stats["evicted_images"] == 3 and stats["thumbnails"] == 3
    kept = {(i.parcel, i.view) for i in box.pending(1000)}
    assert (flagged.record.id, "parcel") in kept
    assert all((p.record.id, "") in kept for p in pkgs[1:] + [flagged]), "records never go"
    box.close()
