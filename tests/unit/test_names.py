"""Reading a mark's words against the catalogue: exact, look-alike, near miss or nothing."""
from __future__ import annotations

import pytest

from edge.catalogue.names import candidates, edit_distance, match_cut, match_pieces, match_word

BRANDS = [("LUMERA", ("LUMERA",)), ("NORVEX", ("NORVEX",)), ("KALIMBA", ("KALIMBA",)),
          ("ORBIQ", ("ORBIQ",)), ("ZENTRO", ("ZENTRO",))]


@pytest.mark.parametrize("read, brand, kind, edits", [
    ("LUMERA", "LUMERA", "exact", 0), ("lumera", "LUMERA", "exact", 0),
    ("N0RVEX", "NORVEX", "lookalike", 1), ("KALlMBA", "KALIMBA", "lookalike", 1),
    ("LUMERO", "LUMERA", "edit", 1), ("ORBQI", "ORBIQ", "edit", 1),
    ("KALLIMBA", "KALIMBA", "edit", 1), ("KLAIMBA", "KALIMBA", "edit", 1),
    ("KAL1MBO", "KALIMBA", "edit", 2),
])
def test_brand_names_and_their_misspellings(read: str, brand: str, kind: str, edits: int) -> None:
    m = match_word(read, BRANDS)
    assert m is not None and (m.brand, m.kind, m.edits) == (brand, kind, edits)


@pytest.mark.parametrize("read", ["FRAGILE", "THIS", "SIDE", "UP", "KEEP", "DRY", "GLASS",
                                  "LUMEN", "ROMERA", "NORTH", "ZENITH", "NOMI", "LU", "", "??"])
def test_other_words_are_no_brand_never_the_nearest(read: str) -> None:
    assert match_word(read, BRANDS) is None


def test_reasons_read_as_an_officer_would_check_them() -> None:
    assert match_word("LUMERO", BRANDS).words() == \
        "the mark reads 'LUMERO', one letter from brand LUMERA"
    assert "look-alike" in match_word("Z3NTRO", BRANDS).words()


def test_edit_distance_counts_a_swap_as_one() -> None:
    assert edit_distance("LUMREA", "LUMERA") == 1 and edit_distance("ABC", "") == 3
    assert candidates("L U M E R A") == ["L", "U", "M", "E", "R", "A", "LUMERA"]


def test_edits_that_touch_the_same_letters_count_one_each() -> None:
    # ZENTRO, its R dropped and then its last two letters swapped: two edits, not three
    assert edit_distance("ZENOT", "ZENTRO") == 2 and edit_distance("CA", "ABC") == 2
    assert edit_distance("KALIAM", "KALIMBA") == 2 and edit_distance("KITTEN", "SITTING") == 3
    near = match_word("ZENOT", BRANDS, near=True)
    assert near is not None and (near.brand, near.kind, near.edits) == ("ZENTRO", "near", 2)
    # a seven-letter name allows two such edits: a misspelling, not a near word
    m = match_word("KALIAM", [("KALIMBA", ("KALIMBA",))])
    assert m is not None and (m.kind, m.edits) == ("edit", 2)


@pytest.mark.parametrize("first, hidden, second, brand, covered", [
    ("KAL", 2, "BA", "KALIMBA", 2),      # tape over "IM"
    ("KAI", 1, "BA", "KALIMBA", 2),      # I read for L, the gap one letter short
    ("ZEN", 2, "O", "ZENTRO", 2),
    ("Zen", 1, "ro", "ZENTRO", 1),     # case and a one-letter strip
    ("LUN", 1, "RA", "LUMERA", 1),     # the M at the tape's edge cut after its first leg
    ("NO", 1, "IEX", "NORVEX", 1),     # the V at the far edge half hidden, read I
])
def test_a_name_read_in_pieces_around_a_covered_middle(first: str, hidden: int, second: str,
                                                      brand: str, covered: int) -> None:
    m = match_pieces(first, hidden, second, BRANDS)
    assert m is not None and (m.brand, m.kind, m.edits) == (brand, "covered", covered)
    assert not m.misspelled and "covered" in m.words()


@pytest.mark.parametrize("first, hidden, second", [
    ("KAL", 5, "BA"),     # the gap is far wider than the hidden letters
    ("KA", 3, "A"),       # three of seven letters shown: too little to name it
    ("LUM", 2, "BA"),     # pieces of two different names
    ("K", 4, "MBA"),      # a first piece of one letter
    ("LUMERA", 1, "X"),   # nothing hidden in the name: not a covered LUMERA
    ("LN", 2, "ERA"),     # one letter of the name and one at the tape's edge: too little
    ("LUX", 1, "XA"),     # the letters at both edges may be anything, but not all the rest
])
def test_pieces_that_do_not_make_a_name_are_no_brand(first: str, hidden: int, second: str) -> None:
    assert match_pieces(first, hidden, second, BRANDS) is None


@pytest.mark.parametrize("piece, hidden, brand, read, covered", [
    ("ZEN", 2, "ZENTRO", "ZEN…", 2),       # "O" beyond the tape, too small to be a line
    ("ZEN", 3, "ZENTRO", "ZEN…", 3),       # the tape runs past the name's end
    ("NOR", 4, "NORVEX", "NOR…", 3),       # the band a letter wider than the hidden three
    ("BIQ", 2, "ORBIQ", "…BIQ", 2),        # the name's start under the tape
    ("KALI", 3, "KALIMBA", "KALI…", 3),
    ("ZENI", 2, "ZENTRO", "ZENI…", 2),     # the T at the tape's edge cut down its stem
    ("XTRO", 2, "ZENTRO", "…XTRO", 2),     # the edge letter at the piece's start
])
def test_one_piece_running_under_tape_is_a_cut_name(piece: str, hidden: int, brand: str,
                                                    read: str, covered: int) -> None:
    m = match_cut(piece, hidden, BRANDS)
    assert m is not None and (m.brand, m.kind, m.read, m.edits) == (brand, "cut", read, covered)
    assert not m.misspelled and "what is hidden is not known" in m.words()


@pytest.mark.parametrize("piece, hidden", [
    ("ZE", 3),        # two letters name nothing
    ("KAL", 4),       # three of seven: under half the name shown
    ("ZEN", 6),       # a band far wider than the three letters the name lacks
    ("ZANT", 2),      # not the name's start or end, however its edge letter is read
    ("ZEI", 3),       # two of the name's letters and one at the tape's edge: too few
    ("LUMERA", 2),    # the whole name: nothing of it is hidden
])
def test_a_piece_the_band_does_not_explain_is_no_brand(piece: str, hidden: int) -> None:
    assert match_cut(piece, hidden, BRANDS) is None


@pytest.mark.parametrize("read, brand, edits", [
    ("ENTRO", "ZENTRO", 1),      # the line box cut the first letter off
    ("OORBIQ", "ORBIQ", 1),      # the ring emblem read as one more O
    ("LIMBA", "KALIMBA", 2), ("KALIMBAA", "KALIMBA", 1),
])
def test_letters_only_at_the_ends_are_a_partial_name_not_a_misspelling(
        read: str, brand: str, edits: int) -> None:
    m = match_word(read, BRANDS)
    assert m is not None and (m.brand, m.kind, m.edits) == (brand, "partial", edits)
    assert "at its ends" in m.words()


def test_a_partial_name_is_sent_to_review_however_sure_the_reading() -> None:
    """A genuine ZENTRO read 'ENTRO' at confidence 0.97 was flagged as misspelt."""
    from edge.classify.crops import MarkGuess
    from edge.classify.judge import REVIEW, _measure
    from edge.classify.verify import Reading
    from edge.ocr import TextLine

    def score(text: str) -> float:
        line = TextLine(text, 0.97, ((0, 0), (50, 0), (50, 10), (0, 10)))
        reading = Reading(MarkGuess(0, 0, 1, 1, 0, 1), (line,), match_word(text, BRANDS), line)
        return _measure(reading)[0]["suspect_misspelled"]

    assert REVIEW["suspect_misspelled"] <= score("ENTRO") < 0.85 <= score("ZENTRA")


def test_a_name_beside_its_emblem_is_no_misspelling() -> None:
    """OCR reads ORBIQ's ring as one more O; told from a letter by its shape, the name is
    the brand's own and the words say what was read as a letter."""
    from edge.catalogue.names import RANK, NameMatch

    m = NameMatch("ORBIQ", "ORBIQ", "ORBIQ", "emblem", 1)
    assert not m.misspelled and RANK["emblem"] == RANK["exact"]
    assert m.words() == ("the mark reads 'ORBIQ', the name of brand ORBIQ beside its emblem "
                         "(read as 1 more letter(s))")
