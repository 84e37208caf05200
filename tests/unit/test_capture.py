"""ParcelAssembler: frames while present, the best kept and ranked, one capture per parcel."""
from __future__ import annotations

import cv2
import numpy as np

from edge.bench_presence import BeltScene, belt_frames, coverage
from edge.capture import ParcelAssembler, framing, sharpness
from edge.config import CaptureConfig
from edge.records import Box, Frame
from edge.trigger import Presence
from edge.trigger.motion import Config as MotionConfig
from edge.trigger.motion import NOWHERE, MotionTrigger

W, H = 320, 240
BOX = Box(110, 70, 100, 100)


def _texture(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (BOX.h, BOX.w, 3), dtype=np.uint8)


def _frame(seq: int, blur: int = 0, box: Box = BOX) -> Frame:
    """A grey view with a textured parcel at ``box``; ``blur`` is a Gaussian kernel size (odd) or 0."""
    image = np.full((H, W, 3), 70, np.uint8)
    patch = _texture()[:box.h, :box.w]
    if blur:
        patch = cv2.GaussianBlur(patch, (blur, blur), 0)
    image[box.y:box.y + box.h, box.x:box.x + box.w] = patch
    return Frame(seq=seq, t_mono=seq * 0.033, t_utc="", image=image, source="test")


def _run(assembler: ParcelAssembler, frames: list[Frame], box: Box | None = BOX) -> list:
    out = [assembler.push(f, Presence(True, box)) for f in frames]
    out.append(assembler.push(_frame(999), Presence(False)))
    return [c for c in out if c is not None]


def test_sharper_frame_scores_higher_and_framing_penalises_cut_off() -> None:
    assert sharpness(_frame(1).image, BOX) > 4 * sharpness(_frame(2, blur=9).image, BOX)
    assert framing(BOX, W, H) > 0.9
    assert framing(Box(0, 70, 100, 100), W, H) < 0.5 * framing(BOX, W, H)
    assert sharpness(_frame(1).image, Box(0, 0, 0, 0)) == 0.0


def test_emits_best_frames_sorted_and_keeps_the_best_not_the_first() -> None:
    cfg = CaptureConfig(max_frames=3, best_frames=2, min_frames=1)
    assembler = ParcelAssembler(cfg, trigger="motion")
    blurs = [15, 13, 11, 9, 7, 5, 0]  # the sharpest frame comes last, after max_frames were held
    captures = _run(assembler, [_frame(i + 1, b) for i, b in enumerate(blurs)])
    assert len(captures) == 1
    capture = captures[0]
    assert [f.seq for f in capture.frames] == [7, 6]
    assert capture.sharpness[0] > capture.sharpness[1]
    assert capture.boxes == (BOX, BOX)
    assert capture.trigger == "motion" and capture.capture_id == 1
    assert assembler.emitted == 1


def test_whole_parcel_beats_an_equally_sharp_cut_off_one() -> None:
    assembler = ParcelAssembler(CaptureConfig(max_frames=4, best_frames=2))
    cut = Box(0, 70, 100, 100)
    assembler.push(_frame(1, box=cut), Presence(True, cut))
    assembler.push(_frame(2), Presence(True, BOX))
    capture = assembler.push(_frame(3), Presence(False))
    assert capture is not None and capture.frames[0].seq == 2 and capture.boxes[1] == cut


def test_short_blip_is_dropped_and_counted() -> None:
    assembler = ParcelAssembler(CaptureConfig(min_frames=3))
    assert _run(assembler, [_frame(1), _frame(2)]) == []
    assert assembler.too_short == 1 and assembler.emitted == 0
    assert len(_run(assembler, [_frame(3), _frame(4), _frame(5)])) == 1


def test_flush_hands_over_the_parcel_in_view_and_nothing_otherwise() -> None:
    assembler = ParcelAssembler(CaptureConfig())
    assert assembler.flush() is None
    assembler.push(_frame(1), Presence(True, BOX))
    capture = assembler.flush()
    assert capture is not None and capture.frames[0].seq == 1
    assert assembler.flush() is None


def test_no_box_means_the_whole_frame_and_an_empty_box_holds_nothing() -> None:
    assembler = ParcelAssembler(CaptureConfig())
    (capture,) = _run(assembler, [_frame(1)], box=None)
    assert capture.boxes[0] == Box(0, 0, W, H)
    assembler = ParcelAssembler(CaptureConfig(min_frames=2))
    assembler.push(_frame(1), Presence(True, BOX))
    assembler.push(_frame(2), Presence(True, NOWHERE))
    assert assembler.push(_frame(3), Presence(False)) is None and assembler.too_short == 1


def test_overlong_parcel_is_cut_once_then_ignored_until_the_view_clears() -> None:
    assembler = ParcelAssembler(CaptureConfig(max_parcel_s=0.1, min_frames=1))
    outs = [assembler.push(_frame(i), Presence(True, BOX)) for i in range(1, 20)]  # 0.033 s apart
    emitted = [c for c in outs if c is not None]
    assert len(emitted) == 1 and assembler.overlong == 1
    assert max(f.seq for f in emitted[0].frames) <= 5
    assert assembler.push(_frame(30), Presence(False)) is None
    assert len(_run(assembler, [_frame(31), _frame(32)])) == 1
    assert [c.capture_id for c in emitted] == [1]


def test_motion_trigger_and_assembler_give_one_capture_per_parcel() -> None:
    count = 2
    scene = BeltScene(width=640, height=480, parcel=(200, 150), speed_px=20, gap_frames=10)
    cycle = (scene.width + scene.parcel[0]) // scene.speed_px + 1 + scene.gap_frames
    trigger = MotionTrigger(MotionConfig())
    assembler = ParcelAssembler(CaptureConfig(max_frames=6, best_frames=3), trigger="motion")
    captures = []
    for frame in belt_frames(scene, cycle * count + scene.gap_frames):
        capture = assembler.push(frame, trigger.observe(frame))
        if capture is not None:
            captures.append(capture)
    assert len(captures) == count
    for capture in captures:
        best = capture.frames[0]
        truth = best.truth["parcel_box"]
        assert truth[2] == scene.parcel[0], "the best frame shows the whole parcel"
        assert coverage(capture.boxes[0], truth) > 0.95
        assert capture.boxes[0].area < 1.6 * truth[2] * truth[3]


def test_replayed_recording_with_a_broken_file_gives_one_capture_per_parcel(tmp_path) -> None:
    from edge.camera import CameraContext, EndOfStream, open_camera
    from edge.camera.replay import Config as ReplayConfig

    scene = BeltScene(width=480, height=360, parcel=(160, 120), speed_px=20, gap_frames=8)
    cycle = (scene.width + scene.parcel[0]) // scene.speed_px + 1 + scene.gap_frames
    for frame in belt_frames(scene, 2 * cycle + scene.gap_frames):
        cv2.imwrite(str(tmp_path / f"{frame.seq:04d}.png"), frame.image)
    (tmp_path / "0005.png").write_bytes(b"")
    camera = open_camera(ReplayConfig(path=tmp_path, fps=0), CameraContext(conveyor=None))
    trigger, assembler = MotionTrigger(MotionConfig()), ParcelAssembler(CaptureConfig(), trigger="motion")
    camera.start()
    captures = []
    try:
        while True:
            frame = camera.read(1.0)
            capture = assembler.push(frame, trigger.observe(frame))
            captures += [capture] if capture else []
    except EndOfStream:
        pass
    assert len(captures) == 2 and camera.skipped == 1
    assert all(c.frames[0].source.startswith("replay:") for c in captures)
