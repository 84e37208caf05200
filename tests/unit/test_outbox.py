"""The outbox on a real SQLite database and spool folder."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from delivery_helpers import make_package
from edge.outbox import Outbox, OutboxError
from edge.outbox.config import OutboxConfig
from edge.records import Package, PackageFile


def _open(tmp_path: Path, **cfg: object) -> Outbox:
    return Outbox(OutboxConfig(**cfg), tmp_path)  # type: ignore[arg-type]


def _commit(box: Outbox, outcome: str = "clear", views: dict[str, int] | None = None) -> Package:
    pkg = make_package(box.next_seq(), outcome=outcome, views=views)
    box.commit(pkg)
    return pkg


def test_sequence_numbers_survive_a_restart(tmp_path: Path) -> None:
    box = _open(tmp_path)
    assert [box.next_seq() for _ in range(3)] == [1, 2, 3]
    box.close()
    box = _open(tmp_path)
    assert box.next_seq() == 4


def test_sequence_follows_committed_records_even_without_the_counter(tmp_path: Path) -> None:
    box = _open(tmp_path)
    box.commit(make_package(41))
    box.close()
    assert _open(tmp_path).next_seq() == 42


def test_commit_is_durable_and_complete_after_reopen(tmp_path: Path) -> None:
    box = _open(tmp_path)
    pkg = _commit(box, outcome="flag")
    box.close()
    items = _open(tmp_path).pending(100)
    assert [i.kind for i in items] == ["alert", "image", "image", "record"]
    by_view = {i.view: i for i in items if i.kind == "image"}
    for f in pkg.files:
        assert hashlib.sha256(by_view[f.view].read()).hexdigest() == f.sha256
    record = json.loads(items[-1].read())
    assert record["schema"].startswith("parcel-edge/parcel/") and record["id"] == pkg.record.id
    assert json.loads(items[0].read())["schema"].startswith("parcel-edge/alert/")


def test_drain_order_alerts_first_then_images_before_their_record(tmp_path: Path) -> None:
    box = _open(tmp_path)
    first = _commit(box)
    flagged = _commit(box, outcome="flag")
    order = [(i.kind, i.parcel) for i in box.pending(100)]
    assert order[0] == ("alert", flagged.record.id)
    assert order[1:4] == [("image", first.record.id)] * 2 + [("record", first.record.id)]
    assert order[4:] == [("image", flagged.record.id)] * 2 + [("record", flagged.record.id)]


def test_ack_takes_an_item_out_of_the_pending_set_only_once(tmp_path: Path) -> None:
    box = _open(tmp_path)
    _commit(box)
    items = box.pending(100)
    assert box.stats()["depth"] == 3
    assert box.ack(items[0].n) is True
    assert box.ack(items[0].n) is False
    assert [i.n for i in box.pending(100)] == [i.n for i in items[1:]]
    assert box.stats()["depth"] == 2
    assert box.pending(100, skip={items[1].n})[0].n == items[2].n


def test_unsafe_identifiers_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    box = _open(tmp_path)
    pkg = make_package(box.next_seq())
    bad = PackageFile("x.jpg", "../../etc", b"x", hashlib.sha256(b"x").hexdigest(), "image/jpeg")
    with pytest.raises(OutboxError):
        box.commit(Package(pkg.record, (bad,)))
    with pytest.raises(OutboxError):
        box.commit(make_package(box.next_seq(), rid="a/b#"))
    assert box.pending(10) == [] and list(box.spool.iterdir()) == []


def test_committing_the_same_package_twice_stores_it_once(tmp_path: Path) -> None:
    box = _open(tmp_path)
    pkg = make_package(box.next_seq())
    box.commit(pkg)
    box.commit(pkg)
    assert len(box.pending(100)) == 3


def test_recovery_removes_half_written_and_orphaned_spool_files(tmp_path: Path) -> None:
    box = _open(tmp_path)
    _commit(box)
    (box.spool / "0000000009-parcel-0123.jpg.tmp").write_bytes(b"half")
    (box.spool / "0000000009-parcel-0123.jpg").write_bytes(b"orphan")
    box.close()
    box = _open(tmp_path)
    assert sorted(p.name for p in box.spool.iterdir()) == sorted(
        i.path.name for i in box.pending(100) if i.path)


def test_eviction_order_at_the_disk_budget(tmp_path: Path) -> None:
    """Acknowledged data goes first, then full-size images of cleared parcels, oldest first;
    records, alerts, thumbnails and images of flagged parcels are never evicted."""
    box = _open(tmp_path, disk_budget_mb=1, evict_to_pct=90)
    views = {"parcel": 120_000, "thumb": 3_000}
    flagged = _commit(box, outcome="flag", views=views)
    acked = _commit(box, views={"parcel": 300_000, "thumb": 3_000})
    for item in box.pending(100):
        if item.parcel == acked.record.id:
            box.ack(item.n)
    acked_prefix = f"{acked.record.seq:010d}"
    cleared: list[Package] = []
    while any(p.name.startswith(acked_prefix) for p in box.spool.iterdir()):
        assert box.stats()["evicted_images"] == 0
        cleared.append(_commit(box, views=views))
        assert len(cleared) < 20
    assert box.stats()["evicted_images"] == 0, "acknowledged data goes before any pending image"
    cleared += [_commit(box, views=views) for _ in range(3)]
    assert box.stats()["evicted_images"] > 0
    pending = box.pending(1000)
    kept = {(i.parcel, i.kind, i.view) for i in pending}
    for pkg in [flagged] + cleared:
        assert (pkg.record.id, "record", "") in kept
        assert (pkg.record.id, "image", "thumb") in kept
    assert (flagged.record.id, "alert", "") in kept
    assert (flagged.record.id, "image", "parcel") in kept
    evicted = [p for p in cleared if (p.record.id, "image", "parcel") not in kept]
    assert evicted and evicted == cleared[:len(evicted)], "oldest cleared images first"
    assert box.evicted_views(evicted[0].record.id) == ["parcel"]
    assert box.stats()["disk_bytes"] <= box.cfg.budget_bytes


def test_over_budget_with_only_unacknowledged_records_keeps_everything(tmp_path: Path) -> None:
    box = _open(tmp_path, disk_budget_mb=1)
    pkgs = [_commit(box, outcome="flag", views={"parcel": 150_000}) for _ in range(8)]
    stats = box.stats()
    assert stats["over_budget"] is True and stats["evicted_images"] == 0
    assert len(box.pending(1000)) == 3 * len(pkgs)


def test_the_json_sidecar_is_not_stored_as_an_image(tmp_path: Path) -> None:
    box = _open(tmp_path)
    pkg = make_package(box.next_seq())
    body = b'{"schema": "parcel-edge/parcel/1"}'
    sidecar = PackageFile("r.json", "record", body, hashlib.sha256(body).hexdigest(), "application/json")
    box.commit(Package(pkg.record, pkg.files + (sidecar,)))
    assert sorted(i.view for i in box.pending(100)) == ["", "parcel", "thumb"]
    assert len(list(box.spool.iterdir())) == 2


def test_without_retention_an_acknowledged_image_leaves_the_disk_at_once(tmp_path: Path) -> None:
    box = _open(tmp_path, retain_acked=False)
    _commit(box)
    image = next(i for i in box.pending(10) if i.kind == "image")
    assert image.path is not None and image.path.exists()
    box.ack(image.n)
    assert not image.path.exists()
    assert image.n not in {i.n for i in box.pending(10)}
