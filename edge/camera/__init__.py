"""Camera sources: where frames come from.  One small module per ``type``.

Every source returns :class:`edge.records.Frame` from ``read``; hardware and
files live behind this one interface so the rest of the path never knows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from edge.records import Frame
from edge.registry import Registry

CAMERAS = Registry("camera", {
    "synthetic": "edge.camera.synthetic",
    "replay": "edge.camera.replay",
    "opencv": "edge.camera.opencv",
    "picamera2": "edge.camera.picam",
})


class CameraError(RuntimeError):
    """The camera is absent or died; the run loop decides whether to retry or stop."""


class EndOfStream(Exception):
    """A finite source (replay, a synthetic run of N parcels) has no more frames."""


class Camera(Protocol):
    name: str

    def start(self) -> None: ...

    def read(self, timeout: float) -> Frame | None:
        """The next frame, ``None`` if none came within ``timeout`` s.

        Raises :class:`EndOfStream` when a finite source is done and
        :class:`CameraError` when the device is gone for good.
        """

    def stop(self) -> None: ...


@dataclass(frozen=True)
class CameraContext:
    """What a source needs besides its own section: the belt, a seed, injected hardware."""

    conveyor: Any
    seed: int = 0
    hardware: dict[str, Any] = field(default_factory=dict)


def open_camera(cfg: Any, ctx: CameraContext) -> Camera:
    return CAMERAS.opener(cfg.type)(cfg, ctx)


def identity(camera: Any) -> dict[str, Any]:
    """What the status says about the camera: its type, and model and exposure where known."""
    info: dict[str, Any] = {"type": getattr(camera, "name", type(camera).__name__)}
    describe = getattr(camera, "identity", None)
    if callable(describe):
        try:
            info.update(describe())
        except Exception as exc:  # a status line must never take the unit down
            info["error"] = f"{exc.__class__.__name__}: {exc}"
    elif getattr(camera, "exposure_us", None) is not None:
        info["exposure_us"] = camera.exposure_us
    return info
