"""Serving the app for ``parcel-edge hub serve``: the secret file and the hub config's section."""
from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from edge.hub.web.server import build_app, load_secret
from edge.hub.web.settings import WebConfig
from tests.hub.web.conftest import csrf_of, login


def test_the_secret_file_is_made_once_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "web.key"
    first = load_secret(path)
    assert len(first) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret(path) == first
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        load_secret(path)


def test_two_processes_with_one_secret_file_share_sessions(web_hub: Any, tmp_path: Path) -> None:
    """A session made through one hub process is honoured by another (shared store + key)."""
    web = WebConfig(secret_file=tmp_path / "web.key")
    web_hub_cfg = web_hub.cfg.model_copy(update={"web": web})
    one = build_app(type("H", (), {"services": web_hub.services, "cfg": web_hub_cfg})())
    two = build_app(type("H", (), {"services": web_hub.services, "cfg": web_hub_cfg})())
    a = TestClient(one)
    assert login(a, "officer1").status_code == 303
    b = TestClient(two, cookies={"pe_session": a.cookies.get("pe_session")})
    page = b.get("/queue")
    assert page.status_code == 200 and "officer1" in page.text
    token = csrf_of(a.get("/queue").text)  # a form rendered by one process, sent to the other
    assert b.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert a.get("/queue", follow_redirects=False).status_code == 401  # ended for both
