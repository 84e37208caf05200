"""Camera sources: replay (folders, videos, broken files), OpenCV (absent, dying,
reconnecting) and picamera2 (against the fake module that mirrors its API)."""
from __future__ import annotations

import importlib.util
import logging
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from edge.camera import CAMERAS, CameraContext, CameraError, EndOfStream, open_camera
from edge.camera.opencv import Config as OpenCVConfig
from edge.camera.opencv import redacted
from edge.camera.picam import Config as PiConfig
from edge.camera.replay import Config as ReplayConfig
from edge.capture import with_lores
from edge.config import ConveyorConfig
from edge.pyramid import Pyramid

_FAKE = Path(__file__).resolve().parents[1] / "fakes" / "fake_picamera2.py"


@pytest.fixture(scope="module")
def fake() -> Any:
    """tests/fakes/fake_picamera2.py, loaded by path so no package layout is needed."""
    spec = importlib.util.spec_from_file_location("fake_picamera2", _FAKE)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _ctx(**hardware: Any) -> CameraContext:
    return CameraContext(conveyor=ConveyorConfig(), hardware=hardware)


def _images(n: int) -> list[np.ndarray]:
    return [np.full((48, 64, 3), (10 * i, 100, 200 - 10 * i), np.uint8) for i in range(n)]


def _drain(camera: Any, limit: int = 100) -> list:
    frames = []
    with pytest.raises(EndOfStream):
        for _ in range(limit):
            frame = camera.read(1.0)
            if frame is not None:
                frames.append(frame)
    return frames


# -- replay ---------------------------------------------------------------------------------------

def test_replay_folder_skips_corrupt_and_empty_files_with_a_counter(tmp_path: Path, caplog) -> None:
    for i, image in enumerate(_images(3)):
        cv2.imwrite(str(tmp_path / f"{i * 2:03d}.png"), image)
    (tmp_path / "001.jpg").write_bytes(b"")
    (tmp_path / "003.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "notes.txt").write_text("ignored")
    camera = open_camera(ReplayConfig(path=tmp_path, fps=0), _ctx())
    camera.start()
    with caplog.at_level(logging.WARNING):
        frames = _drain(camera)
    assert [f.source for f in frames] == ["replay:000.png", "replay:002.png", "replay:004.png"]
    assert [f.seq for f in frames] == [1, 2, 3]
    assert np.array_equal(frames[1].image, _images(3)[1])
    assert camera.skipped == 2 and "001.jpg" in caplog.text
    camera.stop()


def test_replay_loops_and_paces_to_fps(tmp_path: Path) -> None:
    for i, image in enumerate(_images(2)):
        cv2.imwrite(str(tmp_path / f"{i}.png"), image)
    camera = open_camera(ReplayConfig(path=tmp_path, fps=50, loop=True), _ctx())
    camera.start()
    started = time.monotonic()
    frames = [camera.read(1.0) for _ in range(6)]
    assert time.monotonic() - started >= 5 / 50 * 0.9
    assert [f.source for f in frames] == ["replay:0.png", "replay:1.png"] * 3
    slow = open_camera(ReplayConfig(path=tmp_path, fps=1), _ctx())
    slow.start()
    assert slow.read(0.5) is not None
    assert slow.read(0.01) is None, "the next frame is not due within the timeout"


def test_replay_bad_folders_are_camera_errors(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="does not exist"):
        open_camera(ReplayConfig(path=tmp_path / "missing"), _ctx()).start()
    with pytest.raises(CameraError, match="no image files"):
        open_camera(ReplayConfig(path=tmp_path), _ctx()).start()
    (tmp_path / "a.jpg").write_bytes(b"")
    (tmp_path / "b.jpg").write_bytes(b"garbage")
    camera = open_camera(ReplayConfig(path=tmp_path, fps=0, loop=True), _ctx())
    camera.start()
    with pytest.raises(CameraError, match="no readable image"):
        camera.read(1.0)
    assert camera.skipped == 2


def _video(path: Path, n: int) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    assert writer.isOpened()
    for image in _images(n):
        writer.write(image)
    writer.release()
    return path


def test_replay_video_file_plays_then_ends(tmp_path: Path) -> None:
    camera = open_camera(ReplayConfig(path=_video(tmp_path / "belt.avi", 4), fps=0), _ctx())
    camera.start()
    frames = _drain(camera)
    assert len(frames) == 4 and frames[0].image.shape == (48, 64, 3)
    assert frames[-1].source == "replay:belt.avi#3"


def test_replay_unreadable_video_is_a_camera_error(tmp_path: Path) -> None:
    (tmp_path / "broken.avi").write_bytes(b"RIFF....not a video")
    with pytest.raises(CameraError, match="cannot be opened"):
        open_camera(ReplayConfig(path=tmp_path / "broken.avi"), _ctx()).start()


# -- opencv ---------------------------------------------------------------------------------------

class _FlakyCapture:
    """A VideoCapture double: ``script`` says per handle how many frames it gives before failing."""

    def __init__(self, script: list[int | None], image: np.ndarray) -> None:
        self.script, self.image, self.opened = list(script), image, 0

    def __call__(self, source: Any, api: int, params: list[int]) -> "_FlakyCapture._Handle":
        self.opened += 1
        budget = self.script.pop(0) if self.script else None
        return self._Handle(budget, self.image)

    class _Handle:
        def __init__(self, budget: int | None, image: np.ndarray) -> None:
            self.budget, self.image = budget, image

        def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
            return self.budget is not None

        def read(self) -> tuple[bool, np.ndarray | None]:
            if not self.budget:
                return False, None
            self.budget -= 1
            return True, self.image.copy()

        def set(self, prop: int, value: float) -> bool:
            return True

        def release(self) -> None:
            self.budget = None


def _fast(**kw: Any) -> OpenCVConfig:
    return OpenCVConfig(source="rtsp://cam.local/stream", backoff_s=0.001, max_backoff_s=0.002, **kw)


def test_opencv_absent_camera_is_a_one_line_camera_error() -> None:
    camera = open_camera(OpenCVConfig(source=63), _ctx())
    with pytest.raises(CameraError, match="did not open") as err:
        camera.start()
    assert "\n" not in str(err.value)


def test_opencv_reconnects_after_a_dropped_stream() -> None:
    grey = np.full((48, 64), 128, np.uint8)
    factory = _FlakyCapture([2, None, 3], grey)
    camera = open_camera(_fast(retries=3), _ctx(video_capture=factory))
    camera.start()
    frames = [camera.read(0.05) for _ in range(9)]
    got = [f for f in frames if f is not None]
    assert len(got) == 5 and camera.reconnects == 1 and factory.opened == 3
    assert got[0].image.shape == (48, 64, 3), "grey devices come out BGR"
    assert [f.seq for f in got] == [1, 2, 3, 4, 5]


def test_opencv_dying_camera_gives_up_after_retries() -> None:
    factory = _FlakyCapture([3], np.zeros((48, 64, 3), np.uint8))
    camera = open_camera(_fast(retries=2), _ctx(video_capture=factory))
    camera.start()
    frames = []
    with pytest.raises(CameraError, match="cam.local/stream lost after 3 failures"):
        for _ in range(50):
            frames.append(camera.read(0.05))
    assert sum(f is not None for f in frames) == 3


def test_opencv_file_source_ends_the_stream(tmp_path: Path) -> None:
    camera = open_camera(OpenCVConfig(source=str(_video(tmp_path / "v.avi", 3))), _ctx())
    camera.start()
    assert len(_drain(camera)) == 3
    camera.stop()


def test_opencv_quoted_index_means_a_usb_camera() -> None:
    assert OpenCVConfig(source="2").source == 2


def test_opencv_never_logs_a_stream_password(caplog) -> None:
    url = "rtsp://admin:s3cret@10.0.0.7:554/h264"
    assert redacted(url) == "rtsp://***@10.0.0.7:554/h264"
    factory = _FlakyCapture([1], np.zeros((8, 8, 3), np.uint8))
    camera = open_camera(OpenCVConfig(source=url, retries=0, backoff_s=0.001), _ctx(video_capture=factory))
    camera.start()
    assert camera.read(0.05).source == "opencv:rtsp://***@10.0.0.7:554/h264"
    with caplog.at_level(logging.INFO), pytest.raises(CameraError) as err:
        for _ in range(5):
            camera.read(0.05)
    assert "s3cret" not in str(err.value) and "s3cret" not in caplog.text


# -- picamera2 (fake module mirroring the documented API) ------------------------------------------

def _pi(fake: Any, cfg: PiConfig | None = None, conveyor: ConveyorConfig | None = None,
        **system: Any) -> tuple[Any, Any]:
    sys_ = fake.FakeCameraSystem(**system)
    ctx = CameraContext(conveyor=conveyor or ConveyorConfig(), hardware={"picamera2": fake.make_module(sys_)})
    return open_camera(cfg or PiConfig(), ctx), sys_


def test_picamera2_frames_are_bgr_at_the_configured_size(fake: Any) -> None:
    camera, system = _pi(fake, PiConfig(width=320, height=240))
    camera.start()
    frame = camera.read(0.5)
    cam = system.opened[0]
    assert cam.camera_config["main"]["format"] == "RGB888" and cam.camera_config["use_case"] == "video"
    assert frame.image.shape == (240, 320, 3)
    red = frame.image[16, frame.image[16, :, 2].argmax()]
    assert tuple(red) == (0, 0, 255), "RGB888 is [B, G, R] in memory: OpenCV order, no conversion"
    assert cam.released == 1, "every captured request goes back to the camera"
    camera.stop()
    assert not cam.is_open


def test_picamera2_still_mode_uses_the_still_configuration(fake: Any) -> None:
    camera, system = _pi(fake, PiConfig(mode="still", width=640, height=480))
    camera.start()
    assert system.opened[0].camera_config["use_case"] == "still"
    assert camera.read(0.5).image.shape == (480, 640, 3)


def test_picamera2_exposure_is_capped_by_the_belt_and_says_so(fake: Any, caplog) -> None:
    belt = ConveyorConfig(belt_speed_m_s=2.0, min_module_mm=0.33, max_blur_modules=2.0)
    with caplog.at_level(logging.INFO):
        camera, system = _pi(fake, PiConfig(exposure_us=5000, analogue_gain=6.0), conveyor=belt)
    camera.start()
    applied = system.opened[0].applied
    assert applied["ExposureTime"] == belt.max_exposure_us() == 330
    assert applied["AeEnable"] is False and applied["AnalogueGain"] == 6.0
    assert "lowered from 5000 us to 330 us" in caplog.text


def test_picamera2_exposure_defaults_to_the_cap_and_keeps_a_shorter_one(fake: Any) -> None:
    camera, system = _pi(fake)
    camera.start()
    assert system.opened[0].applied["ExposureTime"] == ConveyorConfig().max_exposure_us()
    short, system = _pi(fake, PiConfig(exposure_us=100))
    short.start()
    assert system.opened[0].applied["ExposureTime"] == 100


def test_picamera2_without_aeenable_still_starts(fake: Any) -> None:
    controls = {k: v for k, v in fake.DEFAULT_CONTROLS.items() if k != "AeEnable"}
    camera, system = _pi(fake, controls=controls)
    camera.start()
    assert "AeEnable" not in system.opened[0].applied and camera.read(0.5) is not None


@pytest.mark.parametrize("system, reason", [({"cameras": 0}, "IndexError"),
                                            ({"open_fails": True}, "did not complete")])
def test_picamera2_absent_camera_is_a_camera_error(fake: Any, system: dict, reason: str) -> None:
    camera, _ = _pi(fake, **system)
    with pytest.raises(CameraError, match=reason):
        camera.start()


def test_picamera2_dying_mid_run_gives_up_after_retries(fake: Any) -> None:
    camera, system = _pi(fake, PiConfig(retries=2, width=64, height=64), fail_after=3)
    camera.start()
    got = [camera.read(0.1) for _ in range(5)]
    assert [f is not None for f in got] == [True, True, True, False, False]
    with pytest.raises(CameraError, match="failed 3 captures in a row"):
        camera.read(0.1)


def test_picamera2_timeout_is_no_frame_not_an_error(fake: Any) -> None:
    camera, system = _pi(fake, PiConfig(width=64, height=64), stalled=True)
    camera.start()
    assert camera.read(0.01) is None and camera.timeouts == 1
    system.stalled = False
    assert camera.read(0.01) is not None


def test_picamera2_missing_library_is_a_camera_error() -> None:
    with pytest.raises(CameraError, match="not installed"):
        open_camera(PiConfig(), CameraContext(conveyor=ConveyorConfig()))


def test_fake_picamera2_mirrors_the_documented_errors(fake: Any) -> None:
    cam = fake.make_module().Picamera2(0)
    with pytest.raises(ValueError, match="Bad key"):
        cam.create_still_configuration(main={"colour": "red"})
    with pytest.raises(RuntimeError, match="not advertised"):
        cam.set_controls({"Brightnesss": 1})
    cam.start()
    assert cam.camera_config["use_case"] == "preview", "start() unconfigured means the preview configuration"
    cam.stop()
    cam.configure(cam.create_video_configuration(main={"size": (32, 16), "format": "XBGR8888"}))
    cam.start()
    assert cam.capture_array("main").shape == (16, 32, 4)
    request = cam.capture_request(wait=0.1)
    request.release()
    with pytest.raises(RuntimeError, match="negative ref_count"):
        request.release()


def test_every_camera_type_is_registered() -> None:
    assert set(CAMERAS.types) == {"synthetic", "replay", "opencv", "picamera2"}


def test_picamera2_lores_stream_gives_a_small_gray_of_the_same_exposure(fake: Any) -> None:
    """main full resolution for the chosen frames, lores (YUV420, Y plane) for presence: one request."""
    camera, system = _pi(fake, PiConfig(width=4056, height=3040, lores_width=1014, lores_height=760))
    camera.start()
    frame = camera.read(0.5)
    small = frame.lores
    config = system.opened[0].camera_config
    assert config["lores"]["size"] == (1014, 760) and config["lores"]["format"] == "YUV420"
    assert frame.image.shape == (3040, 4056, 3) and small.shape == (760, 1014) and small.dtype == np.uint8
    expected = cv2.cvtColor(cv2.resize(frame.image, (1014, 760), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    assert np.corrcoef(small.ravel().astype(float), expected.ravel().astype(float))[0, 1] > 0.9
    assert with_lores(frame) is frame                       # the pipeline does not shrink it again
    pyramid = Pyramid(frame.image, frame.lores)
    assert pyramid.grey(2) is small                          # a quarter: the pyramid's own level
    assert system.opened[0].released == 1


def test_picamera2_without_a_lores_stream_gives_frames_without_one(fake: Any) -> None:
    camera, _ = _pi(fake, PiConfig(width=320, height=240))
    camera.start()
    assert camera.read(0.5).lores is None
