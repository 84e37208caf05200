"""What to do about a failed check, in the words an officer at the exam table needs.

Each failed check of a photo's report becomes one sentence naming what was
measured, what the standard needs and what to change ("move closer: the
barcode has 1.1 px per module, it needs 2").  The numbers come from the report
itself, so the advice cannot disagree with the check.
"""
from __future__ import annotations

from typing import Callable

from edge.quality.config import QualityProfile
from edge.quality.exam import ExamView
from edge.records import QualityCheck

Advise = Callable[[QualityCheck, ExamView, QualityProfile], str]


def _size(c: QualityCheck, v: ExamView, p: QualityProfile) -> str:
    return (f"too small: the photo is {c.value:g} px on one side, the standard needs at least "
            f"{v.min_long_side}x{v.min_short_side}: use the phone's main camera at full size")


def _sharpness(c: QualityCheck, v: ExamView, p: QualityProfile) -> str:
    return (f"blurred: sharpness {c.value:.1f}, it needs {v.min_sharpness:g}: hold the phone "
            "still, tap the screen on the item to focus, and take it again")


def _brightness(c: QualityCheck, v: ExamView, p: QualityProfile) -> str:
    if c.value < p.min_brightness:
        return (f"too dark: use the exam light (brightness {c.value:.0f}, it needs at least "
                f"{p.min_brightness:g})")
    return (f"too bright: move out of direct light or dim the exam light (brightness "
            f"{c.value:.0f}, it needs at most {p.max_brightness:g})")


def _shadows(c: QualityCheck, v: ExamView, p: QualityProfile) -> str:
    return (f"deep shadow over {c.value:.0%} of the photo (at most {p.max_shadows:.0%}): "
            "use the exam light and keep the phone's shadow off the item")


def _highlights(c: QualityCheck, v: ExamView, p: QualityProfile) -> str:
    return (f"washed out: {c.value:.0%} of the packaging is pure white (at most "
            f"{p.max_highlights:.0%}): turn the light down or move out of direct light")


def _glare(c: QualityCheck, v: ExamView, p: QualityProfile) -> str:
    where = "the label" if v.barcode else "the packaging"
    return (f"glare on {where}: a reflection covers {c.value:.0%} of it (at most "
            f"{p.max_glare:.0%}): tilt the phone so the light does not reflect into it")


def _reflection(c: QualityCheck, v: ExamView, p: QualityProfile) -> str:
    where = "the label" if v.barcode else "the item"
    return (f"glare on {where}: a reflection covers {c.value:.1%} of the photo (at most "
            f"{v.max_reflection:.1%}): tilt the phone so the light does not reflect into it")


def _framing(c: QualityCheck, v: ExamView, p: QualityProfile) -> str:
    return "the item touches the edge of the photo: step back so all of it is in the frame"


def _legibility(c: QualityCheck, v: ExamView, p: QualityProfile) -> str:
    return (f"move closer: the barcode has {c.value:.1f} px per module, it needs "
            f"{v.min_module_px:g}")


def _barcode(c: QualityCheck, v: ExamView, p: QualityProfile) -> str:
    return ("no barcode could be read: fill the photo with the label, hold the phone square "
            "on and steady, and take it again")


def _reference(c: QualityCheck, v: ExamView, p: QualityProfile) -> str:
    return ("this label's barcode is not this case's reference number: photograph the label "
            "of the parcel under exam")


def _scale(c: QualityCheck, v: ExamView, p: QualityProfile) -> str:
    if c.value <= 0:
        return ("no scale card in the photo: lay the guide's scale card flat beside the item, "
                "fully visible")
    return (f"move closer: the scale card shows {c.value:.1f} px per mm, this view needs "
            f"{v.min_px_per_mm:g}")


ADVICE: dict[str, Advise] = {
    "width": _size, "height": _size, "sharpness": _sharpness, "brightness": _brightness,
    "shadows": _shadows, "highlights": _highlights, "glare": _glare, "reflection": _reflection, "framing": _framing,
    "legibility": _legibility, "barcode": _barcode, "reference": _reference, "scale": _scale,
}


def advise(check: QualityCheck, view: ExamView, profile: QualityProfile) -> str:
    """One sentence for one failed check; a check without its own words names its limit."""
    words = ADVICE.get(check.name)
    if words is None:
        return f"{check.name} is {check.value:g}, the standard needs {check.limit}: take it again"
    return words(check, view, profile)
