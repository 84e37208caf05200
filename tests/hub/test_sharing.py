"""Share packages and the hub CLI on a real SQLite store."""
from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from edge.durable import write_atomic
from edge.hub.app import build_for_test
from edge.hub.services import ServiceError
from edge.hub.store.base import ImageIn, RecordIn, image_path
from records import package, record_json

NOW = "2026-11-28T10:00:00.000Z"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def hub(tmp_path):
    h = build_for_test(tmp_path / "hub", facility={"port": "JFK International Mail Facility",
                                                   "origin": "CN"})
    yield h
    h.stop()


def ingest(hub, pkg) -> None:
    hub.store.ingest([RecordIn(record_json(pkg), "unit-01", "parcel-edge/unit-01", False)], NOW)
    for f in pkg.files:
        path = image_path(hub.services.images, f.sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, f.data)
        hub.store.ingest([ImageIn(f.sha256, pkg.record.id, f.view, "image/jpeg", len(f.data))], NOW)


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def check_manifest(files: dict[str, bytes]) -> dict:
    manifest = json.loads(files.pop("manifest.json"))
    listed = {f["name"]: f["sha256"] for f in manifest["files"]}
    assert listed == {n: hashlib.sha256(d).hexdigest() for n, d in files.items()}
    return manifest


def test_importer_gets_unredacted_images_and_the_notice(hub):
    pkg = package(1)
    ingest(hub, pkg)
    ref = pkg.record.reference.value
    share = hub.services.build_share(ref, "importer", "alice")
    files = unzip(share.data)
    manifest = check_manifest(files)
    assert manifest["audience"] == "importer" and share.sha256 == hashlib.sha256(share.data).hexdigest()
    images = sorted(n for n in files if n.startswith("images/"))
    assert images == [f"images/{pkg.record.id}_label.jpg", f"images/{pkg.record.id}_parcel.jpg"]
    notice = json.loads(files["notice.json"])
    assert notice["reference"] == ref and notice["reasons"] == list(pkg.record.verdict.reasons)
    (entry,) = [e for e in hub.services.audit_log() if e.action == "share.importer"]
    assert entry.detail["sha256"] == share.sha256 and entry.actor == "alice"


def test_rights_holder_gets_redacted_images_limited_facts_and_the_decision(hub):
    pkg = package(1)
    ingest(hub, pkg)
    ref = pkg.record.reference.value
    files = unzip(hub.services.build_share(ref, "rights_holder", "alice").data)
    check_manifest(files)
    assert sorted(n for n in files if n.startswith("images/")) == \
        [f"images/{pkg.record.id}_parcel-redacted.jpg"]
    facts = json.loads(files["facts.json"])
    assert set(facts) == {"reference", "reference_kind", "date", "port", "description",
                          "quantity", "origin"}
    assert facts["port"] == "JFK International Mail Facility" and facts["quantity"] == 1
    assert "decision_notice.json" not in files
    hub.services.add_case_event(ref, "presented", "alice")
    hub.services.add_case_event(ref, "detained", "alice")
    files = unzip(hub.services.build_share(ref, "rights_holder", "alice").data)
    assert json.loads(files["decision_notice.json"])["decision"] == "detained"


def test_a_share_refuses_unknown_cases_audiences_and_changed_images(hub):
    pkg = package(1)
    ingest(hub, pkg)
    ref = pkg.record.reference.value
    with pytest.raises(ServiceError):
        hub.services.build_share("XX000000000XX", "importer", "alice")
    with pytest.raises(ServiceError):
        hub.services.build_share(ref, "press", "alice")
    image_path(hub.services.images, pkg.files[0].sha256).write_bytes(b"changed on disk")
    with pytest.raises(ServiceError, match="no longer matches"):
        hub.services.build_share(ref, "importer", "alice")


def test_audit_verify_command_fails_on_a_changed_entry(tmp_path):
    data = tmp_path / "hub"
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(f"data_dir: {data}\ningest: {{units: [unit-01]}}\n")
    hub = build_for_test(data)
    for i in range(3):
        hub.services.audit("alice", "case.note", f"R{i}")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "edge", "hub", "--config", str(cfg), "--json", "audit", "verify"]
    ok = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0 and json.loads(ok.stdout)["entries"] == 3
    hub.store.execute_text("UPDATE audit SET actor = 'mallory' WHERE id = 2")
    hub.stop()
    bad = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 1 and json.loads(bad.stdout)["bad_id"] == 2


def test_the_parcel_page_shows_the_aed_declaration_and_its_mismatch(tmp_path):
    aed = tmp_path / "aed.csv"
    aed.write_text("item_id,contents,value,origin\nRR 00000001 9DE,documents,2.50,CN\n")
    hub = build_for_test(tmp_path / "hub", aed_path=str(aed))
    try:
        pkg = package(1)
        ingest(hub, pkg)
        detail = hub.services.parcel(pkg.record.id)
        assert detail.aed.declared == {"contents": "documents", "value": "2.50", "origin": "CN"}
        assert detail.aed.mismatches == ()
    finally:
        hub.stop()
