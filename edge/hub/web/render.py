"""Server-rendered pages: one Jinja2 environment, autoescape on for every template.

Everything shown comes through here, so decoded barcode text and reasons are always
HTML-escaped; no template marks untrusted text ``|safe``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from edge.hub.web import auth, words

TEMPLATES = Path(__file__).resolve().parent / "templates"


def environment(extra_dirs: tuple[Path, ...] = ()) -> Environment:
    env = Environment(loader=FileSystemLoader([str(TEMPLATES), *map(str, extra_dirs)]),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["ms"] = lambda v: "-" if v is None else f"{float(v):.1f}"
    env.filters["pct"] = lambda v: "-" if v is None else f"{100.0 * float(v):.1f}%"
    env.filters["outcome"] = words.outcome
    env.filters["event"] = words.event
    env.filters["action"] = words.action
    env.globals["confirm_actions"] = words.CONFIRM
    env.globals["audiences"] = words.AUDIENCES
    env.filters["score"] = lambda v: "-" if v is None else f"{float(v):.2f}"
    return env


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           *, status_code: int = 200, user: auth.User | None = None) -> HTMLResponse:
    """A page, with the user, their CSRF field and the role checks every template needs."""
    user = user or auth.current_user(request)
    token = auth.csrf_token(request)
    page_context = {
        "request": request,
        "user": user,
        "csrf": token,
        "csrf_field": lambda: Markup('<input type="hidden" name="csrf" value="%s">') % escape(token),
        "can": lambda permission: auth.may(user, permission),
        **(context or {}),
    }
    html = request.app.state.templates.get_template(template).render(page_context)
    response = HTMLResponse(html, status_code=status_code)
    remember_pre_session(request, response)
    return response


def remember_pre_session(request: Request, response: Any) -> None:
    """Sets the pre-login cookie when this request minted one (the login form's CSRF basis)."""
    new = getattr(request.state, "new_pre", None)
    if new:
        response.set_cookie(auth.PRE_COOKIE, new, httponly=True, samesite="strict",
                            secure=request.app.state.web.cookie_secure, path="/")


def not_found(request: Request, message: str) -> HTMLResponse:
    return render(request, "error.html", {"title": "Not found", "message": message}, status_code=404)
