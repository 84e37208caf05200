"""Who is asking, and may they: sessions, a permission on every route, CSRF on every POST.

The session is a cookie (HttpOnly, SameSite=Strict) signed with the app's secret
(itsdangerous) carrying the user name, a random session nonce and a fingerprint of
the user's password hash.  The user and role are read from the store on every
request, so disabling a user, changing a role or a password takes effect at once
(a new password ends every old session); the signature's age bounds a session.
The CSRF token is an HMAC of the session nonce (synchronizer token): our pages put
it in every form, another site cannot read it.  Before login the same is done with
a random pre-session cookie, so the login form is protected too.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Callable

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

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


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret_key, salt="parcel-edge-session")


def fingerprint(password_hash: str) -> str:
    """Short digest of the stored hash: a password change invalidates older cookies."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def session_cookie(request: Request, username: str, password_hash: str) -> tuple[str, str]:
    """(cookie value, nonce) for a fresh session: a new nonce at every login."""
    nonce = new_token()
    value = _serializer(request).dumps({"u": username, "n": nonce, "f": fingerprint(password_hash)})
    return value, nonce


def _session(request: Request) -> dict[str, Any] | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw or len(raw) > 1000:
        return None
    try:
        data = _serializer(request).loads(raw, max_age=request.app.state.web.session_ttl_s)
    except BadSignature:
        return None
    return data if isinstance(data, dict) and {"u", "n", "f"} <= data.keys() else None


def current_user(request: Request) -> User | None:
    """The session's user, checked against the store once per request."""
    cached = getattr(request.state, "user", _UNSET)
    if cached is not _UNSET:
        return cached
    user, data = None, _session(request)
    if data is not None:
        row = request.app.state.hub.user(str(data["u"]))
        if row is not None and not row.disabled and \
                hmac.compare_digest(fingerprint(row.password_hash), str(data["f"])):
            user = User(row.username, row.role)
            request.state.nonce = str(data["n"])
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
    basis = f"s:{request.state.nonce}" if current_user(request) else f"p:{pre_session(request)}"
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
