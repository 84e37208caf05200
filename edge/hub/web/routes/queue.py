"""The work queue: flag, review, no_read and quality_reject parcels, most urgent then newest.

Live by polling: the page asks ``/queue/rows?since=N`` every few seconds and gets 204
when nothing changed (one cheap counter read) or the re-rendered rows.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from edge.hub.store.base import QUEUE_OUTCOMES
from edge.hub.web import auth
from edge.hub.web.render import render

router = APIRouter()


def _outcomes(only: str) -> tuple[str, ...]:
    return (only,) if only in QUEUE_OUTCOMES else QUEUE_OUTCOMES


@router.get("/queue")
def queue_page(request: Request, only: str = "",
               user: auth.User = Depends(auth.require("view"))) -> Response:
    hub = request.app.state.hub
    change = hub.change_counter()
    rows = hub.queue(_outcomes(only), request.app.state.web.queue_limit)
    return render(request, "queue.html", {"rows": rows, "change": change, "only": only,
                                          "outcomes": QUEUE_OUTCOMES,
                                          "limit": request.app.state.web.queue_limit,
                                          "poll_s": request.app.state.web.poll_s}, user=user)


@router.get("/queue/rows")
def queue_rows(request: Request, since: int = -1, only: str = "",
               user: auth.User = Depends(auth.require("view"))) -> Response:
    hub = request.app.state.hub
    change = hub.change_counter()
    if change == since:
        return Response(status_code=204, headers={"X-Change": str(change)})
    rows = hub.queue(_outcomes(only), request.app.state.web.queue_limit)
    response = render(request, "queue_rows.html", {"rows": rows}, user=user)
    response.headers["X-Change"] = str(change)
    return response
