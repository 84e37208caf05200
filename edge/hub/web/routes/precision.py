"""Live precision of flags, per brand and model version, from officers' decisions."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from edge.hub.web import auth
from edge.hub.web.render import render

router = APIRouter()


@router.get("/precision")
def precision_page(request: Request, user: auth.User = Depends(auth.require("view"))) -> Response:
    return render(request, "precision.html", {"rows": request.app.state.hub.precision()}, user=user)
