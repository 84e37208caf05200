"""A parcel's package: standard JPEG views, redacted copies and the JSON record beside them.

Building is pure (bytes in memory) so the outbox decides when they become
durable; :func:`write_package` is the plain-folder writer used by ``process``
and tests, with the same tmp-fsync-rename discipline as the outbox.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import cv2
import numpy as np

from edge.durable import fsync_dir, write_atomic
from edge.imageio import to_bgr8
from edge.package import naming, redact
from edge.package.config import PackageConfig
from edge.package.jpeg import ImageMeta, encode_jpeg
from edge.pyramid import Pyramid
from edge.quality.config import QualityProfile
from edge.records import Box, ImageRef, Package, PackageFile, ParcelRecord, dumps

_PARCEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$")
_SHRINK = 0.7
_MAX_SHRINKS = 6


class PackageError(ValueError):
    """A package that cannot be built or written; one line for the log."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def view_regions(shape: tuple[int, ...], parcel_box: Box | None, label_box: Box | None,
                 profile: QualityProfile, cfg: PackageConfig) -> dict[str, Box]:
    """Crop box per view: the parcel with the profile's margin (or the frame), the label."""
    height, width = shape[:2]
    regions: dict[str, Box] = {}
    if "parcel" in profile.views:
        box = parcel_box if parcel_box is not None and parcel_box.area > 0 else Box(0, 0, width, height)
        mx, my = int(box.w * profile.view_margin), int(box.h * profile.view_margin)
        regions["parcel"] = Box(box.x - mx, box.y - my, box.w + 2 * mx, box.h + 2 * my).clip(width, height)
    if "label" in profile.views and label_box is not None and label_box.area > 0:
        m = cfg.label_margin_px
        regions["label"] = Box(label_box.x - m, label_box.y - m,
                               label_box.w + 2 * m, label_box.h + 2 * m).clip(width, height)
    return {k: v for k, v in regions.items() if v.w > 0 and v.h > 0}


def fit(image: np.ndarray, max_w: int, max_h: int) -> np.ndarray:
    """Downscale (never up) so the image fits the standard's maximum size."""
    h, w = image.shape[:2]
    scale = min(1.0, max_w / w, max_h / h)
    if scale >= 1.0:
        return image
    size = (max(1, int(w * scale)), max(1, int(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def encode_view(image: np.ndarray, profile: QualityProfile, cfg: PackageConfig,
                meta: ImageMeta) -> tuple[bytes, np.ndarray]:
    """JPEG bytes within the size limit: shrinks the image rather than ship an oversized file."""
    image = fit(image, profile.max_width, profile.max_height)
    for _ in range(_MAX_SHRINKS):
        data = encode_jpeg(image, profile.jpeg_quality, meta)
        if len(data) <= cfg.max_image_bytes:
            return data, image
        image = fit(image, int(image.shape[1] * _SHRINK), int(image.shape[0] * _SHRINK))
    raise PackageError(f"{meta.view} view still over {cfg.max_image_bytes} bytes after shrinking")


def _meta(record: ParcelRecord, profile: QualityProfile, view: str, redacted: bool) -> ImageMeta:
    ref = naming.reference_part(record.reference)
    kind = record.reference.kind if ref != naming.NOREAD and record.reference else ""
    pid = record.id if _PARCEL_ID.match(record.id) else ""
    return ImageMeta(parcel_id=pid, unit=record.unit, time_utc=naming.iso_utc(record.time_utc),
                     reference=ref, reference_kind=kind, profile=profile.name, view=view,
                     redacted=redacted)


def _image_file(record: ParcelRecord, image: np.ndarray, view: str, redacted: bool,
                profile: QualityProfile, cfg: PackageConfig) -> tuple[PackageFile, ImageRef]:
    name = naming.file_name(record.reference, record.unit, record.time_utc, record.seq, view)
    data, shipped = encode_view(image, profile, cfg, _meta(record, profile, view, redacted))
    digest = sha256(data)
    ref = ImageRef(view=view, name=name, sha256=digest, bytes=len(data),
                   width=int(shipped.shape[1]), height=int(shipped.shape[0]), redacted=redacted)
    return PackageFile(name, view, data, digest, "image/jpeg"), ref


def build_package(record: ParcelRecord, image: np.ndarray, label_box: Box | None,
                  profile: QualityProfile, cfg: PackageConfig,
                  parcel_box: Box | None = None, pyramid: Pyramid | None = None,
                  located: bool = False) -> Package:
    """Views, redacted copies and sidecar; boxes and symbol corners are in ``image`` coordinates.

    Each view is cut from the frame once; a redacted view copies only its own
    crop and fills only the label pixels in it, so packaging costs what the
    JPEG encoding costs.  ``pyramid`` (the frame's, shared with the other
    stages) supplies the quarter-size grey the label's paper is followed on;
    with ``located`` the caller has followed it already (``label_box`` is the paper).
    """
    try:
        image = to_bgr8(image)
        if label_box is not None and label_box.area > 0 and not located:
            label_box = redact.locate_label(image, label_box, _quarter(image, pyramid))
        regions = view_regions(image.shape, parcel_box, label_box, profile, cfg)
        built = [_image_file(record, _crop(image, box), v, False, profile, cfg)
                 for v, box in regions.items()]
        description = "redaction disabled in the config"
        if cfg.redact:
            mark = record.classification.mark_box if record.classification else None
            plan = redact.plan(image, label_box, record.symbols, [mark] if mark else [])
            description = plan.describe(cfg.redaction_style)
            if plan.label is not None:  # one redacted copy at a time: each is a view's size
                built += [_image_file(record, redact.redacted_crop(
                    image, box, plan, cfg.redaction_style), f"{v}-redacted", True, profile, cfg)
                    for v, box in regions.items()]
    except (naming.NamingError, ValueError, cv2.error) as exc:
        raise PackageError(f"cannot package parcel {record.seq}: {exc}") from None
    record = dataclasses.replace(record, images=tuple(ref for _, ref in built),
                                 redaction=description)
    return Package(record, tuple(f for f, _ in built) + (_sidecar(record),))


def _quarter(image: np.ndarray, pyramid: Pyramid | None) -> np.ndarray | None:
    """The pyramid's level 2 grey when it is the frame's own quarter-size copy."""
    if pyramid is None or pyramid.image.shape[:2] != image.shape[:2]:
        return None
    return pyramid.grey(2)


def _crop(image: np.ndarray, box: Box) -> np.ndarray:
    """A view of ``box`` (no copy): OpenCV encodes and resizes strided views as they are."""
    return image[box.y:box.y + box.h, box.x:box.x + box.w]


def _sidecar(record: ParcelRecord) -> PackageFile:
    name = naming.file_name(record.reference, record.unit, record.time_utc, record.seq,
                            "record", kind="json")
    data = (dumps(record) + "\n").encode("ascii")
    return PackageFile(name, "record", data, sha256(data), "application/json")


def write_package(package: Package, out_dir: str | Path) -> list[Path]:
    """Each file via tmp + fsync + rename, the sidecar last, then the folder fsync'd."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ordered = sorted(package.files, key=lambda f: f.view == "record")
    paths = []
    for f in ordered:
        if sha256(f.data) != f.sha256:
            raise PackageError(f"{f.name}: contents do not match their SHA-256")
        path = out / naming.check_name(f.name)
        write_atomic(path, f.data, 0o644)
        paths.append(path)
    fsync_dir(out)
    return paths
