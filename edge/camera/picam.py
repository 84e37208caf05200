"""Camera source `picamera2`: the Raspberry Pi camera through picamera2 (libcamera).

Two facts drive this module.  First, the belt moves: an exposure longer than
the time the belt takes to travel about two barcode module widths smears bars
into each other and no decoder recovers them, so the exposure is fixed
(auto-exposure off) and capped by :meth:`edge.config.ConveyorConfig.max_exposure_us`;
the cap is logged whenever it lowers the configured value.  Second,
picamera2's ``RGB888`` format is named after libcamera's DRM fourcc and, as
its manual's format table says, stores each pixel as [B, G, R] — exactly
OpenCV's order — so frames are used as they come, without a colour
conversion.

picamera2 is imported inside :func:`open` (it only exists on a Pi);
``ctx.hardware["picamera2"]`` may supply a module object instead (tests).
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Literal

import numpy as np
from pydantic import Field

from edge.camera import CameraError
from edge.camera.frames import make_frame
from edge.configbase import Section
from edge.records import Frame

log = logging.getLogger(__name__)


class Config(Section):
    type: Literal["picamera2"] = "picamera2"
    camera_num: int = Field(0, ge=0, le=7)
    width: int = Field(1280, ge=64, le=9152)
    height: int = Field(960, ge=64, le=6944)
    mode: Literal["video", "still"] = "video"
    fps: float = Field(30.0, ge=1, le=120)
    exposure_us: int | None = Field(None, ge=1, le=1_000_000,
                                    description="None: the longest exposure the belt allows")
    analogue_gain: float = Field(4.0, ge=1.0, le=16.0)
    retries: int = Field(3, ge=0, le=100, description="failed captures in a row before giving up")
    lores_width: int | None = Field(None, ge=64, le=2028, description=(
        "a second, low-resolution YUV420 stream of the same exposures for presence and frame "
        "scoring (picamera2's lores); a power-of-two reduction of main (1014x760 for "
        "4056x3040) also serves as the pyramid's level; None: main only"))
    lores_height: int | None = Field(None, ge=64, le=1520)


def exposure_for(cfg: Config, conveyor: Any) -> int:
    """The exposure to use: the configured one, lowered to the belt's cap if needed."""
    cap = conveyor.max_exposure_us()
    if cfg.exposure_us is None:
        log.info("picamera2: exposure %d us, the longest the belt allows (%.2f m/s, %.2f mm modules, "
                 "%.1f modules of blur)", cap, conveyor.belt_speed_m_s, conveyor.min_module_mm,
                 conveyor.max_blur_modules)
        return cap
    if cfg.exposure_us > cap:
        log.warning("picamera2: exposure lowered from %d us to %d us: at %.2f m/s the belt would blur "
                    "more than %.1f modules of %.2f mm", cfg.exposure_us, cap, conveyor.belt_speed_m_s,
                    conveyor.max_blur_modules, conveyor.min_module_mm)
        return cap
    return cfg.exposure_us


class PiCamera:
    """One Picamera2 instance, configured once, read one request at a time."""

    name = "picamera2"

    def __init__(self, cfg: Config, module: Any, exposure_us: int) -> None:
        self.cfg = cfg
        self.exposure_us = exposure_us
        self._module = module
        self._cam: Any = None
        self._seq = 0
        self._failures = 0
        self.timeouts = 0

    def start(self) -> None:
        if self._cam is not None:
            return
        try:
            cam = self._module.Picamera2(self.cfg.camera_num)
        except Exception as exc:  # IndexError when absent, RuntimeError when it fails to open
            raise CameraError(f"picamera2 camera {self.cfg.camera_num} not available: "
                              f"{exc.__class__.__name__}: {exc}") from None
        try:
            cam.configure(self._configuration(cam))
            cam.set_controls(self._controls(cam))
            cam.start()
        except Exception as exc:
            cam.close()
            raise CameraError(f"picamera2 camera {self.cfg.camera_num} failed to start: "
                              f"{exc.__class__.__name__}: {exc}") from None
        self._cam, self._failures = cam, 0

    def _configuration(self, cam: Any) -> dict[str, Any]:
        main = {"size": (self.cfg.width, self.cfg.height), "format": "RGB888"}
        frame_us = int(1_000_000 / self.cfg.fps)
        controls = {"FrameDurationLimits": (frame_us, frame_us)}
        lores = None
        if self.cfg.lores_width and self.cfg.lores_height:
            lores = {"size": (self.cfg.lores_width, self.cfg.lores_height), "format": "YUV420"}
        if self.cfg.mode == "still":
            return cam.create_still_configuration(main=main, lores=lores, controls=controls)
        return cam.create_video_configuration(main=main, lores=lores, controls=controls)

    def _controls(self, cam: Any) -> dict[str, Any]:
        """Fixed exposure and gain; AeEnable only where this libcamera advertises it."""
        advertised = cam.camera_controls
        exposure = self.exposure_us
        if "ExposureTime" in advertised:
            low, high, _ = advertised["ExposureTime"]
            exposure = max(int(low or 1), min(int(high or exposure), exposure))
        controls: dict[str, Any] = {"ExposureTime": exposure, "AnalogueGain": self.cfg.analogue_gain}
        if "AeEnable" in advertised:
            controls["AeEnable"] = False
        else:
            log.warning("picamera2: AeEnable not advertised; exposure set without disabling AE")
        return controls

    def read(self, timeout: float) -> Frame | None:
        """One exposure; with a ``lores`` stream configured, its gray (the Y plane) rides along
        as ``Frame.lores``: presence and frame scoring run on it every frame, and only the
        frames chosen for a parcel are ever touched at full resolution."""
        got = self._capture(timeout, lores=bool(self.cfg.lores_width and self.cfg.lores_height))
        if got is None:
            return None
        frame, small = got
        return frame if small is None else dataclasses.replace(frame, lores=small)

    def _capture(self, timeout: float, lores: bool) -> tuple[Frame, np.ndarray | None] | None:
        if self._cam is None:
            raise CameraError("picamera2 camera read before start")
        small = None
        try:
            with self._cam.captured_request(wait=timeout) as request:
                image = request.make_array("main")
                if lores:  # YUV420 arrays are (height * 3 / 2, width): the first height rows are Y
                    small = request.make_array("lores")[:self.cfg.lores_height].copy()
        except TimeoutError:
            self.timeouts += 1
            self._cam.cancel_all_and_flush()  # the timed-out job would otherwise stay queued
            return None
        except Exception as exc:
            self._count_failure(exc)
            return None
        self._failures = 0
        self._seq += 1
        return make_frame(self._seq, image, f"picamera2:{self.cfg.camera_num}"), small

    def identity(self) -> dict[str, Any]:
        """Sensor model (libcamera's ``Model``, e.g. imx477), mode and the exposure in use."""
        props = getattr(self._cam, "camera_properties", None) or {}
        return {"model": props.get("Model"), "camera_num": self.cfg.camera_num,
                "size": f"{self.cfg.width}x{self.cfg.height}", "fps": self.cfg.fps,
                "exposure_us": self.exposure_us, "analogue_gain": self.cfg.analogue_gain}

    def _count_failure(self, exc: Exception) -> None:
        self._failures += 1
        reason = f"{exc.__class__.__name__}: {exc}"
        if self._failures > self.cfg.retries:
            raise CameraError(f"picamera2 camera {self.cfg.camera_num} failed {self._failures} "
                              f"captures in a row: {reason}")
        log.warning("picamera2: capture failed (%s), %d/%d", reason, self._failures, self.cfg.retries)

    def stop(self) -> None:
        cam, self._cam = self._cam, None
        if cam is None:
            return
        try:
            cam.stop()
        finally:
            cam.close()


def open(cfg: Config, ctx: Any) -> PiCamera:  # noqa: A001 - registry entry point
    module = ctx.hardware.get("picamera2")
    if module is None:
        try:
            import picamera2 as module
        except ImportError as exc:
            raise CameraError(f"picamera2 is not installed (pip install 'parcel-edge[pi]'): {exc}") from None
    conveyor = ctx.conveyor
    if conveyor is None:
        from edge.config import ConveyorConfig

        conveyor = ConveyorConfig()
    return PiCamera(cfg, module, exposure_for(cfg, conveyor))
