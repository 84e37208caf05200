"""Sharing downloads: the importer's package (unredacted) and the rights holder's (redacted).

A POST (CSRF-checked, audited by the services): building a package is an act of
disclosure, not a page view.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from edge.hub.services import ServiceError
from edge.hub.store.base import AUDIENCES
from edge.hub.web import auth
from edge.hub.web.render import not_found
from edge.hub.web.routes.cases import REFERENCE, case_page

router = APIRouter()


@router.post("/case/{reference}/share/{audience}", dependencies=[Depends(auth.check_csrf)])
def share(request: Request, reference: str, audience: str,
          user: auth.User = Depends(auth.require("share"))) -> Response:
    if not REFERENCE.match(reference) or audience not in AUDIENCES:
        return not_found(request, "No such case or package.")
    try:
        package = request.app.state.hub.build_share(reference, audience, user.username)
    except ServiceError as exc:
        return case_page(request, reference, user, error=str(exc), status_code=400)
    return Response(package.data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{package.name}"',
        "X-Content-SHA256": package.sha256})
