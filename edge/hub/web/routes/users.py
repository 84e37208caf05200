"""Users, for supervisors: who may sign in with which role; add, re-role, reset, disable.

The command line (``parcel-edge hub user add|list``) stays for the first user and for
scripts; this page is for the facility's day to day, every change in the audit log.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from edge.hub.services import ROLES, USERNAME, HubServices, ServiceError
from edge.hub.web import auth
from edge.hub.web.render import render

router = APIRouter()
MANAGE = [Depends(auth.check_csrf)]


def users_page(request: Request, user: auth.User, *, error: str = "", done: str = "",
               status_code: int = 200) -> Response:
    now = datetime.now(timezone.utc)
    rows = [(u, u.locked_until is not None and u.locked_until > now)
            for u in request.app.state.hub.users()]
    return render(request, "users.html", {"rows": rows, "roles": ROLES, "error": error, "done": done},
                  user=user, status_code=status_code)


@router.get("/users")
def show(request: Request, done: str = "", user: auth.User = Depends(auth.require("users"))) -> Response:
    return users_page(request, user, done=done if USERNAME.match(done) else "")


def _change(request: Request, user: auth.User, name: str,
            step: Callable[[HubServices], object]) -> Response:
    """One audited change, then back to the list (303); its refusal in words (400)."""
    try:
        step(request.app.state.hub)
    except ServiceError as exc:
        return users_page(request, user, error=str(exc), status_code=400)
    return RedirectResponse(f"/users?done={name}", status_code=303)


@router.post("/users/add", dependencies=MANAGE)
def add(request: Request, username: str = Form(..., max_length=64), role: str = Form(..., max_length=20),
        password: str = Form(..., max_length=200),
        user: auth.User = Depends(auth.require("users"))) -> Response:
    return _change(request, user, username,
                   lambda hub: hub.add_user(username, password, role, user.username))


@router.post("/users/{name}/role", dependencies=MANAGE)
def set_role(request: Request, name: str, role: str = Form(..., max_length=20),
             user: auth.User = Depends(auth.require("users"))) -> Response:
    return _change(request, user, name, lambda hub: hub.set_role(name, role, user.username))


@router.post("/users/{name}/password", dependencies=MANAGE)
def set_password(request: Request, name: str, password: str = Form(..., max_length=200),
                 user: auth.User = Depends(auth.require("users"))) -> Response:
    return _change(request, user, name, lambda hub: hub.set_password(name, password, user.username))


@router.post("/users/{name}/access", dependencies=MANAGE)
def set_access(request: Request, name: str, disabled: bool = Form(...),
               user: auth.User = Depends(auth.require("users"))) -> Response:
    return _change(request, user, name, lambda hub: hub.set_disabled(name, disabled, user.username))
