"""The exam table's phone pages: open a case, take the standard's views one by one, file the set.

Every photo is checked on arrival (:mod:`edge.hub.photos`) and the answer is a
page: the failing check, what was measured and what to do, and the retake
prompt; or the next view.  Uploads are refused by size before they are read in
full and by content before they are decoded; a refused upload leaves nothing
stored and nothing published.  The service is the hub's (``app.state.capture``).
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from edge.hub.photos.check import PhotoVerdict
from edge.hub.photos.decode import PhotoError
from edge.hub.photos.guide import exposure_rules, file_rules, render_pdf, view_rows
from edge.hub.photos.service import CaptureService
from edge.hub.web import auth
from edge.hub.web.render import render
from edge.package.build import PackageError
from edge.records import Reference

router = APIRouter()
FORM_SLACK = 64 * 1024


def _service(request: Request) -> CaptureService | None:
    return getattr(request.app.state, "capture", None)


def _unavailable(request: Request, user: auth.User) -> Response:
    return render(request, "error.html", {"title": "Photo capture is off", "message":
                  "This hub has no capture section in its config, so exam photos cannot be taken."},
                  user=user, status_code=503)


def _too_big(request: Request, service: CaptureService) -> bool:
    """The request's declared size, checked before the form is parsed."""
    try:
        size = int(request.headers.get("content-length", "0"))
    except ValueError:
        return True
    return size > service.cfg.max_bytes + FORM_SLACK


def _read(upload: UploadFile, service: CaptureService) -> bytes:
    """At most one byte over the limit is read, so the service refuses it by size."""
    return upload.file.read(service.cfg.max_bytes + 1)


@router.get("/capture")
def home(request: Request, error: str = "",
         user: auth.User = Depends(auth.require("capture"))) -> Response:
    service = _service(request)
    if service is None:
        return _unavailable(request, user)
    rows = [r for r in request.app.state.hub.queue(limit=30) if r.reference and r.reference_valid]
    return render(request, "capture_home.html", {"rows": rows, "error": error[:200]}, user=user,
                  status_code=400 if error else 200)


@router.get("/capture/open")
def open_typed(request: Request, reference: str = "",
               user: auth.User = Depends(auth.require("capture"))) -> Response:
    service = _service(request)
    if service is None:
        return _unavailable(request, user)
    try:
        ref = service.reference(reference[:80])
    except PhotoError as exc:
        return home(request, str(exc), user)
    return RedirectResponse(f"/capture/case/{ref.value}", status_code=303)


@router.post("/capture/label", dependencies=[Depends(auth.check_csrf)])
def open_from_label(request: Request, photo: UploadFile = File(...),
                    user: auth.User = Depends(auth.require("capture"))) -> Response:
    service = _service(request)
    if service is None:
        return _unavailable(request, user)
    if _too_big(request, service):
        return home(request, "the photo is over the upload limit: take it again", user)
    try:
        ref = service.read_label(_read(photo, service), photo.content_type)
    except PhotoError as exc:
        return home(request, str(exc), user)
    return RedirectResponse(f"/capture/case/{ref.value}", status_code=303)


def _case_page(request: Request, service: CaptureService, user: auth.User, ref: Reference, *,
               verdict: PhotoVerdict | None = None, key: str = "", error: str = "",
               status_code: int = 200) -> Response:
    """The case's views; the one to take now is a failed or chosen ``key``, else the next needed."""
    views = service.views(user.username, ref)
    current = key if (verdict is None or not verdict.passed) else ""
    if not current:
        current = next((v.next_key for v in views if v.required and not v.taken and v.next_key),
                       "")
    return render(request, "capture_case.html", {
        "ref": ref, "views": views, "current": current,
        "current_view": {v.name: v for v in views}.get(current.split("-")[0]) if current else None,
        "verdict": verdict, "error": error,
        "known_case": request.app.state.hub.case(ref.value) is not None,
        "missing": service.missing(user.username, ref),
        "limit_mb": service.cfg.max_upload_mb}, user=user, status_code=status_code)


def _reference(request: Request, service: CaptureService, text: str) -> Reference | None:
    try:
        return service.reference(text[:80])
    except PhotoError:
        return None


def _open_case(request: Request, reference: str,
               user: auth.User) -> tuple[CaptureService, Reference] | Response:
    """The service and the case's reference, or the page that says why there is none."""
    service = _service(request)
    if service is None:
        return _unavailable(request, user)
    ref = _reference(request, service, reference)
    if ref is None:
        return home(request, f"{reference[:40]!r} is not a valid reference number", user)
    return service, ref


@router.get("/capture/case/{reference}")
def case(request: Request, reference: str, view: str = "",
         user: auth.User = Depends(auth.require("capture"))) -> Response:
    opened = _open_case(request, reference, user)
    if isinstance(opened, Response):
        return opened
    service, ref = opened
    if view:
        try:
            service.valid_key(view[:20])
        except PhotoError as exc:
            return _case_page(request, service, user, ref, error=str(exc), status_code=400)
    return _case_page(request, service, user, ref, key=view[:20])


@router.post("/capture/case/{reference}/photo", dependencies=[Depends(auth.check_csrf)])
def photo(request: Request, reference: str, key: str = Form(..., max_length=20),
          photo: UploadFile = File(...),
          user: auth.User = Depends(auth.require("capture"))) -> Response:
    opened = _open_case(request, reference, user)
    if isinstance(opened, Response):
        return opened
    service, ref = opened
    if _too_big(request, service):
        return _case_page(request, service, user, ref, key=key, status_code=413,
                          error="the photo is over the upload limit: take it again")
    try:
        verdict = service.check(user.username, ref, key, _read(photo, service), photo.content_type)
    except PhotoError as exc:
        return _case_page(request, service, user, ref, key=key, error=str(exc), status_code=400)
    return _case_page(request, service, user, ref, verdict=verdict, key=key)


@router.post("/capture/case/{reference}/discard", dependencies=[Depends(auth.check_csrf)])
def discard(request: Request, reference: str, key: str = Form(..., max_length=20),
            user: auth.User = Depends(auth.require("capture"))) -> Response:
    opened = _open_case(request, reference, user)
    if isinstance(opened, Response):
        return opened
    service, ref = opened
    try:
        service.discard(user.username, ref, key)
    except PhotoError as exc:
        return _case_page(request, service, user, ref, error=str(exc), status_code=400)
    return RedirectResponse(f"/capture/case/{ref.value}", status_code=303)


@router.post("/capture/case/{reference}/file", dependencies=[Depends(auth.check_csrf)])
def file_set(request: Request, reference: str,
             user: auth.User = Depends(auth.require("capture"))) -> Response:
    opened = _open_case(request, reference, user)
    if isinstance(opened, Response):
        return opened
    service, ref = opened
    try:
        package = service.file(user.username, ref)
    except (PhotoError, PackageError) as exc:
        return _case_page(request, service, user, ref, error=str(exc), status_code=400)
    request.app.state.hub.audit(user.username, "capture.file", ref.value,
                                {"record": package.record.id, "files": len(package.files)})
    return render(request, "capture_filed.html", {"ref": ref, "package": package}, user=user)


def _guide_context(service: CaptureService | None) -> dict[str, Any]:
    from edge.hub.photos.config import CaptureConfig

    cfg = service.cfg if service is not None else CaptureConfig()
    return {"profile": cfg.quality, "rows": view_rows(cfg.quality), "files": file_rules(cfg),
            "exposure": exposure_rules(cfg.quality)}


@router.get("/capture/guide")
def guide(request: Request, user: auth.User = Depends(auth.require("view"))) -> Response:
    return render(request, "capture_guide.html", _guide_context(_service(request)), user=user)


@router.get("/capture/guide.pdf")
def guide_pdf(request: Request, user: auth.User = Depends(auth.require("view"))) -> Response:
    from edge.hub.photos.config import CaptureConfig

    service = _service(request)
    pdf = render_pdf(service.cfg if service is not None else CaptureConfig())
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": 'inline; filename="photographic-standards-guide.pdf"'})
