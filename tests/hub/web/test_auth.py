"""Login, sessions, lockout and CSRF against the real hub services (SQLite in tmp)."""
from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.hub.web.conftest import PASSWORD, csrf_of, login


def test_login_sets_a_strict_httponly_session_and_goes_home(web_app: Any) -> None:
    client = TestClient(web_app)
    response = login(client, "officer1")
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    cookie = response.headers["set-cookie"]
    assert "pe_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = client.get("/queue")
    assert page.status_code == 200 and "officer1" in page.text


def test_maintainer_lands_on_the_fleet_page(web_app: Any) -> None:
    assert login(TestClient(web_app), "maintainer1").headers["location"] == "/fleet"


def test_wrong_password_and_unknown_user_get_the_same_answer(web_app: Any) -> None:
    a = login(TestClient(web_app), "officer1", "not-the-password")
    b = login(TestClient(web_app), "nobody-here", "not-the-password")
    assert a.status_code == b.status_code == 401
    assert "Wrong user name or password." in a.text and "Wrong user name or password." in b.text
    assert "pe_session" not in a.headers.get("set-cookie", "")


def test_login_goes_back_to_a_local_page_only(web_app: Any) -> None:
    for target, expected in (("/search?reference=RR1", "/search?reference=RR1"),
                             ("//evil.example/x", "/queue"), ("https://evil.example/", "/queue")):
        client = TestClient(web_app)
        token = csrf_of(client.get("/login").text)
        r = client.post("/login", data={"username": "officer1", "password": PASSWORD,
                                        "csrf": token, "next": target}, follow_redirects=False)
        assert r.headers["location"] == expected


def test_lockout_after_repeated_failures_even_with_the_right_password(web_hub: Any,
                                                                       web_app: Any) -> None:
    web_hub.services.add_user("lockme", PASSWORD, "officer", "test")
    client = TestClient(web_app)
    for _ in range(5):
        assert login(client, "lockme", "wrong-password-x").status_code == 401
    refused = login(client, "lockme", PASSWORD)
    assert refused.status_code == 401 and "locked" in refused.text
    assert "pe_session" not in refused.headers.get("set-cookie", "")


def test_login_without_or_with_a_foreign_csrf_token_is_refused(web_app: Any) -> None:
    client = TestClient(web_app)
    client.get("/login")
    for data in ({"username": "officer1", "password": PASSWORD},
                 {"username": "officer1", "password": PASSWORD, "csrf": "0" * 64}):
        r = client.post("/login", data=data, follow_redirects=False)
        assert r.status_code == 403 and "pe_session" not in r.headers.get("set-cookie", "")
    other = TestClient(web_app)
    stolen = csrf_of(other.get("/login").text)  # another browser's token
    r = client.post("/login", data={"username": "officer1", "password": PASSWORD,
                                    "csrf": stolen}, follow_redirects=False)
    assert r.status_code == 403


def test_logout_needs_csrf_and_ends_the_session(web_app: Any) -> None:
    client = TestClient(web_app)
    login(client, "officer1")
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert client.get("/queue", follow_redirects=False).status_code == 200
    token = csrf_of(client.get("/queue").text)
    assert client.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert client.get("/queue", follow_redirects=False).status_code == 401


def test_a_tampered_or_foreign_cookie_opens_nothing(web_app: Any) -> None:
    client = TestClient(web_app)
    login(client, "readonly1")
    value = client.cookies.get("pe_session")
    assert value
    middle = len(value) // 2
    mutated = value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1:]
    for bad in (mutated, value[:-6], value + "x", "x" * 5000):
        c = TestClient(web_app, cookies={"pe_session": bad})
        assert c.get("/queue", follow_redirects=False).status_code == 401


def test_a_new_password_or_a_disabled_account_ends_old_sessions(web_hub: Any, web_app: Any) -> None:
    web_hub.services.add_user("moving1", PASSWORD, "officer", "test")
    client = TestClient(web_app)
    login(client, "moving1")
    assert client.get("/queue", follow_redirects=False).status_code == 200
    web_hub.services.set_password("moving1", PASSWORD + "-new", "test")
    assert client.get("/queue", follow_redirects=False).status_code == 401


def test_a_role_change_applies_to_the_open_session(web_hub: Any, web_app: Any) -> None:
    web_hub.services.add_user("demoted1", PASSWORD, "supervisor", "test")
    client = TestClient(web_app)
    login(client, "demoted1")
    assert client.get("/audit").status_code == 200
    web_hub.services.set_role("demoted1", "readonly", "test")
    assert client.get("/audit").status_code == 403


def test_pages_send_a_strict_content_security_policy(clients: dict[str, Any]) -> None:
    page = clients["officer"].get("/queue")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text  # only <script src=...> of our own


def test_the_queue_refresh_gets_401_not_the_login_page_when_the_session_is_gone(
        web_app: Any) -> None:
    client = TestClient(web_app)
    r = client.get("/queue/rows?since=-1", headers={"accept": "text/html",
                                                    "x-requested-with": "fetch"},
                   follow_redirects=False)
    assert r.status_code == 401
