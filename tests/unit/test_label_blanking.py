"""The brand check never spends a recognition on the shipping label's own print."""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from edge.process import blank_label, classify_reduced, label_paper, not_the_box
from edge.pyramid import Pyramid
from edge.records import Box, Classification

KRAFT = (70, 120, 170)


def parcel_with_label(box_colour: tuple[int, int, int] = KRAFT) -> tuple[np.ndarray, Box, Box]:
    """A 1280x960 frame: a box, a white label with lines of print and bars, a red mark."""
    frame = np.full((960, 1280, 3), 40, np.uint8)
    cv2.rectangle(frame, (200, 150), (1100, 850), box_colour, -1)
    cv2.rectangle(frame, (300, 250), (700, 550), (245, 245, 245), -1)
    for i, y in enumerate(range(290, 400, 30)):
        cv2.putText(frame, f"ADDRESS LINE {i}", (320, y), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (20, 20, 20), 2)
    for x in range(330, 650, 6):
        cv2.line(frame, (x, 430), (x, 510), (0, 0, 0), 2)
    cv2.putText(frame, "NORVEX", (780, 700), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (40, 40, 200), 5)
    return frame, Box(200, 150, 900, 700), Box(326, 426, 330, 88)


def test_the_label_paper_is_painted_over_and_the_mark_kept() -> None:
    frame, parcel, seed = parcel_with_label()
    paper = not_the_box(label_paper(Pyramid(frame), seed), seed, parcel.area)
    assert paper is not None and paper.x <= 305 and paper.y <= 255 and paper.x + paper.w >= 695 and paper.y + paper.h >= 545
    blanked = blank_label(frame, paper)
    inside = blanked[252:548, 302:698]
    assert inside.std() == 0 and inside.mean() > 200          # no print left, paper colour
    assert np.array_equal(blanked[650:720, 760:1080], frame[650:720, 760:1080])  # the mark
    assert frame[300:400, 320:600].std() > 0                  # the frame itself is untouched


def test_only_the_labels_black_print_is_painted_a_coloured_mark_on_the_paper_stays() -> None:
    """On a white mailer the label's paper runs on into the parcel, and so does its box: a
    brand's coloured mark inside that box must still reach the brand check, and the
    packaging (kraft corners of a tilted label's box) keeps its look."""
    frame, parcel, seed = parcel_with_label()
    cv2.putText(frame, "LUMERA", (320, 410), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (45, 35, 200), 3)
    blanked = blank_label(frame, Box(290, 240, 420, 320))
    assert np.array_equal(blanked[250:260, 290:300], frame[250:260, 290:300])   # kraft corner
    text, mark = blanked[270:370, 320:600], blanked[385:415, 320:450]
    assert text.std() == 0                                     # the black print is gone
    assert ((mark[:, :, 2] > 150) & (mark[:, :, 1] < 80)).sum() > 200   # the red mark is not


def test_on_a_white_box_only_the_codes_are_blanked() -> None:
    frame, parcel, seed = parcel_with_label(box_colour=(245, 245, 245))
    assert not_the_box(label_paper(Pyramid(frame), seed), seed, parcel.area) == seed


def test_the_classifier_is_handed_the_frame_without_its_label() -> None:
    frame, parcel, seed = parcel_with_label()
    seen: list[np.ndarray] = []
    papers: list[Box | None] = []

    def classify(image: np.ndarray, box: Any, label: Box | None) -> Classification:
        seen.append(image)
        papers.append(label)
        return Classification(model=None, scores={})

    paper = label_paper(Pyramid(frame), seed)
    classify_reduced(classify, Pyramid(frame), parcel, paper)
    classify_reduced(classify, Pyramid(frame), parcel, None)
    assert seen[0][300:400, 320:600].std() == 0 and seen[1][300:400, 320:600].std() > 0
    assert papers == [paper, None]  # packaging is then not read from the label's paper


def test_a_tilted_label_on_a_dark_mailer_leaves_no_ghost_print() -> None:
    """The label's box takes in dark mailer around a tilted label: one colour for the box
    (their median) painted the address light grey on white, and it still read."""
    sheet = np.full((500, 700, 3), 245, np.uint8)
    for i, y in enumerate(range(60, 200, 40)):
        cv2.putText(sheet, f"TO ADDRESS LINE {i}", (30, y), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (15, 15, 15), 2)
    for x in range(40, 640, 8):
        cv2.line(sheet, (x, 300), (x, 420), (0, 0, 0), 3)
    frame = np.full((960, 1280, 3), 28, np.uint8)                 # a black mailer
    m = cv2.getRotationMatrix2D((350, 250), 20, 1.0)
    m[:, 2] += (290, 230)
    cover = cv2.warpAffine(np.full((500, 700), 255, np.uint8), m, (1280, 960)) == 255
    frame[cover] = cv2.warpAffine(sheet, m, (1280, 960))[cover]
    ys, xs = np.nonzero(cover)
    box = Box(int(xs.min()), int(ys.min()), int(xs.max() - xs.min()), int(ys.max() - ys.min()))
    blanked = blank_label(frame, box)
    inner = cv2.erode(cover.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert int(blanked[inner].min()) >= 245 - 12               # the paper alone, no grey print
    assert np.array_equal(blanked[~cover], frame[~cover])      # the mailer keeps its look


def test_a_coloured_mark_on_a_dark_mailer_inside_the_labels_box_is_kept() -> None:
    """Between the letters of a red mark on a black mailer the closing finds red: those dark
    gaps are darker than their "paper" and grey, but that paper is no label's."""
    frame = np.full((960, 1280, 3), 30, np.uint8)
    cv2.rectangle(frame, (300, 250), (700, 550), (245, 245, 245), -1)
    cv2.putText(frame, "ADDRESS", (320, 300), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (20, 20, 20), 2)
    cv2.putText(frame, "LUMERA", (720, 640), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (45, 35, 200), 4)
    blanked = blank_label(frame, Box(280, 230, 700, 460))
    assert np.array_equal(blanked[590:660, 710:990], frame[590:660, 710:990])
    assert blanked[275:310, 315:450].min() > 200               # the label's print is gone


def test_a_dim_labels_print_is_painted_and_a_dark_belts_noise_is_not() -> None:
    """Under low light a label's paper is ~60 and worn grey print ~27: less than the 40 levels
    a lit label's print stands below its paper, far more than a dark belt's noise."""
    frame = np.full((960, 1280, 3), 40, np.uint8)
    cv2.rectangle(frame, (200, 150), (1100, 850), KRAFT, -1)
    cv2.rectangle(frame, (300, 250), (700, 550), (245, 245, 245), -1)
    for i, y in enumerate(range(290, 400, 30)):
        cv2.putText(frame, f"ADDRESS LINE {i}", (320, y), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (110, 110, 110), 2)
    noise = np.random.default_rng(3).normal(0, 3, frame.shape)
    dim = np.clip(frame * 0.25 + noise, 0, 255).astype(np.uint8)
    blanked = blank_label(dim, Box(150, 100, 620, 500))       # the belt's corner inside the box
    text = blanked[270:370, 320:600].astype(np.int16)
    assert text.min() >= int(dim[255:265, 305:695].mean()) - 18  # only the paper and its noise
    assert np.array_equal(blanked[100:140, 150:190], dim[100:140, 150:190])  # belt, noise kept
