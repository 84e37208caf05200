"""Images by SHA-256 only: the path comes from a validated hex digest, never from the URL."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response

from edge.hub.services import SHA256_HEX
from edge.hub.web import auth

router = APIRouter()

MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


def _content_type(head: bytes) -> str | None:
    return next((kind for magic, kind in MAGIC if head.startswith(magic)), None)


@router.get("/img/{sha256}")
def image(request: Request, sha256: str,
          user: auth.User = Depends(auth.require("view"))) -> Response:
    if not SHA256_HEX.match(sha256):
        return Response("not an image id", status_code=404, media_type="text/plain")
    path = request.app.state.hub.image_path(sha256)
    if path is None:
        return Response("no such image", status_code=404, media_type="text/plain")
    with path.open("rb") as f:
        kind = _content_type(f.read(8))
    if kind is None:
        return Response("not an image", status_code=415, media_type="text/plain")
    return FileResponse(path, media_type=kind, headers={
        "Cache-Control": "private, max-age=86400, immutable",
        "Content-Disposition": f'inline; filename="{sha256[:16]}.{kind.split("/")[1]}"'})
