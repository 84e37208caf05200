"""The fleet: each unit online or not, read rate, outbox, model and catalogue, last error."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from edge.hub.web import auth
from edge.hub.web.render import render

router = APIRouter()


@router.get("/fleet")
def fleet_page(request: Request, user: auth.User = Depends(auth.require("fleet"))) -> Response:
    return render(request, "fleet.html", {"units": request.app.state.hub.fleet()}, user=user)
