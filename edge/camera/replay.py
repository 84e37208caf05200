"""Camera source `replay`: a folder of images or a video file played as a frame stream.

Lets a unit be tested and tuned on recorded belt footage: the rest of the
path cannot tell it from a live camera except that the stream can end.  A
recording gathered in the field always has a few broken files in it, so a
corrupt or empty image is a logged skip with a counter, never a crash.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Iterator, Literal

import numpy as np
from pydantic import Field

from edge.camera import CameraError, EndOfStream
from edge.camera.frames import make_frame, wait_until
from edge.configbase import Section
from edge.records import Frame

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"})


class Config(Section):
    type: Literal["replay"] = "replay"
    path: Path = Path("recordings")
    fps: float = Field(10.0, ge=0, le=1000, description="0 plays as fast as frames are read")
    loop: bool = False


def _decode(path: Path) -> np.ndarray | None:
    """The image as BGR, or None for an empty, vanished or undecodable file."""
    import cv2

    try:
        if path.stat().st_size == 0:
            return None
    except OSError:
        return None
    return cv2.imread(str(path), cv2.IMREAD_COLOR)


class _Images:
    """The image files of a folder in name order, decoded one at a time."""

    def __init__(self, folder: Path) -> None:
        try:
            self.files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        except OSError as exc:
            raise CameraError(f"replay folder {folder} cannot be listed: {exc.strerror or exc}") from None
        if not self.files:
            raise CameraError(f"replay folder {folder} holds no image files")
        self.skipped = 0

    def frames(self) -> Iterator[tuple[np.ndarray | None, str]]:
        """One pass: (image or None for a skip, file name)."""
        for path in self.files:
            image = _decode(path)
            if image is None:
                self.skipped += 1
                log.warning("replay: skipped %s (empty or not a decodable image; %d skipped so far)",
                            path.name, self.skipped)
            yield image, path.name

    def close(self) -> None:
        """Nothing stays open between images."""


class _Video:
    """A video file through OpenCV; each pass reopens it from the start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.skipped = 0
        self._cap: Any = None
        self._open()

    def _open(self) -> None:
        import cv2

        self.close()
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise CameraError(f"replay video {self.path} cannot be opened")
        self._cap = cap

    def frames(self) -> Iterator[tuple[np.ndarray | None, str]]:
        if self._cap is None:
            self._open()
        index = 0
        while True:
            ok, image = self._cap.read()
            if not ok:
                self.close()
                return
            yield image, f"{self.path.name}#{index}"
            index += 1

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class ReplayCamera:
    """Plays a recording at ``fps`` (real-time pacing) or as fast as it is read (``fps=0``)."""

    name = "replay"

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._media: _Images | _Video | None = None
        self._stream: Iterator[tuple[np.ndarray | None, str]] | None = None
        self._seq = 0
        self._due = 0.0
        self._good_in_pass = 0

    @property
    def skipped(self) -> int:
        """Images that could not be read (zero-byte or corrupt) since start."""
        return self._media.skipped if self._media is not None else 0

    def start(self) -> None:
        path = self.cfg.path
        if path.is_dir():
            self._media = _Images(path)
        elif path.is_file():
            self._media = _Video(path)
        else:
            raise CameraError(f"replay path {path} does not exist")
        self._stream = self._media.frames()
        self._due = time.monotonic()
        self._good_in_pass = 0

    def read(self, timeout: float) -> Frame | None:
        if self._stream is None:
            raise CameraError("replay camera read before start")
        if not wait_until(self._due, timeout):
            return None
        image, label = self._next_image()
        self._seq += 1
        self._due = max(self._due + self._period(), time.monotonic())
        return make_frame(self._seq, image, f"replay:{label}")

    def stop(self) -> None:
        if self._media is not None:
            self._media.close()
        self._stream = None

    def _period(self) -> float:
        return 1.0 / self.cfg.fps if self.cfg.fps > 0 else 0.0

    def _next_image(self) -> tuple[np.ndarray, str]:
        """The next decodable image, looping or ending the stream at the end of a pass."""
        assert self._stream is not None and self._media is not None
        while True:
            for image, label in self._stream:
                if image is not None:
                    self._good_in_pass += 1
                    return image, label
            if self._good_in_pass == 0:
                raise CameraError(f"replay {self.cfg.path}: no readable image "
                                  f"({self._media.skipped} skipped)")
            if not self.cfg.loop:
                raise EndOfStream(str(self.cfg.path))
            self._good_in_pass = 0
            self._stream = self._media.frames()


def open(cfg: Config, ctx: Any) -> ReplayCamera:  # noqa: A001 - registry entry point
    return ReplayCamera(cfg)
