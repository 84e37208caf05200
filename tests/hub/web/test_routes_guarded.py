"""Every route of the app refuses without login, enforces its role, and every POST needs CSRF.

The routes are read from the app itself, so a page added later is covered too: each
one must name its permission through ``auth.require`` (or ``auth.logged_in``).
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from fastapi.routing import APIRoute

from edge.hub.services import allowed
from tests.hub.web.conftest import csrf_of

OPEN = {"/login"}
SAMPLES = {"parcel_id": "nosuchparcel", "reference": "RR123456785CN", "sha256": "a" * 64,
           "audience": "importer", "view": "product"}


def _permissions(dependant: Any) -> Iterator[str]:
    for dep in dependant.dependencies:
        if hasattr(dep.call, "permission"):
            yield dep.call.permission
        yield from _permissions(dep)


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI keeps those nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def routes(app: Any) -> list[tuple[str, str, str]]:
    """(method, path with sample parameters, permission) for every guarded route."""
    out = []
    for route in _api_routes(app.routes):
        if route.path in OPEN:
            continue
        perms = set(_permissions(route.dependant))
        assert len(perms) == 1, f"{route.path} must name exactly one permission, has {perms}"
        path = route.path.format(**{k: SAMPLES.get(k, "x") for k in route.param_convertors})
        permission = next(iter(perms))
        out.extend((method, path, permission) for method in sorted(route.methods))
    assert len(out) >= 10, "the app's routes were not found"
    return out


def test_the_app_has_the_pages_of_the_issue(web_app: Any) -> None:
    paths = {path for _, path, _ in routes(web_app)}
    for page in ("/queue", "/search", "/case/RR123456785CN", "/parcel/nosuchparcel", "/fleet",
                 "/precision", "/audit", "/img/" + "a" * 64,
                 "/case/RR123456785CN/share/importer", "/case/RR123456785CN/event"):
        assert page in paths


def test_every_route_refuses_without_login(web_app: Any, clients: dict[str, Any]) -> None:
    anon = clients["anonymous"]
    for method, path, _ in routes(web_app):
        if method == "GET":
            page = anon.get(path, headers={"accept": "text/html"}, follow_redirects=False)
            assert page.status_code == 303 and page.headers["location"].startswith("/login?next="), path
            assert anon.get(path, follow_redirects=False).status_code == 401, path
        else:
            token = csrf_of(anon.get("/login").text)  # even a valid pre-login token
            r = anon.post(path, data={"csrf": token, "kind": "detained"}, follow_redirects=False)
            assert r.status_code in (401, 403), (method, path, r.status_code)


@pytest.mark.parametrize("role", ["officer", "supervisor", "maintainer", "readonly"])
def test_every_route_enforces_its_role(web_app: Any, clients: dict[str, Any], role: str) -> None:
    client = clients[role]
    token = csrf_of(client.get("/login").text)
    for method, path, permission in routes(web_app):
        if path == "/logout":
            continue  # open to every role; tested in test_auth (it would end this session)
        if method == "GET":
            status = client.get(path, follow_redirects=False).status_code
        else:
            status = client.post(path, data={"csrf": token, "kind": "note"},
                                 follow_redirects=False).status_code
        ok = permission == "*" or allowed(role, permission)
        assert (status == 403) == (not ok), (role, method, path, permission, status)


def test_every_post_refuses_a_missing_or_wrong_csrf_token(web_app: Any,
                                                          clients: dict[str, Any]) -> None:
    client = clients["supervisor"]
    for method, path, _ in routes(web_app):
        if method != "POST":
            continue
        for data in ({"kind": "note"}, {"kind": "note", "csrf": "f" * 64}):
            r = client.post(path, data=data, follow_redirects=False)
            assert r.status_code == 403 and "not sent from a current page" in r.text, path
        r = client.post(path, data={"kind": "note"}, headers={"X-CSRF-Token": "f" * 64},
                        follow_redirects=False)
        assert r.status_code == 403, path


@pytest.mark.parametrize("bad", ["..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fhub.db",
                                 "A" * 64, "a" * 63, "a" * 65, "g" * 64,
                                 "a" * 62 + "%2F" + "a", "%2e%2e", "%00" + "a" * 63])
def test_image_route_refuses_anything_but_a_stored_sha256(clients: dict[str, Any], bad: str) -> None:
    r = clients["officer"].get(f"/img/{bad}", follow_redirects=False)
    assert r.status_code == 404
    assert b"root:" not in r.content and not r.content.startswith(b"SQLite")
