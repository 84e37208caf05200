"""Camera source `opencv`: ``cv2.VideoCapture`` on a USB index, an RTSP URL or a file.

USB cables get knocked and IP cameras reboot, so a failed read is not the end:
the source drops the handle and reconnects with a growing pause, answering
``None`` meanwhile so the run loop keeps its own timing.  Only after
``retries`` reconnects in a row have failed does it raise :class:`CameraError`.
A local file that runs out ends the stream instead.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any, Callable, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator

from edge.backoff import exponential
from edge.camera import CameraError, EndOfStream
from edge.camera.frames import make_frame, wait_until
from edge.configbase import Section
from edge.records import Frame

log = logging.getLogger(__name__)


class Config(Section):
    type: Literal["opencv"] = "opencv"
    source: int | str = Field(0, description="USB camera index, RTSP/HTTP URL or video file path")
    width: int | None = Field(None, ge=16, le=8192)
    height: int | None = Field(None, ge=16, le=8192)
    fps: float | None = Field(None, gt=0, le=240)
    retries: int = Field(5, ge=0, le=1000, description="reconnects in a row before giving up")
    backoff_s: float = Field(0.5, gt=0, le=60, description="first pause before a reconnect")
    max_backoff_s: float = Field(10.0, gt=0, le=600)
    io_timeout_ms: int = Field(5000, ge=100, le=120000, description="open/read timeout for streams")

    @field_validator("source")
    @classmethod
    def _index_as_int(cls, value: int | str) -> int | str:
        """A quoted index ("0") still means a USB camera, not a file named 0."""
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        if isinstance(value, int) and not 0 <= value <= 63:
            raise ValueError("camera index must be 0-63")
        return value


def redacted(source: int | str) -> str:
    """The source as it may appear in logs and errors: RTSP URLs often carry a password."""
    if isinstance(source, int):
        return str(source)
    parts = urlsplit(source)
    if parts.password is None and parts.username is None:
        return source
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class OpenCVCamera:
    """One ``VideoCapture`` handle, replaced on failure; ``factory`` is injectable for tests."""

    name = "opencv"

    def __init__(self, cfg: Config, factory: Callable[..., Any]) -> None:
        self.cfg = cfg
        self._factory = factory
        self._cap: Any = None
        self._seq = 0
        self._failures = 0
        self._retry_at = 0.0
        self._last_error = ""
        self.reconnects = 0
        self.label = redacted(cfg.source)
        self._is_file = isinstance(cfg.source, str) and os.path.isfile(cfg.source)

    def start(self) -> None:
        """Open the device; an absent camera is an immediate error, not a retry loop."""
        self._failures = 0
        reason = self._connect()
        if reason:
            raise CameraError(f"opencv camera {self.label}: {reason}")

    def read(self, timeout: float) -> Frame | None:
        if self._cap is None:
            return self._reconnect(timeout)
        self._last_error = ""
        try:
            ok, image = self._cap.read()
        except Exception as exc:  # cv2.error and backend errors alike mean a lost device
            ok, image = False, None
            self._last_error = f"{exc.__class__.__name__}: {exc}"
        if ok and image is not None:
            self._failures = 0
            self._seq += 1
            return make_frame(self._seq, image, f"opencv:{self.label}")
        if self._is_file:
            raise EndOfStream(self.label)
        self._fail(self._last_error or "read returned no frame")
        return None

    def stop(self) -> None:
        self._release()

    def _connect(self) -> str:
        """Open a fresh handle; the reason it failed, or '' when it is open."""
        import cv2

        self._release()
        ms = self.cfg.io_timeout_ms
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
        try:
            cap = self._factory(self.cfg.source, cv2.CAP_ANY, params)
        except Exception as exc:
            return f"{exc.__class__.__name__}: {exc}"
        if not cap.isOpened():
            cap.release()
            return "device did not open"
        self._apply_settings(cap)
        self._cap = cap
        return ""

    def _apply_settings(self, cap: Any) -> None:
        import cv2

        wanted = ((cv2.CAP_PROP_FRAME_WIDTH, self.cfg.width), (cv2.CAP_PROP_FRAME_HEIGHT, self.cfg.height),
                  (cv2.CAP_PROP_FPS, self.cfg.fps))
        for prop, value in wanted:
            if value is not None and not cap.set(prop, float(value)):
                log.warning("opencv camera %s ignored property %s=%s", self.label, prop, value)

    def _fail(self, reason: str) -> None:
        """Count a failure, drop the handle and schedule the next reconnect."""
        self._failures += 1
        self._last_error = reason
        self._release()
        if self._failures > self.cfg.retries:
            raise CameraError(f"opencv camera {self.label} lost after "
                              f"{self._failures} failures in a row: {reason}")
        pause = exponential(self.cfg.backoff_s, self.cfg.max_backoff_s, self._failures - 1)
        self._retry_at = time.monotonic() + pause
        log.warning("opencv camera %s failed (%s); reconnect %d/%d in %.1f s",
                    self.label, reason, self._failures, self.cfg.retries, pause)

    def _reconnect(self, timeout: float) -> None:
        """Wait (at most ``timeout``) for the reconnect time, then try once."""
        if not wait_until(self._retry_at, timeout):
            return None
        reason = self._connect()
        if reason:
            self._fail(reason)
        else:
            self.reconnects += 1
            log.info("opencv camera %s reconnected", self.label)
        return None

    def _release(self) -> None:
        if self._cap is not None:
            try:
                self._cap.release()
            finally:
                self._cap = None


def open(cfg: Config, ctx: Any) -> OpenCVCamera:  # noqa: A001 - registry entry point
    import cv2

    factory = ctx.hardware.get("video_capture", cv2.VideoCapture) if ctx is not None else cv2.VideoCapture
    return OpenCVCamera(cfg, factory)
