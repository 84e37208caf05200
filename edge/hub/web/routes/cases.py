"""A case per reference number: timeline, legal clocks, and the actions that move it on."""
from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from edge.hub.services import ServiceError
from edge.hub.web import auth
from edge.hub.web.render import not_found, render

router = APIRouter()

REFERENCE = re.compile(r"^[A-Za-z0-9]{1,40}$")


def case_page(request: Request, reference: str, user: auth.User, *, error: str = "",
              done: str = "", status_code: int = 200) -> Response:
    case = request.app.state.hub.case(reference) if REFERENCE.match(reference) else None
    if case is None:
        return not_found(request, "No case with that reference number.")
    return render(request, "case.html", {"case": case, "error": error, "done": done},
                  user=user, status_code=status_code)


@router.get("/case/{reference}")
def show(request: Request, reference: str, done: str = "",
         user: auth.User = Depends(auth.require("view"))) -> Response:
    return case_page(request, reference, user, done=done[:40])


@router.post("/case/{reference}/event", dependencies=[Depends(auth.check_csrf)])
def add_event(request: Request, reference: str, kind: str = Form(..., max_length=40),
              note: str = Form("", max_length=2000), parcel_id: str = Form("", max_length=128),
              user: auth.User = Depends(auth.require("act"))) -> Response:
    if not REFERENCE.match(reference):
        return not_found(request, "No case with that reference number.")
    try:
        request.app.state.hub.add_case_event(reference, kind, user.username, note, parcel_id)
    except ServiceError as exc:
        return case_page(request, reference, user, error=str(exc), status_code=400)
    return RedirectResponse(f"/case/{reference}?done={kind}", status_code=303)
