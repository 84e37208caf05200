"""Fixtures for the officers' web app: a real hub (SQLite in tmp), users of every role,
logged-in HTTP clients, the app served by uvicorn on a free loopback port, and Debian's
Chromium driven by Playwright (``executable_path``; Playwright's own download is never used).
"""
from __future__ import annotations

import re
import secrets
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "demo-password-1"
ROLE_USERS = {"officer": "officer1", "supervisor": "supervisor1", "maintainer": "maintainer1",
              "readonly": "readonly1"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
DESK = {"viewport": {"width": 1366, "height": 900}}


def make_hub(tmp_path: Path, broker_port: int | None = None, **overrides: Any) -> Any:
    from edge.hub.app import build_for_test
    # Real argon2id at a test-sized cost, set as a site would: the web tests log in dozens of times.
    passwords = {"argon2_time_cost": 1, "argon2_memory_kib": 8192, "argon2_parallelism": 1}
    hub = build_for_test(tmp_path, broker_port=broker_port, passwords=passwords, **overrides)
    for role, name in ROLE_USERS.items():
        hub.services.add_user(name, PASSWORD, role, "test")
    return hub


def make_app(hub: Any) -> Any:
    from edge.hub.web.app import create_web_app
    from edge.hub.web.settings import WebConfig
    return create_web_app(hub.services, WebConfig(poll_s=1.0), secrets.token_bytes(32),
                          capture=getattr(hub, "capture", None))


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    """Logs a TestClient in through the real form; returns the POST's response."""
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf": token}, follow_redirects=False)


@pytest.fixture(scope="session")
def web_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    hub = make_hub(tmp_path_factory.mktemp("hub"))
    yield hub
    hub.stop()


@pytest.fixture(scope="session")
def web_app(web_hub: Any) -> Any:
    return make_app(web_hub)


@pytest.fixture(scope="session")
def clients(web_app: Any) -> Iterator[dict[str, Any]]:
    """One logged-in TestClient per role, plus ``anonymous``."""
    from fastapi.testclient import TestClient
    out = {"anonymous": TestClient(web_app)}
    for role, name in ROLE_USERS.items():
        client = TestClient(web_app)
        assert login(client, name).status_code == 303
        out[role] = client
    yield out
    for client in out.values():
        client.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, app: Any) -> None:
        import uvicorn
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright (one per test session)."""
    yield from chromium()


def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright through ``executable_path`` (never its download)."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                               args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield b
        b.close()


def browser_login(page: Any, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector("form.logout")
