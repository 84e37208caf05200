"""Login and logout; passwords and the lockout are the hub services' (argon2id, audited)."""
from __future__ import annotations

from urllib.parse import unquote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from edge.hub.web import auth
from edge.hub.web.render import render

router = APIRouter()

HOME = {"maintainer": "/fleet"}
REFUSALS = {
    "locked": "Too many failed attempts: this account is locked for a while. Ask a supervisor.",
    "disabled": "This account is disabled. Ask a supervisor.",
}


def _safe_next(value: str | None) -> str:
    """Only a local path (no scheme, no //host): a login link cannot send the officer away."""
    path = unquote(value or "")
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 500:
        return ""
    return path


@router.get("/")
def home(user: auth.User = Depends(auth.logged_in)) -> Response:
    return RedirectResponse(HOME.get(user.role, "/queue"), status_code=303)


@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": ""})


@router.post("/login", dependencies=[Depends(auth.check_csrf)])
def login(request: Request, username: str = Form("", max_length=64),
          password: str = Form("", max_length=256), next: str = Form("", max_length=500)) -> Response:
    result = request.app.state.hub.authenticate(username, password)
    if not result.ok or result.user is None:
        message = REFUSALS.get(result.reason, "Wrong user name or password.")
        return render(request, "login.html", {"next": _safe_next(next), "error": message},
                      status_code=401)
    value = auth.start_session(request, result.user.username)
    web = request.app.state.web
    response = RedirectResponse(_safe_next(next) or HOME.get(result.user.role, "/queue"),
                                status_code=303)
    response.set_cookie(auth.SESSION_COOKIE, value, max_age=web.session_ttl_s, httponly=True,
                        samesite="strict", secure=web.cookie_secure, path="/")
    response.delete_cookie(auth.PRE_COOKIE, path="/")
    return response


@router.post("/logout", dependencies=[Depends(auth.check_csrf)])
def logout(request: Request, user: auth.User = Depends(auth.logged_in)) -> Response:
    auth.end_session(request)
    request.app.state.hub.audit(user.username, "logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response
