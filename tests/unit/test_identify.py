"""Identifier tables: published valid ids, ids that must fail, and every single-character error."""
from __future__ import annotations

import re

import pytest

from edge.identify import (Identification, best_reference, cbp_check_digit, dhl_check_digit,
                           fedex_check_digit, gs1_check_digit, identify, make_s10,
                           parse_element_string, s10_check_digit, ups_check_digit)
from edge.identify.checks import ups_char_value
from edge.identify.sanitize import MAX_TEXT, sanitize
from edge.records import Symbol

VALID = [
    # (text, kind, canonical value)
    ("RB123456785GB", "upu_s10", "RB123456785GB"),
    ("RB123456785US", "upu_s10", "RB123456785US"),
    ("rb 1234 5678 5 gb", "upu_s10", "RB123456785GB"),
    ("EE000000005CN", "upu_s10", "EE000000005CN"),        # sum 0 -> check 11 -> 5
    ("CP000000080DE", "upu_s10", "CP000000080DE"),        # check 10 -> 0
    ("9400111201080805483016", "usps_impb", "9400111201080805483016"),
    ("9361 2898 7870 0317 6337 95", "usps_impb", "9361289878700317633795"),
    ("9505 5110 6960 5048 6006 24", "usps_impb", "9505511069605048600624"),
    ("92748931507708513018050063", "usps_impb", "92748931507708513018050063"),
    ("420 22153 9101026837331000039521", "usps_impb", "9101026837331000039521"),
    ("4201028200009261290113185417468510", "usps_impb", "9261290113185417468510"),
    ("]C142010001\x1d9261292700768711948021", "usps_impb", "9261292700768711948021"),
    ("]C1420100011234\x1d9261292700768711948021", "usps_impb", "9261292700768711948021"),
    ("(420)10001(92)61292700768711948021", "usps_impb", "9261292700768711948021"),
    ("]C142010001\\x1d9261292700768711948021", "usps_impb", "9261292700768711948021"),
    ("1Z5R89390357567127", "ups", "1Z5R89390357567127"),
    ("1Z879E930346834440", "ups", "1Z879E930346834440"),
    ("1Z 410E 7W03 9275 1591", "ups", "1Z410E7W0392751591"),
    ("1Z8V92A70367203024", "ups", "1Z8V92A70367203024"),
    ("986578788855", "fedex", "986578788855"),
    ("477179081230", "fedex", "477179081230"),
    ("799531274483", "fedex", "799531274483"),
    ("0414 4176 0228 964", "fedex", "041441760228964"),
    ("5682 8361 0012 734", "fedex", "568283610012734"),
    ("9611020987654312345672", "fedex", "987654312345672"),
    ("1001921334250001000300779017972697", "fedex", "779017972697"),
    ("9622001560001234567100794808390594", "fedex", "794808390594"),
    ("3318810025", "dhl_express", "3318810025"),
    ("8487135506", "dhl_express", "8487135506"),
    ("1099255990", "dhl_express", "1099255990"),
    ("ABC-1234567-6", "cbp_entry", "ABC-1234567-6"),
    ("abc12345676", "cbp_entry", "ABC-1234567-6"),
    ("999-9999999-0", "cbp_entry", "999-9999999-0"),
    (" 123-4567890-3 ", "cbp_entry", "123-4567890-3"),
    ("000123450000000027", "gs1_sscc", "000123450000000027"),
    ("]C100000123450000000027", "gs1_sscc", "000123450000000027"),
    ("(00)000123450000000027", "gs1_sscc", "000123450000000027"),
]

INVALID = [
    # (text, kind or None): right shape, wrong check / country, or no known shape
    ("RB123456786US", "upu_s10"),
    ("RB123456785XX", "upu_s10"),
    ("RB123456785ZZ", "upu_s10"),
    ("9200000000000000000000", "usps_impb"),
    ("4201028200009261290113185417468511", "usps_impb"),
    ("1Z1111111111111111", "ups"),
    ("1Z5R89390357567128", "ups"),
    ("996578788855", "fedex"),
    ("5682 8361 0012 732", "fedex"),
    ("9600000000000000000001", "fedex"),
    ("1001901781990001000300617767839438", "fedex"),
    ("9622001560001234567100794808390595", "fedex"),
    ("3318810010", "dhl_express"),
    ("3318810034", "dhl_express"),
    ("ABC-1234567-5", "cbp_entry"),
    ("000000000000000001", "gs1_sscc"),
    ("2Z5R89390357567127", None),
    ("99999999990", None),  # an all-numeric filer code counts only printed with its hyphens
    ("73891051146", None),
    ("RB12345678GB", None),
    ("hello world", None),
    ("", None),
    ("../../etc/passwd", None),
    ("parcel-edge/unit/#", None),
    ("a+b/c", None),
    ("]C1\x1d\x1d\x1d", None),
    ("(99)", None),
]


@pytest.mark.parametrize("text,kind,value", VALID)
def test_valid_ids_are_identified_with_canonical_value(text: str, kind: str, value: str) -> None:
    ident = identify(text)
    assert (ident.kind, ident.value, ident.valid) == (kind, value, True)
    assert re.fullmatch(r"[0-9A-Z-]+", ident.value)  # safe for a topic, a file name or SQL as it is


@pytest.mark.parametrize("text,kind", INVALID)
def test_invalid_ids_never_validate(text: str, kind: str | None) -> None:
    ident = identify(text)
    assert ident.kind == kind
    assert ident.valid is False


def _substitutions(text: str, positions: range, alphabet: str):
    for i in positions:
        for ch in alphabet:
            if ch != text[i]:
                yield i, ch, text[:i] + ch + text[i + 1:]


def _transpositions(text: str, positions: range):
    for i in positions:
        a, b = text[i], text[i + 1]
        if a != b:
            yield i, text[:i] + b + a + text[i + 2:]


def test_gs1_mod10_catches_every_single_digit_error_and_transpositions_not_differing_by_5() -> None:
    for number in ("9400111201080805483016", "000123450000000027", "92748931507708513018050063"):
        for _, _, bad in _substitutions(number, range(len(number)), "0123456789"):
            assert not identify(bad).valid, bad
        for i, bad in _transpositions(number, range(len(number) - 1)):
            if abs(int(number[i]) - int(number[i + 1])) != 5:
                assert not identify(bad).valid, bad


def _s10_residue(serial: str) -> int:
    return sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7))) % 11


def test_s10_single_digit_errors_fail_except_the_documented_5_collision() -> None:
    """Check 5 stands for residue 0 and residue 6 (11 -> 5 and 11 - 6): only those errors pass."""
    good = "RB123456785GB"
    for i, _, bad in _substitutions(good, range(2, 11), "0123456789"):
        serial = bad[2:10]
        collision = {_s10_residue(good[2:10]), _s10_residue(serial)} == {0, 6}
        assert identify(bad).valid is (collision and i < 10), bad
    for i, bad in _transpositions(good, range(2, 10)):
        assert not identify(bad).valid, bad


def test_cbp_luhn_catches_every_single_digit_error() -> None:
    good = "ABC12345676"
    for _, _, bad in _substitutions(good, range(3, 11), "0123456789"):
        assert not identify(bad).valid, bad
    for _, _, bad in _substitutions(good, range(0, 3), "ABCDEFGHI"):
        assert not identify(bad).valid, bad


def test_dhl_mod7_misses_only_differences_of_7() -> None:
    good = "3318810025"
    for i, ch, bad in _substitutions(good, range(9), "0123456789"):
        assert identify(bad).valid is (abs(int(ch) - int(good[i])) == 7), bad


def test_ups_misses_only_plus_minus_5_on_doubled_positions() -> None:
    good = "1Z5R89390357567127"
    for i, ch, bad in _substitutions(good, range(2, 17), "0123456789"):
        doubled = (i - 2) % 2 == 1
        same = (2 * int(ch)) % 10 == (2 * ups_char_value(good[i])) % 10
        assert identify(bad).valid is (doubled and same), bad


def test_fedex_express_catches_single_errors_unless_residue_10_meets_0() -> None:
    good = "986578788855"
    for _, _, bad in _substitutions(good, range(11), "0123456789"):
        total = sum(int(d) * (1, 3, 7)[k % 3] for k, d in enumerate(reversed(bad[:11])))
        assert identify(bad).valid is (total % 11 % 10 == 5), bad


@pytest.mark.parametrize("fn,arg,expected", [
    (s10_check_digit, "12345678", "5"),
    (s10_check_digit, "00000000", "5"),
    (gs1_check_digit, "00012345000000002", "7"),
    (ups_check_digit, "1Z5R8939035756712", "7"),
    (ups_check_digit, "5R8939035756712", "7"),
    (fedex_check_digit, "01234567898", "3"),
    (dhl_check_digit, "331881002", "5"),
    (cbp_check_digit, "ABC1234567", "6"),
    (cbp_check_digit, "9999999999", "0"),
])
def test_check_digit_helpers_give_the_published_digit(fn, arg: str, expected: str) -> None:
    assert fn(arg) == expected


@pytest.mark.parametrize("fn,arg", [
    (s10_check_digit, "1234567"), (s10_check_digit, "1234567X"), (gs1_check_digit, ""),
    (ups_check_digit, "1Z123"), (dhl_check_digit, "12345678a"), (cbp_check_digit, "AB-1234567"),
    (fedex_check_digit, "12 3"),
])
def test_check_digit_helpers_refuse_bad_shapes(fn, arg: str) -> None:
    with pytest.raises(ValueError):
        fn(arg)


def test_generated_ids_round_trip_through_identify() -> None:
    for serial in ("00000000", "99999999", "31415926", "27182818"):
        assert identify(make_s10("cp", serial, "de")).valid
    body = "926129270076871194802"
    assert identify(body[:21] + gs1_check_digit(body[:21])).valid


def test_gs1_element_string_parsing() -> None:
    assert parse_element_string("42010001\x1d9261292700768711948021") == (
        ("420", "10001"), ("92", "61292700768711948021"))
    assert parse_element_string("0100012345678905\x1d10ABC") == (("01", "00012345678905"), ("10", "ABC"))
    assert parse_element_string("(00)000123450000000027(420)10001") == (
        ("00", "000123450000000027"), ("420", "10001"))
    assert parse_element_string("0012") is None
    assert parse_element_string("77xyz") is None


@pytest.mark.parametrize("text", [
    "\x00\x01\x1b[2J\x7f", "\u202eRB123456785GB", "x" * 10_000, "RB123456785GB\n", "\\x1d" * 100,
    "a/b/../+/#", "\ud800", "٣٣١٨٨١٠٠٢٥",
])
def test_hostile_text_never_raises_and_comes_back_printable(text: str) -> None:
    ident = identify(text)
    assert isinstance(ident, Identification)
    assert ident.text.isprintable() and len(ident.text) <= MAX_TEXT
    assert not (ident.valid and ident.kind is None)


def test_unicode_digits_do_not_pass_as_ascii_ids() -> None:
    assert identify("٣٣١٨٨١٠٠٢٥").valid is False


def test_sanitize_escapes_controls_and_caps_length() -> None:
    safe = sanitize("A\x1dB\x00\u202e\\")
    assert safe.text == "A\\x1dB\\x00\\u202e\\\\"
    big = sanitize("9" * 10_000)
    assert big.truncated and len(big.text) == MAX_TEXT and big.original_len == 10_000


def _sym(text: str, fmt: str = "Code128", frame: int = 0, decoder: str = "zxing") -> Symbol:
    return Symbol(format=fmt, text=text, decoder=decoder, frame_seq=frame)


def test_best_reference_follows_priority_entry_then_s10_then_carrier() -> None:
    syms = [_sym("1Z5R89390357567127"), _sym("RB123456785GB"), _sym("ABC-1234567-6", "QRCode")]
    ref = best_reference(syms)
    assert (ref.kind, ref.value, ref.valid) == ("cbp_entry", "ABC-1234567-6", True)
    assert best_reference(syms[:2]).kind == "upu_s10"
    assert best_reference(syms[:1]).kind == "ups"


def test_best_reference_ignores_invalid_ids_and_retail_symbols() -> None:
    assert best_reference([_sym("RB123456786US"), _sym("ABC-1234567-5")]) is None
    assert best_reference([_sym("986578788855", "EAN13"), _sym("3318810025", "Code39")]) is None
    assert best_reference([]) is None


def test_best_reference_votes_across_frames_and_decoders() -> None:
    a, b = "RB123456785GB", "CP000000080DE"
    syms = [_sym(a, frame=1), _sym(a, frame=2), _sym(a, frame=2, decoder="zbar"), _sym(b, frame=3),
            _sym(a, frame=1)]  # the duplicate in frame 1 counts once
    ref = best_reference(syms)
    assert ref.value == a and ref.votes == 3 and ref.confidence == pytest.approx(0.75)


def test_two_symbologies_carrying_the_id_vote_twice_and_disagreement_lowers_confidence() -> None:
    a, b = "RB123456785GB", "CP000000080DE"
    agree = best_reference([_sym(a), _sym(a, "DataMatrix")])
    assert agree.votes == 2 and agree.confidence == 1.0
    split = best_reference([_sym(a), _sym(b, "DataMatrix")])
    assert split.confidence == pytest.approx(0.5) and split.value == min(a, b)


def test_best_reference_accepts_identifications() -> None:
    ref = best_reference([identify("3318810025"), identify("3318810025")])
    assert ref.kind == "dhl_express" and ref.votes == 2 and ref.confidence == 1.0


def _maxicode(tracking: str, shipper: str = "06X610", service: str = "001") -> str:
    return (f"[)>\x1e01\x1d96152382802\x1d840\x1d{service}\x1d{tracking}\x1dUPSN\x1d{shipper}\x1d159\x1d"
            "1234567\x1d1/1\x1d10\x1dY\x1d634 ALPHA DR\x1dPITTSBURGH\x1dPA\x1e\x04")


def test_maxicode_message_gives_the_whole_ups_number_in_either_spelling() -> None:
    from edge.identify import ups_check_digit

    body = "06X610" + "01" + "0000495"
    whole = "1Z" + body + ups_check_digit(body)
    short = "1Z" + whole[10:]
    for msg in (_maxicode(short), _maxicode(whole)):
        pictures = msg.translate(str.maketrans({"\x1d": "\u241d", "\x1e": "\u241e", "\x04": "\u2404"}))
        for text in (msg, pictures):
            ident = identify(text)
            assert (ident.kind, ident.value, ident.valid) == ("ups", whole, True)


def test_maxicode_with_a_wrong_check_or_no_tracking_never_validates() -> None:
    body = "06X610" + "01" + "0000495"
    from edge.identify import ups_check_digit

    wrong = str((int(ups_check_digit(body)) + 1) % 10)
    assert identify(_maxicode("1Z0000495" + wrong)).valid is False
    assert identify(_maxicode("1Z123")).kind is None
    assert identify("[)>\x1e01\x1d96" + "\x1d" * 50_000).kind is None
