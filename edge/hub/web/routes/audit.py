"""The audit log for supervisors: every action, newest last, and whether the chain holds."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from edge.hub.web import auth
from edge.hub.web.render import render

router = APIRouter()
PAGE = 200


@router.get("/audit")
def audit_page(request: Request, after: int = 0,
               user: auth.User = Depends(auth.require("audit"))) -> Response:
    hub = request.app.state.hub
    entries = hub.audit_log(max(0, after), PAGE)
    check = hub.verify_audit()
    next_after = entries[-1].id if len(entries) == PAGE else None
    return render(request, "audit.html", {"entries": entries, "check": check,
                                          "next_after": next_after}, user=user)
