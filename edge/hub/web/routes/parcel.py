"""One parcel: its images, reasons in words, scores, the AED entry and mismatches, unit, time."""
from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from edge.hub.web import auth
from edge.hub.web.render import not_found, render

router = APIRouter()

PARCEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


@router.get("/parcel/{parcel_id}")
def parcel_page(request: Request, parcel_id: str,
                user: auth.User = Depends(auth.require("view"))) -> Response:
    hub = request.app.state.hub
    detail = hub.parcel(parcel_id) if PARCEL_ID.match(parcel_id) else None
    if detail is None:
        return not_found(request, "No parcel with that id.")
    case = hub.case(detail.row.reference) if detail.row.reference_valid else None
    scores = sorted(detail.scores.items(), key=lambda kv: -kv[1])
    return render(request, "parcel.html", {"p": detail, "row": detail.row, "case": case,
                                           "scores": scores}, user=user)
