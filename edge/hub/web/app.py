"""The officers' web app: one factory, an explicit list of route modules.

``create_web_app`` takes the hub's services object (the store behind it) and the
``web:`` config; nothing here opens databases or brokers, so tests and the hub's
composition root build it the same way.
"""
from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from edge.hub.web import auth
from edge.hub.web.render import environment, render
from edge.hub.web.settings import WebConfig

STATIC = Path(__file__).resolve().parent / "static"

# One module per page; each exposes ``router``.  Listed explicitly: nothing is served by accident.
ROUTES = (
    "edge.hub.web.routes.login",
    "edge.hub.web.routes.queue",
    "edge.hub.web.routes.parcel",
    "edge.hub.web.routes.images",
    "edge.hub.web.routes.search",
    "edge.hub.web.routes.cases",
    "edge.hub.web.routes.sharing",
    "edge.hub.web.routes.fleet",
    "edge.hub.web.routes.precision",
    "edge.hub.web.routes.audit",
    "edge.hub.web.routes.users",
    "edge.hub.web.capture",
)

# Pages are ours only: no inline script, no framing, nothing from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
                                "frame-ancestors 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def create_web_app(hub: Any, web: WebConfig, secret_key: bytes, *,
                   clock: Callable[[], float] = time.time,
                   routes: tuple[str, ...] = ROUTES, capture: Any = None) -> FastAPI:
    """The ASGI app; ``secret_key`` (32+ random bytes) keys the CSRF tokens; ``capture`` is
    the hub's guided-capture service when the hub has one (#13's pages use it)."""
    if len(secret_key) < 32:
        raise ValueError("the web app's secret key must be at least 32 bytes")
    app = FastAPI(title="parcel-edge hub", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.hub, app.state.web, app.state.secret_key, app.state.clock = hub, web, secret_key, clock
    app.state.capture = capture
    app.state.templates = environment()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in routes:
        app.include_router(importlib.import_module(module).router)
    _install_handlers(app)
    return app


def _wants_html(request: Request) -> bool:
    """A page a person navigates to (redirect to login), not our script's fetch (gets 401)."""
    return (request.method == "GET" and "text/html" in request.headers.get("accept", "")
            and "x-requested-with" not in request.headers)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(auth.LoginRequired)
    async def _login(request: Request, exc: auth.LoginRequired) -> Response:
        if _wants_html(request):
            return RedirectResponse(f"/login?next={_local(request)}", status_code=303)
        return JSONResponse({"error": "login required"}, status_code=401)

    @app.exception_handler(auth.Forbidden)
    async def _forbidden(request: Request, exc: auth.Forbidden) -> Response:
        return render(request, "error.html", {"title": "Not allowed",
                      "message": "Your role may not open this page."}, status_code=403)

    @app.exception_handler(auth.CsrfFailed)
    async def _csrf(request: Request, exc: auth.CsrfFailed) -> Response:
        return render(request, "error.html", {"title": "Form expired",
                      "message": "This form was not sent from a current page: reload it and try again."},
                      status_code=403)

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[..., Any]) -> Response:
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response


def _local(request: Request) -> str:
    """The path to come back to after login, URL-quoted (only ever a local path)."""
    from urllib.parse import quote
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return quote(path, safe="")
