"""One parcel: its images, reasons in words, scores, the AED entry and mismatches, unit, time."""
from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from edge.hub.services import ServiceError
from edge.hub.web import auth
from edge.hub.web.render import not_found, render

router = APIRouter()

PARCEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


@router.get("/parcel/{parcel_id}")
def parcel_page(request: Request, parcel_id: str, keyed: str = "",
                user: auth.User = Depends(auth.require("view"))) -> Response:
    return _page(request, parcel_id, user, done=bool(keyed))


@router.post("/parcel/{parcel_id}/reference", dependencies=[Depends(auth.check_csrf)])
def key_reference(request: Request, parcel_id: str, reference: str = Form(..., max_length=80),
                  user: auth.User = Depends(auth.require("act"))) -> Response:
    """A no-read's reference, keyed by an officer from the label photo: it joins its case."""
    if not PARCEL_ID.match(parcel_id) or request.app.state.hub.parcel(parcel_id) is None:
        return not_found(request, "No parcel with that id.")
    try:
        request.app.state.hub.key_reference(parcel_id, reference, user.username)
    except ServiceError as exc:
        return _page(request, parcel_id, user, error=str(exc), status_code=400)
    return RedirectResponse(f"/parcel/{parcel_id}?keyed=1", status_code=303)


def _page(request: Request, parcel_id: str, user: auth.User, *, error: str = "", done: bool = False,
          status_code: int = 200) -> Response:
    hub = request.app.state.hub
    detail = hub.parcel(parcel_id) if PARCEL_ID.match(parcel_id) else None
    if detail is None:
        return not_found(request, "No parcel with that id.")
    case = hub.case(detail.row.reference) if detail.row.reference_valid else None
    scores = sorted(detail.scores.items(), key=lambda kv: -kv[1])
    return render(request, "parcel.html", {"p": detail, "row": detail.row, "case": case,
                                           "scores": scores, "error": error, "done": done},
                  user=user, status_code=status_code)
