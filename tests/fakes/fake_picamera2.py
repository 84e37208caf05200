"""A stand-in for the ``picamera2`` module, for tests on machines without a Pi camera.

It mirrors the documented surface that :mod:`edge.camera.picam` uses, with the
same names, signatures, keyword arguments, return types and errors as
picamera2 (``picamera2/picamera2.py``, ``request.py``, ``controls.py``,
``job.py`` of github.com/raspberrypi/picamera2):

* ``Picamera2(camera_num=0, verbose_console=None, tuning=None, allocator=None)``
  indexes the attached cameras, so a missing camera raises ``IndexError``; a
  camera that fails to open raises ``RuntimeError``.
* ``create_preview/still/video_configuration`` return plain dicts; an
  unknown stream key raises ``ValueError``; ``configure`` also takes the
  names "preview", "still", "video", and ``start`` on an unconfigured camera
  configures "preview" first, as picamera2 does.
* controls not advertised by the camera raise ``RuntimeError`` ("Control X is
  not advertised by libcamera"), in the configuration and in ``set_controls``.
* ``capture_array(name="main", wait=None, ...)``, ``capture_request(wait=None,
  ...)`` and the ``captured_request(wait=None, flush=None)`` context manager;
  a numeric ``wait`` with no frame coming raises ``TimeoutError`` (picamera2
  waits on a ``concurrent.futures.Future``, whose timeout is that error).
* pixel order follows the picamera2 manual's format table: ``RGB888`` arrays
  are [B, G, R] per pixel (OpenCV's order), ``BGR888`` are [R, G, B],
  ``XRGB8888`` [B, G, R, 255], ``XBGR8888`` [R, G, B, 255].

Frames come from a numpy function of the frame number, so tests choose what
the sensor "sees".  Everything mutable lives on a :class:`FakeCameraSystem`;
:func:`make_module` builds a fresh module object bound to one system.
"""

import contextlib
import types
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterator

import numpy as np

STREAM_KEYS = ("format", "size", "stride", "preserve_ar")
PIXEL_ORDER = {"RGB888": (0, 1, 2), "BGR888": (2, 1, 0), "XRGB8888": (0, 1, 2), "XBGR8888": (2, 1, 0)}
DEFAULT_CONTROLS: dict[str, tuple[Any, Any, Any]] = {
    "AeEnable": (False, True, None),
    "AwbEnable": (False, True, None),
    "ExposureTime": (26, 66666666, 20000),
    "AnalogueGain": (1.0, 16.0, None),
    "FrameDurationLimits": (33333, 120000, None),
    "NoiseReductionMode": (0, 4, 0),
}


def gradient_scene(frame_number: int, size: tuple[int, int]) -> np.ndarray:
    """A BGR test picture: a gradient with a pure red square that moves one pixel per frame."""
    w, h = size
    image = np.zeros((h, w, 3), np.uint8)
    image[:, :, 1] = np.linspace(0, 200, w, dtype=np.uint8)[None, :]
    x = frame_number % max(1, w - 16)
    image[8:24, x:x + 16] = (0, 0, 255)
    return image


@dataclass
class FakeCameraSystem:
    """What the fake sensors do: how many, what they see, when they break."""

    cameras: int = 1
    sensor_resolution: tuple[int, int] = (4608, 2592)
    scene: Callable[[int, tuple[int, int]], np.ndarray] = gradient_scene
    controls: dict[str, tuple[Any, Any, Any]] = field(default_factory=lambda: dict(DEFAULT_CONTROLS))
    open_fails: bool = False
    fail_after: int | None = None
    stalled: bool = False
    frames_served: int = 0
    opened: list[Any] = field(default_factory=list)


class CompletedRequest:
    """One finished frame: arrays and metadata until ``release``."""

    def __init__(self, picam2: Any, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        self.picam2 = picam2
        self.ref_count = 1
        self.config = dict(picam2.camera_config)
        self._arrays = arrays
        self._metadata = metadata

    def acquire(self) -> None:
        if self.ref_count == 0:
            raise RuntimeError("CompletedRequest: acquiring lock with ref_count 0")
        self.ref_count += 1

    def release(self) -> None:
        self.ref_count -= 1
        if self.ref_count < 0:
            raise RuntimeError("CompletedRequest: lock now has negative ref_count")
        if self.ref_count == 0:
            self.picam2.released += 1

    def make_buffer(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            raise RuntimeError(f"Stream {name!r} is not defined")
        return self._arrays[name].reshape(-1).copy()

    def make_array(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            raise RuntimeError(f"Stream {name!r} is not defined")
        return self._arrays[name].copy()

    def get_metadata(self) -> dict[str, Any]:
        return dict(self._metadata)


def _in_format(bgr: np.ndarray, fmt: str) -> np.ndarray:
    """The BGR scene laid out in memory as picamera2 delivers ``fmt``."""
    array = bgr[:, :, PIXEL_ORDER[fmt]]
    if fmt.startswith("X"):
        alpha = np.full(bgr.shape[:2] + (1,), 255, np.uint8)
        array = np.concatenate([array, alpha], axis=2)
    return np.ascontiguousarray(array)


def _yuv420(bgr: np.ndarray) -> np.ndarray:
    """YUV420 as picamera2's ``make_array`` returns it: shape (height * 3 / 2, width), the Y plane first,
    then the half-size U and V planes with two of their rows to each array row."""
    import cv2

    h, w = bgr.shape[:2]
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420).reshape(h * 3 // 2, w))


def _stream(defaults: dict[str, Any], updates: dict[str, Any] | None) -> dict[str, Any] | None:
    if updates is None:
        return None
    stream = dict(defaults)
    for key, value in updates.items():
        if key not in STREAM_KEYS:
            raise ValueError(f"Bad key {key!r}: valid stream configuration keys are {STREAM_KEYS}")
        stream[key] = value
    return stream


class Picamera2:
    """The fake camera; only the documented calls the unit relies on.

    :func:`make_module` subclasses it with ``system`` set, one subclass per test.
    """

    system: ClassVar[FakeCameraSystem]

    def __init__(self, camera_num: int = 0, verbose_console: Any = None, tuning: Any = None,
                 allocator: Any = None) -> None:
        self.is_open = False
        self.camera_idx = self.global_camera_info()[camera_num]["Num"]
        if self.system.open_fails:
            raise RuntimeError("Camera __init__ sequence did not complete.")
        self.sensor_resolution = self.system.sensor_resolution
        self.camera_config: dict[str, Any] | None = None
        self.started = False
        self.is_open = True
        self.released = 0
        self.applied: dict[str, Any] = {}
        self._pending: dict[str, Any] = {}
        self.system.opened.append(self)

    @classmethod
    def global_camera_info(cls) -> list[dict[str, Any]]:
        return [{"Model": "imx708", "Location": 2, "Rotation": 180, "Id": f"/base/fake@{n}", "Num": n}
                for n in range(cls.system.cameras)]

    @property
    def camera_controls(self) -> dict[str, tuple[Any, Any, Any]]:
        return dict(self.system.controls)

    def _config(self, use_case: str, main: dict[str, Any], main_defaults: dict[str, Any],
                lores: Any, raw: Any, buffer_count: int, controls: dict[str, Any],
                display: Any, encode: Any) -> dict[str, Any]:
        if not self.is_open:
            raise RuntimeError("Camera not opened")
        for name in controls:
            self._check_control(name)
        return {"use_case": use_case, "transform": None, "colour_space": None,
                "buffer_count": buffer_count, "queue": True, "main": _stream(main_defaults, main),
                "lores": _stream({"format": "YUV420", "size": main.get("size"), "preserve_ar": False}, lores),
                "raw": raw, "controls": dict(controls), "sensor": {}, "display": display,
                "encode": encode}

    def create_still_configuration(self, main={}, lores=None, raw={}, transform=None, colour_space=None,
                                   buffer_count=1, controls={}, display=None, encode=None, queue=True,
                                   sensor={}, use_case="still") -> dict:
        defaults = {"format": "BGR888", "size": self.sensor_resolution, "preserve_ar": True}
        return self._config(use_case, main, defaults, lores, raw, buffer_count, controls, display, encode)

    def create_video_configuration(self, main={}, lores=None, raw={}, transform=None, colour_space=None,
                                   buffer_count=6, controls={}, display="main", encode="main", queue=True,
                                   sensor={}, use_case="video") -> dict:
        defaults = {"format": "XBGR8888", "size": (1280, 720), "preserve_ar": True}
        return self._config(use_case, main, defaults, lores, raw, buffer_count, controls, display, encode)

    def create_preview_configuration(self, main={}, lores=None, raw={}, transform=None, colour_space=None,
                                     buffer_count=4, controls={}, display="main", encode="main", queue=True,
                                     sensor={}, use_case="preview") -> dict:
        defaults = {"format": "XBGR8888", "size": (640, 480), "preserve_ar": True}
        return self._config(use_case, main, defaults, lores, raw, buffer_count, controls, display, encode)

    def configure(self, camera_config=None) -> None:
        named = {None: self.create_preview_configuration, "preview": self.create_preview_configuration,
                 "still": self.create_still_configuration, "video": self.create_video_configuration}
        if not isinstance(camera_config, dict):
            camera_config = named[camera_config]()
        fmt = camera_config["main"]["format"]
        if fmt not in PIXEL_ORDER:
            raise RuntimeError("Format " + fmt + " not supported")
        self.camera_config = camera_config
        self.applied = dict(camera_config["controls"])

    def start(self, config=None, show_preview=False) -> None:
        if self.camera_config is None and config is None:
            config = "preview"
        if config is not None:
            self.configure(config)
        self.applied.update(self._pending)
        self._pending = {}
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        if not self.is_open:
            return
        self.stop()
        self.is_open = False

    def set_controls(self, controls) -> None:
        for name, value in controls.items():
            self._check_control(name)
            self._pending[name] = value
        if self.started:
            self.applied.update(self._pending)
            self._pending = {}

    def cancel_all_and_flush(self) -> None:
        """Nothing is queued in the fake; kept because callers tidy up with it after a timeout."""

    def _check_control(self, name: str) -> None:
        if name not in self.system.controls:
            raise RuntimeError(f"Control {name} is not advertised by libcamera")

    def _next_request(self, wait: Any) -> CompletedRequest:
        system = self.system
        if system.stalled or not self.started:
            if wait is None or wait is True:
                raise AssertionError("the real camera would block forever here")
            raise TimeoutError()
        if system.fail_after is not None and system.frames_served >= system.fail_after:
            raise RuntimeError("Camera frontend has timed out!")
        system.frames_served += 1
        main = self.camera_config["main"]
        arrays = {"main": _in_format(system.scene(system.frames_served, tuple(main["size"])), main["format"])}
        lores = self.camera_config.get("lores")
        if lores is not None:  # the ISP's second, smaller output of the same exposure
            arrays["lores"] = _yuv420(system.scene(system.frames_served, tuple(lores["size"])))
        return CompletedRequest(self, arrays, self._metadata())

    def _metadata(self) -> dict[str, Any]:
        low, high, default = self.system.controls["ExposureTime"]
        exposure = int(np.clip(self.applied.get("ExposureTime", default), low, high))
        return {"SensorTimestamp": self.system.frames_served * 33_333_000, "ExposureTime": exposure,
                "AnalogueGain": float(self.applied.get("AnalogueGain", 1.0)), "DigitalGain": 1.0}

    def capture_request(self, wait=None, signal_function=None, flush=None) -> CompletedRequest:
        return self._next_request(wait)

    @contextlib.contextmanager
    def captured_request(self, wait=None, flush=None) -> Iterator[CompletedRequest]:
        request = self.capture_request(wait=wait, flush=flush)
        try:
            yield request
        finally:
            request.release()

    def capture_array(self, name="main", wait=None, signal_function=None) -> np.ndarray:
        request = self._next_request(wait)
        try:
            return request.make_array(name)
        finally:
            request.release()

    def capture_metadata(self, wait=None, signal_function=None) -> dict:
        request = self._next_request(wait)
        try:
            return request.get_metadata()
        finally:
            request.release()


def make_module(system: FakeCameraSystem | None = None) -> types.ModuleType:
    """A fresh ``picamera2`` module object whose cameras behave as ``system`` says."""
    module = types.ModuleType("picamera2")
    bound = type("Picamera2", (Picamera2,), {"system": system or FakeCameraSystem()})
    module.Picamera2 = bound  # type: ignore[attr-defined]
    module.CompletedRequest = CompletedRequest  # type: ignore[attr-defined]
    return module
