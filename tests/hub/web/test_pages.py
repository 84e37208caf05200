"""The pages over the real store, on SQLite and on a real PostgreSQL server: a parcel as the
unit's code builds it goes from the queue through its case to both share packages, and is
found by its reference number; untrusted text comes back escaped."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.hub.web.conftest import csrf_of, login, make_app, make_hub

EVIL = '<script>alert(1)</script>'


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, TestClient]]:
    overrides: dict[str, Any] = {}
    if request.param == "postgres":
        url = request.getfixturevalue("pg_server").new_database()
        overrides["database"] = {"type": "postgres", "url": url}
    hub = make_hub(tmp_path_factory.mktemp(request.param), **overrides)
    client = TestClient(make_app(hub))
    assert login(client, "officer1").status_code == 303
    yield hub, client
    client.close()
    hub.stop()


def _ingest(hub: Any, ref: str) -> str:
    """One flagged parcel with its images, stored as ingest stores what a unit sent."""
    from edge.hub.store.base import ImageIn, RecordIn, image_path
    from tests.hub.records import package, record_json

    pkg = package(7, unit="unit-01", outcome="flag", ref=ref, text=EVIL)
    images = []
    for f in pkg.files:
        path = image_path(hub.services.images, f.sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.data)
        images.append(ImageIn(f.sha256, pkg.record.id, f.view, f.content_type, len(f.data)))
    hub.store.ingest([RecordIn(record_json(pkg), "unit-01", "parcel-edge/unit-01", True), *images],
                     pkg.record.time_utc)
    return pkg.record.id


def _post(client: TestClient, url: str, page: str, **data: str) -> Any:
    return client.post(url, data={"csrf": csrf_of(client.get(page).text), **data},
                       follow_redirects=False)


def test_a_flag_goes_from_the_queue_through_its_case_to_both_packages(
        site: tuple[Any, TestClient]) -> None:
    hub, client = site
    ref = "RR000123455CN"
    parcel_id = _ingest(hub, ref)
    queue = client.get("/queue").text
    assert f'data-parcel="{parcel_id}"' in queue and ref in queue
    page = client.get(f"/parcel/{parcel_id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and EVIL not in page
    case_url = f"/case/{ref}"
    for kind in ("presented", "detained"):
        r = _post(client, f"{case_url}/event", case_url, kind=kind, note="at the exam table",
                  parcel_id=parcel_id)
        assert r.status_code == 303 and r.headers["location"] == f"{case_url}?done={kind}"
    case = client.get(case_url).text
    assert 'data-kind="detained"' in case and "at the exam table" in case
    assert f'id="take-exam-photos" href="/capture/case/{ref}"' in case
    refused = _post(client, f"{case_url}/event", case_url, kind="presented")
    assert refused.status_code == 400 and "cannot take" in refused.text
    for audience in ("importer", "rights_holder"):
        r = _post(client, f"{case_url}/share/{audience}", case_url)
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
        assert hashlib.sha256(r.content).hexdigest() == r.headers["x-content-sha256"]
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            manifest = json.loads(z.read("manifest.json"))
            for entry in manifest["files"]:
                assert hashlib.sha256(z.read(entry["name"])).hexdigest() == entry["sha256"]
    found = client.get("/search", params={"reference": ref[:6].lower()}).text
    assert f'data-parcel="{parcel_id}"' in found
    assert f'data-parcel="{parcel_id}"' not in client.get(
        "/search", params={"reference": "RR999"}).text


def test_images_are_served_by_hash_only_when_they_are_images(site: tuple[Any, TestClient]) -> None:
    hub, client = site
    parcel_id = _ingest(hub, "RR000000045CN")
    detail = hub.services.parcel(parcel_id)
    sha = detail.images[0].sha256
    assert client.get(f"/img/{sha}").status_code == 415  # stored bytes that are no JPEG/PNG
    assert client.get(f"/img/{'0' * 64}").status_code == 404


def test_search_refuses_bad_times_and_outcomes_in_words(site: tuple[Any, TestClient]) -> None:
    _, client = site
    page = client.get("/search", params={"since": "yesterday", "outcome": "<b>x</b>"})
    assert page.status_code == 200
    assert "from: not a date/time" in page.text and "outcome: unknown" in page.text
    assert "<b>x</b>" not in page.text


def test_an_officer_keys_in_a_no_reads_reference_and_it_joins_its_case(
        site: tuple[Any, TestClient]) -> None:
    from edge.hub.store.base import RecordIn
    from edge.identify import make_s10
    from tests.hub.records import package, record_json

    hub, client = site
    pkg = package(9, outcome="no_read", ref="", views={})
    hub.store.ingest([RecordIn(record_json(pkg), "unit-01", "parcel-edge/unit-01", False)],
                     pkg.record.time_utc)
    page = f"/parcel/{pkg.record.id}"
    assert 'id="key-reference"' in client.get(page).text
    wrong = _post(client, f"{page}/reference", page, reference="RR123456780GB")  # bad check digit
    assert wrong.status_code == 400 and "not a valid reference number" in wrong.text
    ref = make_s10("RR", "24681357", "GB")
    done = _post(client, f"{page}/reference", page, reference=ref.lower())
    assert done.status_code == 303 and done.headers["location"] == f"{page}?keyed=1"
    shown = client.get(done.headers["location"]).text
    assert "Reference recorded" in shown and 'id="key-reference"' not in shown
    case = hub.services.case(ref)
    assert [(e.kind, e.note, e.parcel_id) for e in case.events] == [
        ("seen", "reference keyed by officer1", pkg.record.id)]
    again = _post(client, f"{page}/reference", page, reference=ref)   # the form is gone, a replay too
    assert again.status_code == 400 and "already has a valid reference" in again.text
    keyed = [a for a in hub.services.audit_log() if a.action == "parcel.reference_keyed"]
    assert keyed and keyed[-1].subject == pkg.record.id and keyed[-1].actor == "officer1"


def test_a_supervisor_adds_re_roles_resets_and_disables_users_on_the_users_page(
        site: tuple[Any, TestClient]) -> None:
    hub, officer = site
    assert officer.get("/users").status_code == 403                 # officers do not manage users
    sup = TestClient(officer.app)
    assert login(sup, "supervisor1").status_code == 303
    assert 'href="/users"' in sup.get("/queue").text
    short = _post(sup, "/users/add", "/users", username="clerk", role="officer", password="short")
    assert short.status_code == 400 and "at least 10 characters" in short.text
    added = _post(sup, "/users/add", "/users", username="clerk", role="readonly", password="clerk-pass-123")
    assert added.status_code == 303 and hub.services.user("clerk").role == "readonly"
    clerk = TestClient(officer.app)
    assert login(clerk, "clerk", "clerk-pass-123").status_code == 303
    assert _post(sup, "/users/clerk/role", "/users", role="officer").status_code == 303
    assert _post(sup, "/users/clerk/password", "/users", password="new-clerk-pass-1").status_code == 303
    assert clerk.get("/queue", follow_redirects=False).status_code == 401   # a reset ends sessions
    assert login(clerk, "clerk", "new-clerk-pass-1").status_code == 303
    assert _post(sup, "/users/clerk/access", "/users", disabled="true").status_code == 303
    assert clerk.get("/queue", follow_redirects=False).status_code == 401   # and so does disabling
    assert login(clerk, "clerk", "new-clerk-pass-1").status_code != 303
    myself = _post(sup, "/users/supervisor1/access", "/users", disabled="true")
    assert myself.status_code == 400 and "cannot disable yourself" in myself.text
    assert _post(sup, "/users/clerk/access", "/users", disabled="false").status_code == 303
    assert login(clerk, "clerk", "new-clerk-pass-1").status_code == 303
    actions = [a.action for a in hub.services.audit_log() if a.subject == "clerk" and a.action.startswith("user.")]
    assert actions == ["user.add", "user.role", "user.password", "user.disable", "user.enable"]
    sup.close()
    clerk.close()
