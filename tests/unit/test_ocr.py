"""The OCR wrapper: both engines read a printed word, with boxes in the input's pixels."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from edge import ocr
from edge.ocr_tesseract import _tsv_lines

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def _word(text: str, size: int = 40, pad: int = 30) -> np.ndarray:
    f = ImageFont.truetype(FONT, size)
    x0, y0, x1, y1 = f.getbbox(text)
    img = Image.new("RGB", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), (235, 225, 200))
    ImageDraw.Draw(img).text((pad - x0, pad - y0), text, fill=(40, 30, 160), font=f)
    return np.asarray(img)[:, :, ::-1].copy()


@pytest.mark.parametrize("engine", ["rapidocr", "tesseract"])
def test_engine_reads_a_word_and_locates_it(engine: str) -> None:
    image = _word("LUMERO")
    lines = ocr.open_engine(engine).read_lines(image)
    assert [t.text.upper() for t in lines] == ["LUMERO"]
    (x0, y0), _, (x2, y2), _ = lines[0].box
    assert 10 <= x0 < 60 and 10 <= y0 < 50  # the word starts near the 30 px pad
    assert x2 > image.shape[1] - 70 and 0.3 < lines[0].confidence <= 1.0


def test_large_picture_is_read_with_boxes_in_its_own_pixels() -> None:
    word = _word("NORVEX", size=60)
    big = np.full((1400, 2600, 3), 235, np.uint8)
    big[700:700 + word.shape[0], 1800:1800 + word.shape[1]] = word
    lines = ocr.open_engine("rapidocr", det_side=960).read_lines(big)
    hit = [t for t in lines if t.text.upper() == "NORVEX"]
    assert hit and 1780 < hit[0].box[0][0] < 1860 and 690 < hit[0].box[0][1] < 760


def test_lines_found_on_halvings_of_a_large_picture_keep_its_pixels() -> None:
    """Detection shrinks a picture four times its size by exact halvings first: the boxes
    must still land on the word in the picture as given."""
    word = _word("NORVEX", size=90)
    big = np.full((1500, 2000, 3), 235, np.uint8)
    big[900:900 + word.shape[0], 1200:1200 + word.shape[1]] = word
    engine = ocr.open_engine("rapidocr", det_side=320)
    hit = [t for t in engine.read_lines(big) if t.text.upper() == "NORVEX"]
    assert hit and 1180 < hit[0].box[0][0] < 1260 and 890 < hit[0].box[0][1] < 960
    assert 1620 < hit[0].box[2][0] < 1720 and 990 < hit[0].box[2][1] < 1060


def test_wrapped_models_see_every_call_and_change_no_reading() -> None:
    """The benchmark times the OCR models alone on the inputs the path gave them."""
    engine = ocr.open_engine("rapidocr", any_angle=True)
    before = engine.read_lines(_word("LUMERO"))
    seen: list[tuple[str, tuple[int, ...]]] = []

    def wrap(role: str, session):  # type: ignore[no-untyped-def]
        def recorded(x: np.ndarray):  # type: ignore[no-untyped-def]
            seen.append((role, x.shape))
            return session(x)
        return recorded

    engine.wrap_models(wrap)
    assert engine.read_lines(_word("LUMERO")) == before
    roles = [role for role, _ in seen]
    assert roles[0] == "det" and "cls" in roles and "rec" in roles
    assert seen[-1][1][2] == 48  # recognition's input: a line 48 px high
    # as wide as the word, not padded to PP-OCR's 320 px training width
    assert ocr.REC_MIN_WIDTH <= seen[-1][1][3] < 320


def test_blank_picture_reads_nothing_and_bad_input_is_refused() -> None:
    assert ocr.read_lines(np.full((80, 200, 3), 200, np.uint8)) == ()
    with pytest.raises(ValueError, match="uint8"):
        ocr.read_lines(np.zeros((10, 10), np.float32))
    with pytest.raises(ValueError, match="unknown OCR engine"):
        ocr.open_engine("nope")


def test_tesseract_rows_group_into_lines_and_text_is_cleaned() -> None:
    tsv = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
           "5\t1\t1\t1\t1\t1\t10\t20\t30\t12\t90\tTHIS\n"
           "5\t1\t1\t1\t1\t2\t45\t21\t20\t12\t70\tSIDE\x07\n"
           "5\t1\t1\t1\t2\t1\t10\t50\t40\t12\t-1\tUP\n")
    lines = _tsv_lines(tsv, 2.0)
    assert [t.text for t in lines] == ["THIS SIDE?", "UP"]
    assert lines[0].box[0] == (20.0, 40.0) and lines[0].box[2] == (130.0, 66.0)
    assert lines[0].confidence == 0.8 and lines[1].confidence == 0.0


def test_an_unsure_line_is_read_again_upside_down_and_the_surer_reading_stands() -> None:
    """The angle classifier can leave a word upside down; a sure line is never read twice."""
    engine = ocr.open_engine("rapidocr", any_angle=True)
    upright = _word("LUMERO")
    flipped = np.ascontiguousarray(upright[::-1, ::-1])
    calls: list[int] = []

    def recognise(crops: list[np.ndarray]) -> tuple[list[tuple[str, float]], float]:
        calls.append(len(crops))
        # The stand-in engine reads the word only the right way up.
        return [("LUMERO", 0.98) if np.array_equal(c, upright) else ("OHEWN7", 0.41)
                for c in crops], 0.0

    engine._ocr.text_rec = recognise
    # the surer reading came from the crop turned half a turn: the words run right to left
    assert engine._either_way([flipped], [("OHEWN7", 0.41)]) == [("LUMERO", 0.98, True)]
    assert engine._either_way([upright], [("LUMERO", 0.98)]) == [("LUMERO", 0.98)]
    assert calls == [1]   # the sure line was not read again
    noise = np.full_like(upright, 128)
    assert engine._either_way([noise], [("x", 0.5)]) == [("x", 0.5)]   # neither way is surer


def test_a_word_read_upside_down_says_its_words_run_from_the_right() -> None:
    """What lies before a word's first letter (an emblem read as a letter) is at the left
    of a line read upright and at the right of one read from its crop turned half a turn."""
    engine = ocr.open_engine("rapidocr", any_angle=True)
    upright = _word("NORVEX", size=44)
    [level] = engine.read_lines(upright)
    [turned] = engine.read_lines(np.ascontiguousarray(upright[::-1, ::-1]))
    assert (level.text, level.upside_down) == ("NORVEX", False)
    assert (turned.text, turned.upside_down) == ("NORVEX", True)


@pytest.mark.parametrize("engine", ["rapidocr", "tesseract"])
def test_lines_read_before_are_skipped_and_the_others_still_read(engine: str) -> None:
    """A second look at a picture recognises only what the first did not read."""
    top, bottom = _word("NORVEX", size=44), _word("LUMERO", size=44)
    width = max(top.shape[1], bottom.shape[1])
    picture = np.full((top.shape[0] + bottom.shape[0] + 40, width, 3), (235, 225, 200), np.uint8)
    picture[:top.shape[0], :top.shape[1]] = top
    picture[top.shape[0] + 40:, :bottom.shape[1]] = bottom
    reader = ocr.open_engine(engine)
    first = reader.read_lines(picture)
    assert sorted(t.text.upper() for t in first) == ["LUMERO", "NORVEX"]
    norvex = [t for t in first if t.text.upper() == "NORVEX"]
    again = reader.read_lines(picture, skip=norvex)
    assert [t.text.upper() for t in again] == ["LUMERO"]


def test_reading_stops_at_the_first_line_that_is_enough_tallest_first() -> None:
    """A mark is a parcel's tallest print: once it is read the smaller lines need no
    recognition (each is one run of the recogniser)."""
    small, tall = _word("LUMERO", size=24), _word("NORVEX", size=48)
    width = max(small.shape[1], tall.shape[1])
    picture = np.full((small.shape[0] + tall.shape[0] + 40, width, 3), (235, 225, 200), np.uint8)
    picture[:small.shape[0], :small.shape[1]] = small   # the small line comes first, on top
    picture[small.shape[0] + 40:, :tall.shape[1]] = tall
    engine = ocr.open_engine("rapidocr")
    runs: list[int] = []
    recognise = engine._ocr.text_rec

    def counted(crops: list[np.ndarray]) -> tuple[list[tuple[str, float]], float]:
        runs.append(len(crops))
        return recognise(crops)

    engine._ocr.text_rec = counted
    every = engine.read_lines(picture)
    assert [t.text for t in every] == ["LUMERO", "NORVEX"] and runs == [2]
    runs.clear()
    enough = engine.read_lines(picture, enough=lambda line: line.text == "NORVEX")
    assert [t.text for t in enough] == ["NORVEX"] and runs == [1]
    runs.clear()
    never = engine.read_lines(picture, enough=lambda line: False)
    assert never == every and runs == [1, 1]   # the same lines, in the same order


def test_two_workers_read_on_one_engine_at_once_each_with_its_own_reading() -> None:
    """Path workers share the engine: its models run for both at the same time (a lock
    around them gave a second worker 1.2x where it gives 1.6x), and what one keeps of a
    reading (the recogniser's columns for ``respell``) is not the other's."""
    engine = ocr.open_engine("rapidocr")
    alone = engine.read_lines(_word("LUMERO"), respell=("LUMERO", "LUMERA"))
    both_in = threading.Barrier(2, timeout=10)

    def wrap(role: str, session):  # type: ignore[no-untyped-def]
        def met(x: np.ndarray):  # type: ignore[no-untyped-def]
            if role == "det":
                both_in.wait()  # each detection waits for the other thread's to start
            return session(x)
        return met

    engine.wrap_models(wrap)
    with ThreadPoolExecutor(2) as pool:
        asked = pool.submit(engine.read_lines, _word("LUMERO"), respell=("LUMERO", "LUMERA"))
        plain = pool.submit(engine.read_lines, _word("NORVEX"))
        lumero, norvex = asked.result(timeout=30), plain.result(timeout=30)
    assert lumero == alone and lumero[0].respelt is not None
    assert [t.text for t in norvex] == ["NORVEX"] and norvex[0].respelt is None


def test_a_printed_misspelling_leaves_the_right_spelling_unlikely_and_a_smudged_letter_not() -> None:
    """The recogniser's own odds of another spelling, asked for with ``respell``."""
    engine = ocr.open_engine("rapidocr")
    printed = engine.read_lines(_word("LUMERO"), respell=("LUMERO", "LUMERA"))
    assert [t.text for t in printed] == ["LUMERO"] and printed[0].respelt is not None
    assert printed[0].respelt < -5.0  # what is printed rules the other spelling out
    same = engine.read_lines(_word("LUMERO"), respell=("LUMERO", "LUMERO"))
    assert same[0].respelt == pytest.approx(0.0, abs=1e-6)
    assert engine.read_lines(_word("LUMERO"), respell=("NORVEX", "NORVEA"))[0].respelt is None
    assert engine.read_lines(_word("LUMERO"))[0].respelt is None  # not asked: not worked out
    smudged = _word("LUMERA")
    h, w = smudged.shape[:2]
    smudged[h // 2 - 4:, w - 62:w - 30] = (235, 225, 200)  # the A's legs and bar rubbed off
    read = engine.read_lines(smudged)[0].text  # 'LUMER^'
    lines = engine.read_lines(smudged, respell=(read, "LUMERA"))
    assert read != "LUMERA" and lines[0].respelt is not None
    assert lines[0].respelt > printed[0].respelt + 3.0  # -3.9 against -9.1


def test_lines_steeper_than_asked_are_not_recognised() -> None:
    """The turned look wants only the print the upright look could not read level."""
    level, steep = _word("NORVEX", size=44), np.rot90(_word("LUMERO", size=44), k=-1)
    picture = np.full((steep.shape[0] + 40, level.shape[1] + steep.shape[1] + 40, 3),
                      (235, 225, 200), np.uint8)
    picture[20:20 + level.shape[0], :level.shape[1]] = level
    picture[20:20 + steep.shape[0], level.shape[1] + 40:] = steep
    reader = ocr.open_engine("rapidocr", any_angle=True)
    assert sorted(t.text.upper() for t in reader.read_lines(picture)) == ["LUMERO", "NORVEX"]
    found: list[ocr.Quad] = []
    assert [t.text.upper() for t in reader.read_lines(picture, level_within=60.0,
                                                      found=found)] == ["NORVEX"]
    # what was found and not read is still told: print lies there
    assert len(found) == 2 and any(min(x for x, _ in q) > level.shape[1] for q in found)
    assert ocr.slope_deg(np.float32([[0, 0], [10, 10], [5, 15], [-5, 5]])) == \
        pytest.approx(45.0)


def test_the_recogniser_prints_no_letter_of_a_script_the_catalogue_does_not_use() -> None:
    """A taped or blurred Latin mark came out as a Chinese character ('川'), which officers
    were shown as the print on the parcel; a catalogue name in that script lets it back."""
    from rapidocr_onnxruntime import RapidOCR

    from edge.ocr_columns import Columns

    recogniser = RapidOCR().text_rec
    index = {c: i for i, c in enumerate(recogniser.postprocess_op.character)}
    columns = Columns(recogniser)
    preds = np.full((1, 5, len(index)), 1e-4, np.float32)
    for t, (first, second) in enumerate([("川", "N"), ("blank", "川"), ("O", "川"),
                                         ("blank", "O"), ("★", "O")]):
        preds[0, t, index[first]], preds[0, t, index[second]] = 0.8, 0.15
    assert columns(preds)[0][0] == "NO★"  # the decoder's own call: the column's next best
    assert preds[0, 0, index["川"]] == pytest.approx(0.8)  # the recogniser's output untouched
    columns.allow("川")
    assert columns(preds)[0][0] == "川O★"
    columns.allow("")
    assert columns(preds)[0][0] == "NO★"
