"""The web app's settings: a config section the hub's config can embed as ``web:``.

Kept here so the web app can be built and tested on its own; every number has
bounds like every other section of the project.  Passwords and the lockout are the
hub services' (``HubServices.authenticate``).
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field

from edge.configbase import Section


class WebConfig(Section):
    """Where the officers' web app listens and how long its sessions last."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    # Set on any real deployment (behind TLS): the session cookie is then Secure.
    cookie_secure: bool = False
    session_ttl_s: int = Field(8 * 3600, ge=60, le=7 * 24 * 3600)
    # Key of session cookies and CSRF tokens (made, 0600, on first start); every process of
    # one hub must read the same file.  None: a new key per start (everyone logs in again).
    secret_file: Path | None = None
    queue_limit: int = Field(100, ge=10, le=1000)
    search_limit: int = Field(100, ge=10, le=1000)
    poll_s: float = Field(5.0, ge=0.5, le=600.0)
