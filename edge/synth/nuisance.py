"""What a real conveyor does to a picture, one small function each.

Geometric nuisances also return the homography they applied so the truth
boxes follow the pixels; they keep the label inside the frame, because a
label the camera never saw cannot be a fair reading test.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import cv2
import numpy as np

BORDER_BGR = (38, 36, 34)
Step = tuple[np.ndarray, np.ndarray | None, dict[str, Any]]


@dataclass(frozen=True)
class Optics:
    """The belt and camera behind motion blur: blur px = speed x exposure / (mm per px)."""

    belt_speed_m_s: float = 0.5
    mm_per_px: float = 600.0 / 1280.0
    exposure_us: tuple[float, float] = (1000.0, 5000.0)

    def blur_px(self, exposure_us: float) -> float:
        return self.belt_speed_m_s * exposure_us * 1e-3 / self.mm_per_px


def _project(q: np.ndarray, h: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(q.reshape(-1, 1, 2).astype(np.float32), h.astype(np.float32)).reshape(-1, 2)


def _keep_inside(h: np.ndarray, keep: np.ndarray, width: int, height: int, margin: float = 8) -> np.ndarray:
    """Add the translation that brings the ``keep`` quad back inside the frame."""
    q = _project(keep, h)
    shift = []
    for lo, hi, size in ((q[:, 0].min(), q[:, 0].max(), width), (q[:, 1].min(), q[:, 1].max(), height)):
        if hi - lo > size - 2 * margin:
            shift.append(size / 2 - (lo + hi) / 2)
        else:
            shift.append(max(0.0, margin - lo) + min(0.0, size - margin - hi))
    t = np.float64([[1, 0, shift[0]], [0, 1, shift[1]], [0, 0, 1]])
    return t @ h


def rotation(img: np.ndarray, rng: np.random.Generator, keep: np.ndarray) -> Step:
    """The parcel at any angle on the belt (the full circle)."""
    height, width = img.shape[:2]
    angle = float(rng.uniform(0, 360))
    h = np.vstack([cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0), [0, 0, 1]])
    h = _keep_inside(h, keep, width, height)
    out = cv2.warpAffine(img, h[:2], (width, height), flags=cv2.INTER_LINEAR, borderValue=BORDER_BGR)
    return out, h, {"angle": round(angle, 2)}


def perspective(img: np.ndarray, rng: np.random.Generator, keep: np.ndarray) -> Step:
    """A camera not square to the belt: each frame corner moved by up to 12 %."""
    height, width = img.shape[:2]
    src = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    jitter = rng.uniform(-0.12, 0.12, (4, 2)) * (width, height)
    h = cv2.getPerspectiveTransform(src, (src + jitter).astype(np.float32)).astype(np.float64)
    h = _keep_inside(h, keep, width, height)
    out = cv2.warpPerspective(img, h, (width, height), flags=cv2.INTER_LINEAR, borderValue=BORDER_BGR)
    return out, h, {"corner_shift_px": np.round(jitter, 1).tolist()}


def motion_kernel(length: float) -> np.ndarray:
    """A horizontal box kernel of fractional ``length`` px (the belt moves along x)."""
    n = int(np.ceil(length)) | 1
    k = np.ones(n, np.float32)
    k[[0, -1]] = max(0.0, 1 - (n - length) / 2)
    return (k / k.sum()).reshape(1, -1)


def motion_blur(img: np.ndarray, rng: np.random.Generator, keep: np.ndarray, optics: Optics = Optics()) -> Step:
    """Smear along the belt for the time the shutter is open."""
    exposure = float(rng.uniform(*optics.exposure_us))
    length = optics.blur_px(exposure)
    out = cv2.filter2D(img, -1, motion_kernel(length)) if length > 1 else img.copy()
    return out, None, {"exposure_us": round(exposure), "blur_px": round(length, 2)}


def defocus(img: np.ndarray, rng: np.random.Generator, keep: np.ndarray) -> Step:
    """A parcel taller or lower than the focal plane: a disc blur."""
    radius = float(rng.uniform(1.2, 2.6))
    n = int(np.ceil(radius)) * 2 + 1
    disc = np.zeros((n, n), np.float32)
    cv2.circle(disc, (n // 2, n // 2), int(round(radius)), 1.0, -1, cv2.LINE_AA)
    return cv2.filter2D(img, -1, disc / disc.sum()), None, {"radius_px": round(radius, 2)}


def low_light(img: np.ndarray, rng: np.random.Generator, keep: np.ndarray) -> Step:
    """A failing lamp: dark frame with the sensor noise that comes with gain."""
    gain = float(rng.uniform(0.1, 0.3))
    sigma = float(rng.uniform(2.0, 5.0))
    noise = rng.standard_normal(img.shape, dtype=np.float32) * sigma
    out = np.clip(img.astype(np.float32) * gain + noise, 0, 255).astype(np.uint8)
    return out, None, {"gain": round(gain, 3), "noise_sigma": round(sigma, 2)}


def gradient(img: np.ndarray, rng: np.random.Generator, keep: np.ndarray) -> Step:
    """Uneven lighting across the belt: a brightness ramp in a random direction."""
    height, width = img.shape[:2]
    theta = float(rng.uniform(0, 2 * np.pi))
    lo, hi = float(rng.uniform(0.35, 0.6)), float(rng.uniform(1.0, 1.2))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    t = (xx - width / 2) * np.cos(theta) + (yy - height / 2) * np.sin(theta)
    t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    ramp = lo + (hi - lo) * t
    out = np.clip(img.astype(np.float32) * ramp[:, :, None], 0, 255).astype(np.uint8)
    return out, None, {"direction_deg": round(np.degrees(theta), 1), "low": round(lo, 2), "high": round(hi, 2)}


def glare(img: np.ndarray, rng: np.random.Generator, keep: np.ndarray,
          matte: bool = False) -> Step:
    """A specular reflection off tape or plastic: a saturated blob, often on the label.

    Glare is the light source mirrored, so only a glossy surface gives it.  On
    a ``matte`` parcel (board, paper) the blob lights only the label (its
    pouch or laminate is what shines): drawn over the board too, it made flat
    boxes swell like film (their broad shading, edge.classify.shading, on the
    237 boxes of the packaging fusion's 800 parcels: a twentieth over 13.4 %,
    over 8.3 % with glare held to the label; boxes drawn with no nuisance 0.7 %
    in the median).
    """
    height, width = img.shape[:2]
    centre = keep.mean(0) if rng.random() < 0.5 else rng.uniform((0, 0), (width, height))
    centre = centre + rng.normal(0, 60, 2)
    sx, sy = rng.uniform(30, 110, 2)
    peak = float(rng.uniform(150, 255))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    blob = np.exp(-(((xx - centre[0]) / sx) ** 2 + ((yy - centre[1]) / sy) ** 2) / 2) * peak
    if matte:
        blob *= _inside(keep, width, height)
    out = np.clip(img.astype(np.float32) + blob[:, :, None], 0, 255).astype(np.uint8)
    return out, None, {"centre": np.round(centre, 1).tolist(), "peak": round(peak, 1)}


def _inside(quad: np.ndarray, width: int, height: int) -> np.ndarray:
    """1 inside ``quad``, 0 outside, its edge softened over a pixel or two (float32)."""
    mask = np.zeros((height, width), np.float32)
    cv2.fillConvexPoly(mask, np.round(quad).astype(np.int32), 1.0, cv2.LINE_AA)
    return cv2.GaussianBlur(mask, (0, 0), 1.0)


def jpeg(img: np.ndarray, rng: np.random.Generator, keep: np.ndarray) -> Step:
    """Re-compression by a camera or a gateway at a low quality setting."""
    quality = int(rng.integers(15, 46))
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(buf, cv2.IMREAD_COLOR), None, {"quality": quality}


NUISANCES: dict[str, Callable[..., Step]] = {
    "rotation": rotation, "perspective": perspective, "motion_blur": motion_blur, "defocus": defocus,
    "low_light": low_light, "gradient": gradient, "glare": glare, "jpeg": jpeg,
}
NAMES = ("clean",) + tuple(NUISANCES)
GEOMETRIC = ("rotation", "perspective")


def check_names(names: Sequence[str]) -> tuple[str, ...]:
    """The names, validated; raises ValueError naming the unknown one."""
    for name in names:
        if name not in NAMES:
            raise ValueError(f"unknown nuisance {name!r} (known: {', '.join(NAMES)})")
    return tuple(names)


def apply(img: np.ndarray, rng: np.random.Generator, names: Sequence[str],
          keep: np.ndarray, matte: bool = False) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Apply nuisances in order: geometric first, JPEG last, like the real optical path.
    ``matte``: the parcel is board or paper, so glare lights only its label (:func:`glare`)."""
    order = sorted(check_names(names), key=lambda n: (n not in GEOMETRIC, n == "jpeg"))
    total = np.eye(3)
    params: dict[str, Any] = {}
    for name in order:
        if name == "clean":
            continue
        step = NUISANCES[name]
        quad = _project(keep, total)
        img, h, params[name] = glare(img, rng, quad, matte) if step is glare else \
            step(img, rng, quad)
        if h is not None:
            total = h @ total
    return img, total, params
