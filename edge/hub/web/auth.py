"""Who is asking, and may they: sessions, a permission on every route, CSRF on every POST.

A session is a random token in an HttpOnly, SameSite=Strict cookie; the hub's store
keeps only its SHA-256 with the user and expiry (``services.create_session``), so a
copy of the database opens no sessions and logging out, a new password or a disabled
account end sessions for every hub process at once.  The user and role are read from
the store on every request.  The CSRF token is an HMAC of the session token under the
app's secret (synchronizer token): our pages put it in every form, another site cannot
read it.  Before login the same is done with a random pre-session cookie, so the login
form is protected too.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from fastapi import Request

from edge.hub.services import allowed

SESSION_COOKIE = "pe_session"
PRE_COOKIE = "pe_pre"
_UNSET = object()


@dataclass(frozen=True)
class User:
    username: str
    role: str


class LoginRequired(Exception):
    """No valid session: pages redirect to the login form, fetches get 401."""


class Forbidden(Exception):
    """Logged in, but the role does not grant this."""


class CsrfFailed(Exception):
    """A POST without the token this session's pages carry."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_session(request: Request, username: str) -> str:
    """A fresh session (a new token at every login); returns the cookie's value."""
    token = new_token()
    expires = datetime.now(timezone.utc) + timedelta(seconds=request.app.state.web.session_ttl_s)
    request.app.state.hub.create_session(token_hash(token), username, expires)
    return token


def end_session(request: Request) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token and len(token) <= 100:
        request.app.state.hub.end_session(token_hash(token))


def current_user(request: Request) -> User | None:
    """The session's user, checked against the store once per request."""
    cached = getattr(request.state, "user", _UNSET)
    if cached is not _UNSET:
        return cached
    user, token = None, request.cookies.get(SESSION_COOKIE)
    if token and len(token) <= 100:
        row = request.app.state.hub.session_user(token_hash(token))
        if row is not None:
            user = User(row.username, row.role)
    request.state.user = user
    return user


def may(user: User | None, permission: str) -> bool:
    return user is not None and allowed(user.role, permission)


def require(permission: str) -> Callable[[Request], User]:
    """A dependency returning the logged-in user when their role grants ``permission``."""

    def dependency(request: Request) -> User:
        user = current_user(request)
        if user is None:
            raise LoginRequired()
        if not allowed(user.role, permission):
            raise Forbidden()
        return user

    dependency.permission = permission  # type: ignore[attr-defined]  # read by the route tests
    return dependency


def logged_in(request: Request) -> User:
    """Any logged-in user (the home redirect, logout)."""
    user = current_user(request)
    if user is None:
        raise LoginRequired()
    return user


logged_in.permission = "*"  # type: ignore[attr-defined]


def csrf_token(request: Request) -> str:
    """The token this request's pages put in their forms."""
    basis = f"s:{request.cookies.get(SESSION_COOKIE)}" if current_user(request) \
        else f"p:{pre_session(request)}"
    return hmac.new(request.app.state.secret_key, basis.encode(), hashlib.sha256).hexdigest()


def pre_session(request: Request) -> str:
    """The random pre-login cookie's value (minted once when missing)."""
    value = request.cookies.get(PRE_COOKIE) or getattr(request.state, "new_pre", None)
    if not value or len(value) > 100:
        value = new_token()
        request.state.new_pre = value
    return value


async def check_csrf(request: Request) -> None:
    """Refuses a POST whose form field ``csrf`` (or header ``X-CSRF-Token``) is not ours."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, csrf_token(request)):
        raise CsrfFailed()
