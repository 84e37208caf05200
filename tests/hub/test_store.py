"""The hub's store on real SQLite and a real PostgreSQL server: the same tests on both."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import inspect

from edge.hub import cases
from edge.hub.services import HubServices, ServiceError
from edge.hub.store import open_store
from edge.hub.store.base import ImageIn, RecordIn, SearchQuery, StatusIn
from edge.hub.store.postgres import PostgresConfig
from edge.hub.store.sqlite import SqliteConfig
from edge.hub.store.tables import metadata
from records import alert_json, package, record_json

NOW = "2026-11-28T10:00:00.000Z"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path: Path):
    if request.param == "sqlite":
        cfg = SqliteConfig(path=tmp_path / "hub.db")
    else:
        cfg = PostgresConfig(url=request.getfixturevalue("pg_url"))
    s = open_store(cfg, tmp_path)
    yield s
    s.close()


def rec(pkg, alert: bool = False) -> RecordIn:
    return RecordIn(alert_json(pkg)["record"] if alert else record_json(pkg), pkg.record.unit,
                    f"parcel-edge/{pkg.record.unit}", alert)


def test_migrated_schema_matches_the_tables(store):
    found = set(inspect(store.engine).get_table_names())
    assert set(metadata.tables) <= found
    assert "alembic_version" in found
    for name, table in metadata.tables.items():
        cols = {c["name"] for c in inspect(store.engine).get_columns(name)}
        assert cols == {c.name for c in table.columns}, name


def test_a_record_has_one_effect_however_often_it_arrives(store):
    pkg = package(1)
    first = store.ingest([rec(pkg)], NOW)
    again = store.ingest([rec(pkg), rec(pkg, alert=True)], NOW)
    assert [r.new for r in first] == [True]
    assert [r.new for r in again] == [False, False]
    assert len(store.search(SearchQuery())) == 1
    ref = pkg.record.reference.value
    assert [e.kind for e in store.case_events(ref)] == ["seen", "flagged"]
    row = store.queue()[0]
    assert row.has_alert and row.case_state == "flagged" and row.reference == ref


def test_queue_puts_flags_first_then_newest_and_after_gives_only_new(store):
    pkgs = [package(i, outcome=o) for i, o in enumerate(["clear", "review", "flag", "no_read",
                                                          "flag", "quality_reject"], 1)]
    store.ingest([rec(p) for p in pkgs], NOW)
    queue = store.queue()
    assert [r.outcome for r in queue] == ["flag", "flag", "review", "no_read", "quality_reject"]
    assert queue[0].seq == 5 and queue[1].seq == 3
    newest = max(r.change for r in queue)
    later = package(7, outcome="review")
    store.ingest([rec(later)], NOW)
    assert [r.parcel_id for r in store.queue(after=newest)] == [later.record.id]


def test_search_by_reference_unit_brand_outcome_and_time(store):
    a = package(1, ref="RR123456785DE", brand="acme")
    b = package(2, unit="unit-02", ref="LZ000000011CN", brand="zeta", outcome="review")
    store.ingest([rec(a), rec(b)], NOW)
    assert [r.parcel_id for r in store.search(SearchQuery(reference="rr 1234"))] == [a.record.id]
    assert [r.parcel_id for r in store.search(SearchQuery(unit="unit-02"))] == [b.record.id]
    assert [r.parcel_id for r in store.search(SearchQuery(brand="acme"))] == [a.record.id]
    assert [r.parcel_id for r in store.search(SearchQuery(outcome="review"))] == [b.record.id]
    assert store.search(SearchQuery(since_utc="2099-01-01T00:00:00Z")) == ()
    assert len(store.search(SearchQuery(until_utc="2099-01-01T00:00:00Z"))) == 2


def test_parcel_detail_shows_images_once_they_arrived(store):
    pkg = package(1, text="<script>alert(1)</script>")
    store.ingest([rec(pkg)], NOW)
    f = pkg.files[0]
    store.ingest([ImageIn(f.sha256, pkg.record.id, f.view, "image/jpeg", len(f.data))], NOW)
    detail = store.parcel(pkg.record.id)
    assert detail.symbols == (("Code128", "<script>alert(1)</script>"),)
    stored = {i.view: i.stored for i in detail.images}
    assert stored == {"parcel": True, "label": False, "parcel-redacted": False}
    assert detail.model_version == "1.1.0" and detail.scores == {"suspect_logo": 0.91}
    assert store.parcel("nope") is None


def test_a_units_status_shows_the_tail_it_committed_once_it_has_nothing_left_to_send(store):
    store.ingest([rec(package(s)) for s in (1, 2, 3)], NOW)

    def status(outbox: object) -> StatusIn:
        return StatusIn("unit-01", "parcel-edge/unit-01", {"unit": "unit-01", "outbox": outbox},
                        None)

    store.ingest([status({"last_record_seq": 5, "depth_by_kind": {"record": 2}})], NOW)
    assert store.gaps() == ()                    # still sending: not lost
    for odd in ({"last_record_seq": "5"}, {"last_record_seq": True}, [], {"last_record_seq": 2}):
        store.ingest([status(odd)], NOW)
        assert store.gaps() == ()
    store.ingest([status({"last_record_seq": 5, "depth_by_kind": {"image": 4}})], NOW)
    assert [(g.unit, g.first, g.last) for g in store.gaps()] == [("unit-01", 4, 5)]
    store.ingest([rec(package(s)) for s in (4, 5)], NOW)
    assert store.gaps() == ()


def test_gaps_per_unit_are_found_in_the_database(store):
    store.ingest([rec(package(s)) for s in (1, 2, 5, 6, 9)], NOW)
    store.ingest([rec(package(s, unit="unit-02")) for s in (1, 2, 3)], NOW)
    assert [(g.unit, g.first, g.last) for g in store.gaps()] == [("unit-01", 3, 4), ("unit-01", 7, 8)]
    store.ingest([rec(package(s)) for s in (3, 4, 7, 8)], NOW)
    assert store.gaps() == ()


def test_case_moves_on_closes_the_queue_row_and_feeds_precision(store, tmp_path):
    svc = HubServices(store, tmp_path, clock=lambda: datetime(2026, 11, 30, 15, tzinfo=timezone.utc))
    flag, other = package(1), package(2, brand="zeta")
    store.ingest([rec(flag), rec(other)], NOW)
    ref = flag.record.reference.value
    with pytest.raises(ServiceError, match="cannot take 'seized'"):
        svc.add_case_event(ref, "seized", "alice")
    svc.add_case_event(ref, "presented", "alice")
    case = svc.add_case_event(ref, "detained", "alice", note="logo")
    assert case.state == "detained" and "notice_sent" in case.actions
    svc.add_case_event(other.record.reference.value, "presented", "bob")
    svc.add_case_event(other.record.reference.value, "released", "bob")
    assert [r.parcel_id for r in store.queue()] == [flag.record.id]
    prec = {(p.brand, p.model_version): p for p in store.precision()}
    assert prec[("acme", "1.1.0")].precision == 1.0 and prec[("zeta", "1.1.0")].precision == 0.0
    actions = [e.action for e in svc.audit_log()]
    assert actions == ["case.presented", "case.detained", "case.presented", "case.released"]
    assert svc.verify_audit().ok


def test_audit_chain_detects_a_changed_entry(store, tmp_path):
    svc = HubServices(store, tmp_path)
    for i in range(5):
        svc.audit("alice", "case.note", f"R{i}", {"i": i})
    assert svc.verify_audit().ok and svc.verify_audit().entries == 5
    store.execute_text("UPDATE audit SET subject = 'forged' WHERE id = 3")
    result = svc.verify_audit()
    assert not result.ok and result.bad_id == 3 and result.entries == 2


def test_lockout_after_repeated_failures_and_sessions(store, tmp_path):
    now = [datetime(2026, 11, 28, 10, tzinfo=timezone.utc)]
    svc = HubServices(store, tmp_path, clock=lambda: now[0],
                      hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    svc.add_user("alice", "correct horse battery", "officer", "admin")
    reasons = [svc.authenticate("alice", "wrong").reason for _ in range(5)]
    assert reasons == ["bad_password"] * 4 + ["locked"]
    assert svc.authenticate("alice", "correct horse battery").reason == "locked"
    now[0] += timedelta(minutes=16)
    assert svc.authenticate("alice", "correct horse battery").ok
    svc.create_session("ab" * 32, "alice", now[0] + timedelta(hours=1))
    assert svc.session_user("ab" * 32).username == "alice"
    now[0] += timedelta(hours=2)
    assert svc.session_user("ab" * 32) is None
    assert svc.authenticate("mallory", "x" * 12).reason == "unknown"


def test_fleet_shows_the_units_status(store):
    status = {"schema": "parcel-edge/status/1", "unit": "unit-01", "parcels": 40, "read_rate": 0.95,
              "outbox": {"depth": 3, "oldest_age_s": 12.5}, "model": {"version": "1.1.0"},
              "errors": {"camera_timeout": 2}}
    store.ingest([StatusIn("unit-01", "parcel-edge/unit-01", status, None)], NOW)
    store.ingest([StatusIn("unit-01", "parcel-edge/unit-01", None, False)], NOW)
    (row,) = store.fleet()
    assert (row.online, row.parcels, row.read_rate, row.outbox_depth) == (False, 40, 0.95, 3)
    assert row.model_version == "1.1.0" and row.last_error == "camera_timeout"


def test_clocks_count_business_days_around_federal_holidays():
    # Presented Wed 2026-11-25; Thanksgiving Thu 11-26 is a federal holiday: due Wed 12-02.
    assert cases.add_business_days(datetime(2026, 11, 25).date(), 5).isoformat() == "2026-12-03"
    assert not cases.is_business_day(datetime(2026, 11, 26).date())
    assert cases.add_business_days(datetime(2026, 7, 2).date(), 1).isoformat() == "2026-07-06"
