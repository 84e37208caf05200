"""The open-set brand check on drawn parcels: words read, matched with the catalogue, measured.

Parcels here are drawn with Pillow in DejaVu Sans (a face neither the model
nor the catalogue's references use), so what passes is the reading, not a
look the network learnt.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from edge.classify import Classifier, ClassifyConfig, load_classifier
from edge.records import Box
from edge.rules import RulesConfig, judge_marks, load_rules
from edge.rules.config import BrandRule
from imaging_helpers import blotched

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
LUMERA_RED, NORVEX_BLUE, BLUE = (200, 35, 45), (15, 70, 150), (30, 60, 200)
KALIMBA_ORANGE = (235, 125, 0)
# Where "IM" of KALIMBA falls in the first print (DejaVu Sans Bold 54: KAL ends at 118, KALIM
# at 192, pasted at x = 64): a strip of tape across the parcel there hides those two letters.
TAPE_OVER_IM = (176, 262)
# ZENTRO's "TR" and most of its "O" (ZEN ends at x = 185, the O at 310): one piece shows.
TAPE_OVER_TRO = (190, 300)
ZENTRO_GREEN = (25, 150, 60)
# NORVEX's X (NORVE ends at x = 275, the X at 317): the name reads NORVE up to the tape.
TAPE_OVER_X = (278, 360)
BOX = Box(140, 120, 1000, 720)


@pytest.fixture(scope="module")
def clf() -> Classifier:
    c = load_classifier(ClassifyConfig(model_dir=ROOT / "models/current",
                                       catalogue_dir=ROOT / "models/catalogue"))
    assert c.available, c.error
    return c


def parcel(*prints: tuple[str, tuple[int, int, int], float],
           surface: tuple[int, int, int] = (236, 236, 232),
           tape: tuple[int, int] | None = None, press_seed: int | None = None) -> np.ndarray:
    """A sheet on the belt with each (text, RGB colour, horizontal stretch) printed on it,
    and a strip of brown tape across it from x = tape[0] to tape[1] (sheet pixels); with
    ``press_seed`` the prints' ink is blotchy (:func:`imaging_helpers.blotched`)."""
    img = Image.new("RGB", (1280, 960), (40, 42, 44))
    sheet = Image.new("RGB", (BOX.w, BOX.h), surface)
    draw = ImageDraw.Draw(sheet)
    draw.rectangle((560, 380, 940, 640), fill=(250, 250, 248))  # the shipping label
    for i, line in enumerate(("TO: Ines Novak", "12 Canal St", "Lyon FR")):
        draw.text((580, 400 + 22 * i), line, fill=(20, 20, 20), font=ImageFont.truetype(FONT, 16))
    for i, (text, colour, stretch) in enumerate(prints):
        f = ImageFont.truetype(FONT, 54)
        x0, y0, x1, y1 = f.getbbox(text)
        word = Image.new("RGBA", (x1 - x0 + 8, y1 - y0 + 8), (0, 0, 0, 0))
        ImageDraw.Draw(word).text((4 - x0, 4 - y0), text, fill=(*colour, 255), font=f)
        if stretch != 1.0:
            word = word.resize((int(word.width * stretch), word.height), Image.BICUBIC)
        if press_seed is not None:
            rgba = np.asarray(word).copy()
            rgba[..., 3] = 255 * blotched(rgba[..., 3] / 255.0, press_seed)
            word = Image.fromarray(rgba, "RGBA")
        sheet.paste(word, (60, 60 + 150 * i), word)
    if tape is not None:
        draw.rectangle((tape[0], 0, tape[1], BOX.h), fill=(190, 150, 100))
    img.paste(sheet, (BOX.x, BOX.y))
    return np.asarray(img)[:, :, ::-1].copy()


def verdict(c):  # type: ignore[no-untyped-def]
    return judge_marks(c, load_rules(RulesConfig()))


def test_the_brand_is_named_by_its_words(clf: Classifier) -> None:
    c = clf.classify(parcel(("LUMERA", LUMERA_RED, 1.0)), BOX)
    assert (c.brand, c.name_match, c.top) == ("LUMERA", "exact", "genuine")
    assert "ΔE" in c.evidence["suspect_colour"] and c.scores["suspect_colour"] < 0.3
    assert c.mark_box is not None and BOX.x + 40 < c.mark_box.x < BOX.x + 100
    assert c.brand_facts is not None and c.brand_facts.ships_in == ("poly_mailer",)


def test_a_misspelt_name_is_flagged_with_the_words_read(clf: Classifier) -> None:
    c = clf.classify(parcel(("LUMERO", LUMERA_RED, 1.0)), BOX)
    v = verdict(c)
    assert c.brand == "LUMERA" and c.name_match == "edit" and v.outcome == "flag"
    assert "the mark reads 'LUMERO', one letter from brand LUMERA" in v.reasons[0]
    assert v.reasons[0].startswith("Mark of watchlisted brand LUMERA")


def test_red_handling_print_is_no_mark_never_the_red_brand(clf: Classifier) -> None:
    c = clf.classify(parcel(("FRAGILE", LUMERA_RED, 1.0), ("THIS SIDE UP", LUMERA_RED, 1.0)),
                     BOX)
    v = verdict(c)
    assert (c.top, c.brand, c.brand_facts) == ("none", "", None)
    assert v.outcome == "clear" and "not a catalogue brand" in v.reasons[0]
    assert "FRAGILE" in v.reasons[0]


def test_a_shop_word_in_a_brands_colour_is_no_mark(clf: Classifier) -> None:
    c = clf.classify(parcel(("KALOVIA", NORVEX_BLUE, 1.0)), BOX)
    assert c.top == "none" and c.brand == "" and verdict(c).outcome == "clear"


def test_the_wrong_colour_is_measured_in_delta_e(clf: Classifier) -> None:
    c = clf.classify(parcel(("LUMERA", BLUE, 1.0)), BOX)
    v = verdict(c)
    assert c.brand == "LUMERA" and v.outcome == "flag" and "suspect_colour" in v.flagged_labels
    assert "colour differs from LUMERA's reference by ΔE" in v.reasons[0]


def test_a_name_half_under_tape_still_names_its_brand_and_is_measured(clf: Classifier) -> None:
    """Tape over the middle letters: the pieces name KALIMBA (no misspelling is claimed for
    what cannot be seen); in its own colour it passes, in another it is flagged."""
    c = clf.classify(parcel(("KALIMBA", KALIMBA_ORANGE, 1.0), tape=TAPE_OVER_IM), BOX)
    assert (c.brand, c.name_match) == ("KALIMBA", "covered"), c.evidence
    assert c.scores["suspect_misspelled"] == 0.0 and verdict(c).outcome != "flag"
    assert "covered, brand KALIMBA" in c.evidence["name"]
    c = clf.classify(parcel(("KALIMBA", BLUE, 1.0), tape=TAPE_OVER_IM), BOX)
    v = verdict(c)
    assert c.brand == "KALIMBA" and v.outcome == "flag" and "suspect_colour" in v.flagged_labels


def test_a_name_running_under_tape_is_measured_but_never_flags_alone(clf: Classifier) -> None:
    """Only "ZEN" shows before the tape: ZENTRO is named as far as its letters go, its
    colour measured; in another colour that is a review (the hidden letters might spell
    another word), never a flag.  The same letters with no tape beside them are no mark."""
    c = clf.classify(parcel(("ZENTRO", ZENTRO_GREEN, 1.0), tape=TAPE_OVER_TRO), BOX)
    assert (c.brand, c.name_match) == ("ZENTRO", "cut"), c.evidence
    assert "what is hidden is not known" in c.evidence["name"] and verdict(c).outcome == "clear"
    c = clf.classify(parcel(("ZENTRO", BLUE, 1.0), tape=TAPE_OVER_TRO), BOX)
    v = verdict(c)
    assert (c.brand, c.name_match, v.outcome) == ("ZENTRO", "cut", "review"), c.evidence
    assert "colour differs from ZENTRO's reference" in v.reasons[0]
    c = clf.classify(parcel(("ZEN", BLUE, 1.0)), BOX)
    assert c.top == "none" and verdict(c).outcome == "clear"


def test_a_stretched_name_running_under_tape_is_still_distorted(clf: Classifier) -> None:
    """The letters that show before the tape are the name's own: "ZEN" 1.6x too wide for
    its height is reviewed as distorted; at its own proportions (1.19x DejaVu's) it is not."""
    c = clf.classify(parcel(("ZENTRO", ZENTRO_GREEN, 1.6), tape=(262, 470)), BOX)
    assert (c.brand, c.name_match, verdict(c).outcome) == ("ZENTRO", "cut", "review")
    assert c.scores["suspect_distorted"] >= c.review_thresholds["suspect_distorted"]
    assert "as wide for their height as on ZENTRO's reference" in verdict(c).reasons[0]


def test_a_name_read_short_up_to_tape_is_cut_not_misspelt(clf: Classifier) -> None:
    """NORVE read up to tape over the X: the line stops where the tape starts, so the name
    is cut (nothing claimed for the hidden letter), not read short by a misspelling; printed
    NORVE with no tape beside it stays a name with a letter fewer, for an officer to check."""
    c = clf.classify(parcel(("NORVEX", NORVEX_BLUE, 1.0), tape=TAPE_OVER_X), BOX)
    assert (c.brand, c.name_match) == ("NORVEX", "cut"), c.evidence
    # The name says nothing against the brand.  Since packaging v1.6.2 this plain white sheet
    # reads as a mailer about as often as a box (README: white boxes 89% right), and the
    # packaging rule may send it to review for that, never the name.
    v = verdict(c)
    assert any("looks genuine" in r for r in v.reasons), v.reasons
    assert v.outcome == "clear" or (v.outcome == "review" and c.packaging != "cardboard_box")
    c = clf.classify(parcel(("NORVE", NORVEX_BLUE, 1.0)), BOX)
    assert (c.brand, c.name_match, verdict(c).outcome) == ("NORVEX", "partial", "review")


def test_a_stretched_name_is_distorted(clf: Classifier) -> None:
    c = clf.classify(parcel(("NORVEX", NORVEX_BLUE, 1.9)), BOX)
    assert c.brand == "NORVEX" and c.scores["suspect_distorted"] >= c.review_thresholds[
        "suspect_distorted"]
    assert verdict(c).outcome == "review"  # proportions alone never flag
    assert "as wide for their height as on NORVEX's reference" in c.evidence["suspect_distorted"]


@pytest.mark.parametrize("stretch, reviewed", [(0.6, True), (0.8, False), (1.0, False)])
def test_a_squeezed_name_is_reviewed_sooner_than_a_wide_one(clf: Classifier, stretch: float,
                                                           reviewed: bool) -> None:
    """Genuine marks measure from about 0.8x to 1.45x their reference's width per letter
    height.  DejaVu Sans Bold measures 1.28x NORVEX's reference unstretched (not reviewed);
    squeezed to 0.6 it measures 0.74x and is reviewed (a symmetric line at 1/1.45 = 0.69x
    did not)."""
    c = clf.classify(parcel(("NORVEX", NORVEX_BLUE, stretch)), BOX)
    assert c.brand == "NORVEX"
    assert (c.scores["suspect_distorted"] >= c.review_thresholds["suspect_distorted"]) == \
        reviewed, c.evidence["suspect_distorted"]


def print_verdict(c):  # type: ignore[no-untyped-def]
    """The verdict on the print alone: the test's sheet is flat white board, which mailer-only
    LUMERA does not ship in, so here it is taken to ship in anything."""
    anything = BrandRule(ships_in=("cardboard_box", "poly_mailer", "padded_envelope"))
    return judge_marks(c, load_rules(RulesConfig(brand_overrides={"lumera": anything})))


def test_a_blotchy_print_of_the_name_is_poorly_printed(clf: Classifier) -> None:
    """The right name in the right colour, its ink full of holes: sent on for its print (most
    such prints: how many holes a press leaves varies, and some print passably)."""
    crisp = clf.classify(parcel(("LUMERA", LUMERA_RED, 1.0)), BOX)
    assert crisp.brand == "LUMERA" and print_verdict(crisp).outcome == "clear", crisp.evidence
    blotchy = [clf.classify(parcel(("LUMERA", LUMERA_RED, 1.0), press_seed=s), BOX)
               for s in range(1, 6)]
    assert all(c.brand == "LUMERA" for c in blotchy)
    sent_on = [c for c in blotchy if print_verdict(c).outcome in ("review", "flag")]
    assert len(sent_on) >= 3, [c.evidence.get("suspect_quality") for c in blotchy]
    assert all(c.scores["suspect_quality"] >= c.review_thresholds["suspect_quality"]
               and "of the strokes print at under 60% of the ink around them"
               in c.evidence["suspect_quality"] for c in sent_on)


def test_a_bad_catalogue_update_keeps_the_last_good_one(clf: Classifier, tmp_path: Path) -> None:
    bad = tmp_path / "cat"
    shutil.copytree(ROOT / "models/catalogue", bad)
    (bad / "lumera.png").unlink()
    before = clf.catalogue.current
    assert not clf.reload_catalogue(bad)
    assert clf.catalogue.current is before and "lumera.png" in clf.catalogue.last_error
    c = clf.classify(parcel(("LUMERA", LUMERA_RED, 1.0)), BOX)
    assert c.available and c.catalogue.sha256 == before.sha256


def test_a_catalogue_the_model_cannot_serve_makes_the_stage_unavailable(tmp_path: Path) -> None:
    cat = tmp_path / "cat"
    shutil.copytree(ROOT / "models/catalogue", cat)
    data = json.loads((cat / "catalogue.json").read_text())
    data["brands"][0]["ships_in"] = ["gift_bag"]
    (cat / "catalogue.json").write_text(json.dumps(data))
    c = load_classifier(ClassifyConfig(model_dir=ROOT / "models/current", catalogue_dir=cat))
    assert not c.available
    shipped = json.loads((ROOT / "models/current/manifest.json").read_text())["version"]
    assert "'NORVEX' ships_in ['gift_bag']" in c.error and f"parcel-mark {shipped}" in c.error


def test_a_marks_measured_colour_does_not_depend_on_what_was_measured_before(
        clf: Classifier) -> None:
    """The ink is split from the paper by k-means; seeded from OpenCV's shared random state,
    this green ZENTRO on kraft measured ΔE 1 or ΔE 31 (the kraft) depending on the state
    other parcels and threads had left, and so was flagged or not."""
    import cv2

    from models import dataset as ds

    p = ds.render(4004, 48, 0.85)   # the project's generator: a genuine ZENTRO on a box
    seen = set()
    for seed in range(8):
        cv2.setRNGSeed(7919 * seed + 1)
        c = clf.classify(p.image, Box(*p.truth["parcel_box"]))
        seen.add(c.evidence.get("suspect_colour"))
    assert len(seen) == 1
    assert c.brand == "ZENTRO" and c.scores["suspect_colour"] < 0.2


def test_a_mark_close_to_its_surfaces_colour_is_found_by_the_second_look(clf: Classifier) -> None:
    """A green name on a green box: the levels barely move, and the first look reads nothing;
    the second raises the local contrast, finds it, and measures it on the true colours.  A
    green box is near ZENTRO's green, so by default ("hidden") the second look is taken."""
    image = parcel(("ZENTRO", (30, 136, 62), 1.0), surface=(40, 120, 60))
    assert clf.second_look == "hidden"
    try:
        clf.second_look = "never"
        assert clf.classify(image, BOX).brand == ""
    finally:
        clf.second_look = "hidden"
    c = clf.classify(image, BOX)
    assert (c.brand, c.name_match, c.mark_text) == ("ZENTRO", "exact", "ZENTRO")
    assert "ΔE" in c.evidence["suspect_colour"] and c.scores["suspect_colour"] < 0.3


@pytest.mark.parametrize("surface_bgr, hides", [
    ((40, 120, 60), True),     # green board: ZENTRO's green would not show
    ((235, 238, 240), False),  # white board: every brand colour shows
    ((80, 130, 170), True),    # kraft: KALIMBA's orange is within CIEDE2000 16 of it
    ((190, 190, 185), False),  # grey film
    ((30, 28, 30), True),      # near black: every colour is compressed
])
def test_the_second_look_is_taken_only_where_the_surface_could_hide_a_mark(
        clf: Classifier, surface_bgr: tuple[int, int, int], hides: bool) -> None:
    from edge.classify.looks import could_hide_a_mark

    catalogue = clf.catalogue.current
    assert catalogue is not None
    piece = np.full((300, 400, 3), surface_bgr, np.uint8)
    piece[120:180, 150:250] = 250  # some label paper: a minority of the surface
    assert could_hide_a_mark(piece, catalogue) is hides
