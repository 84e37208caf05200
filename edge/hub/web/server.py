"""Serving the web app: what ``parcel-edge hub serve`` calls after ingest has started.

``serve(hub)`` blocks in uvicorn until SIGINT/SIGTERM (uvicorn handles both and
returns), so the hub's composition root can then stop ingest cleanly.
"""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from edge.hub.web.settings import WebConfig

log = logging.getLogger(__name__)
SECRET_BYTES = 32


def web_config(section: Any) -> WebConfig:
    """The hub config's ``web`` section as this app's settings (its keys, where it has them)."""
    if isinstance(section, WebConfig):
        return section
    values: dict[str, Any] = {}
    for key in ("host", "port", "cookie_secure"):
        if getattr(section, key, None) is not None:
            values[key] = getattr(section, key)
    hours = getattr(section, "session_hours", None)
    if hours is not None:
        values["session_ttl_s"] = int(float(hours) * 3600)
    return WebConfig(**values)


def load_secret(path: Path | None) -> bytes:
    """The key of session cookies and CSRF tokens: kept in a 0600 file, made on first start.

    Every hub process of a facility must read the same file (a session made by one is
    checked by another); without a file each start makes a new key and logs everyone out.
    """
    if path is None:
        log.warning("web: no secret_file configured: sessions end when the hub restarts")
        return secrets.token_bytes(SECRET_BYTES)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(SECRET_BYTES))
    key = path.read_bytes()
    if len(key) < SECRET_BYTES:
        raise ValueError(f"{path}: the web secret must hold at least {SECRET_BYTES} bytes")
    return key


def build_app(hub: Any) -> Any:
    """The ASGI app for a built hub (``hub.services``, ``hub.cfg.web``)."""
    from edge.hub.web.app import create_web_app
    section = getattr(hub.cfg, "web", None)
    secret_file = getattr(section, "secret_file", None)
    return create_web_app(hub.services, web_config(section),
                          load_secret(Path(secret_file) if secret_file else None),
                          capture=getattr(hub, "capture", None))


def serve(hub: Any) -> None:
    """Blocks serving the officers' web app until SIGINT/SIGTERM."""
    import uvicorn
    app = build_app(hub)
    web = app.state.web
    log.info("web: officers' app on http://%s:%s/", web.host, web.port)
    uvicorn.run(app, host=web.host, port=web.port, log_level="warning", access_log=False,
                proxy_headers=False)
