"""Triggers: interval cadence, motion presence on a drawn belt, photo-eye debounce on gpiozero mock pins."""
from __future__ import annotations


import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory
from pydantic import ValidationError

from edge.bench_presence import BeltScene, belt_frames, coverage
from edge.records import Frame
from edge.trigger import TRIGGERS, TriggerContext, open_trigger
from edge.trigger.interval import Config as IntervalConfig
from edge.trigger.motion import Config as MotionConfig
from edge.trigger.motion import MotionTrigger
from edge.trigger.photo_eye import Config as EyeConfig


def _still(seq: int, image: np.ndarray) -> Frame:
    return Frame(seq=seq, t_mono=seq / 30.0, t_utc="", image=image, source="test")


def _empty_belt(value: int = 70) -> np.ndarray:
    return np.full((240, 320, 3), value, np.uint8)


def _with_block(value: int = 70) -> np.ndarray:
    image = _empty_belt(value)
    image[80:160, 100:220] = (10, 20, 30)
    return image


# -- interval -------------------------------------------------------------------------------------

def test_interval_is_present_for_the_window_of_each_period() -> None:
    trigger = open_trigger(IntervalConfig(period_s=1.0, window_s=0.25), TriggerContext())
    seen = [trigger.observe(Frame(i, 10.0 + i * 0.1, "", np.zeros((2, 2, 3), np.uint8))).present
            for i in range(20)]
    assert seen == [True, True, True, False, False, False, False, False, False, False] * 2


def test_interval_window_must_be_inside_the_period() -> None:
    with pytest.raises(ValidationError, match="window_s"):
        IntervalConfig(period_s=1.0, window_s=1.0)


# -- motion ---------------------------------------------------------------------------------------

def test_motion_enters_and_leaves_once_per_parcel_with_the_box_on_the_parcel() -> None:
    scene = BeltScene(width=640, height=480, parcel=(200, 150), speed_px=20, gap_frames=10)
    trigger = MotionTrigger(MotionConfig())
    states, overlaps = [], []
    for frame in belt_frames(scene, 2 * ((640 + 200) // 20 + 1 + 10) + 10):
        presence = trigger.observe(frame)
        states.append(presence.present)
        truth = frame.truth["parcel_box"]
        if presence.present and truth and truth[2] == 200:
            overlaps.append(coverage(presence.box, truth))
        if presence.present and truth is None:
            assert presence.box is not None and presence.box.area == 0, "present, nothing in view"
    enters = sum(1 for a, b in zip(states, states[1:]) if b and not a)
    assert enters == 2 and not states[-1]
    assert overlaps and min(overlaps) > 0.95


def test_motion_ghost_from_learning_with_a_parcel_in_view_is_absorbed() -> None:
    trigger = MotionTrigger(MotionConfig(learn_frames=3, absorb_frames=10))
    for n in range(3):
        trigger.observe(_still(n, _with_block()))
    states = [trigger.observe(_still(10 + n, _empty_belt())).present for n in range(20)]
    assert states[2] is True, "the place the parcel was learned at looks changed at first"
    assert states[-1] is False, "and becomes belt once it has stayed put long enough"


def test_motion_relearns_after_a_lighting_change_instead_of_sticking() -> None:
    trigger = MotionTrigger(MotionConfig(learn_frames=2))
    for n in range(2):
        trigger.observe(_still(n, _empty_belt(70)))
    states = [trigger.observe(_still(5 + n, _empty_belt(150))).present for n in range(5)]
    assert trigger.relearned == 1 and not any(states)
    states = [trigger.observe(_still(20 + n, _with_block(150))).present for n in range(3)]
    assert states[-1] is True


def test_motion_parcel_present_too_long_is_given_up() -> None:
    cfg = MotionConfig(learn_frames=2, max_present_s=0.5, absorb_frames=10_000)
    trigger = MotionTrigger(cfg)
    for n in range(2):
        trigger.observe(_still(n, _empty_belt()))
    states = [trigger.observe(_still(10 + n, _with_block())).present for n in range(30)]
    assert states[5] is True and states[-1] is False and trigger.relearned == 1


def test_motion_hysteresis_must_leave_below_where_it_enters() -> None:
    with pytest.raises(ValidationError, match="leave_fraction"):
        MotionConfig(enter_fraction=0.01, leave_fraction=0.02)


# -- photo eye ------------------------------------------------------------------------------------

class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def eye():
    factory, clock = MockFactory(), _Clock()
    ctx = TriggerContext(hardware={"pin_factory": factory, "clock": clock})
    trigger = open_trigger(EyeConfig(pin=17, debounce_s=0.02), ctx)
    yield trigger, factory.pin(17), clock
    trigger.close()
    factory.reset()


def _frame() -> Frame:
    return Frame(0, 0.0, "", np.zeros((2, 2, 3), np.uint8))


def test_photo_eye_accepts_a_broken_beam_only_after_debounce(eye) -> None:
    trigger, pin, clock = eye
    assert not trigger.observe(_frame()).present
    pin.drive_low()  # beam broken: the NPN output pulls the line low
    clock.now += 0.01
    assert not trigger.observe(_frame()).present, "too soon to believe"
    clock.now += 0.015
    presence = trigger.observe(_frame())
    assert presence.present and presence.box is None
    pin.drive_high()
    clock.now += 0.03
    assert not trigger.observe(_frame()).present


def test_photo_eye_ignores_chatter_shorter_than_debounce(eye) -> None:
    trigger, pin, clock = eye
    for _ in range(3):
        pin.drive_low()
        clock.now += 0.005
        pin.drive_high()
        clock.now += 0.005
    clock.now += 0.05
    assert not trigger.observe(_frame()).present
    assert trigger.edges == 6


def test_photo_eye_chatter_restarts_the_debounce_window(eye) -> None:
    trigger, pin, clock = eye
    pin.drive_low()
    clock.now += 0.015
    pin.drive_high()
    pin.drive_low()
    clock.now += 0.015
    assert not trigger.observe(_frame()).present
    clock.now += 0.01
    assert trigger.observe(_frame()).present


def test_photo_eye_close_frees_the_pin() -> None:
    factory = MockFactory()
    ctx = TriggerContext(hardware={"pin_factory": factory})
    open_trigger(EyeConfig(pin=5), ctx).close()
    open_trigger(EyeConfig(pin=5), ctx).close()


def test_photo_eye_without_pull_needs_a_polarity() -> None:
    with pytest.raises(ValidationError, match="active_high"):
        EyeConfig(pull_up=None)
    factory, clock = MockFactory(), _Clock()
    ctx = TriggerContext(hardware={"pin_factory": factory, "clock": clock})
    trigger = open_trigger(EyeConfig(pull_up=None, active_high=True), ctx)
    factory.pin(17).drive_high()
    clock.now += 0.05
    assert trigger.observe(_frame()).present is True
    trigger.close()


def test_photo_eye_on_a_machine_without_gpio_is_a_one_line_error() -> None:
    ctx = TriggerContext(hardware={"pin_factory": MockFactory()})
    with pytest.raises(RuntimeError, match="photo_eye on pin NOPE"):
        open_trigger(EyeConfig(pin="NOPE"), ctx)


def test_registry_knows_every_trigger() -> None:
    assert set(TRIGGERS.types) == {"motion", "photo_eye", "interval"}
