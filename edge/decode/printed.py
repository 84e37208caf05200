"""The printed reference line read by OCR when no symbol reads: what a scan tunnel does before video coding.

An S10 label prints its id under the barcode in groups (``RB 1234 5678 5 GB``),
a UPS label its 1Z number.  OCR confuses letters and digits that look alike,
so each position is read as what the id's shape requires there (a 0 where
a letter belongs is an O; an O where a digit belongs is a 0), and a candidate is
accepted only when its check digit (and, for S10, its country code)
validates: a misread almost never does.  Accepted ids become symbols of
format ``Printed`` with decoder ``ocr``, so the record says how it was read.
"""
from __future__ import annotations

import re

from edge.identify import identify

TO_DIGIT = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8", "G": "6"})
TO_LETTER = str.maketrans({"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G"})
_S10_LIKE = re.compile(r"[A-Z0-9]{2}[A-Z0-9]{9}[A-Z0-9]{2}")
_UPS_LIKE = re.compile(r"1Z[A-Z0-9]{16}")
PRINTED_FORMAT = "Printed"


def _as_s10(c: str) -> str:
    return c[:2].translate(TO_LETTER) + c[2:11].translate(TO_DIGIT) + c[11:].translate(TO_LETTER)


def candidates(line: str) -> list[str]:
    """Every S10 or UPS id that one OCR line can spell, with look-alike characters put right, that validates."""
    compact = re.sub(r"[^A-Z0-9]", "", line.upper())
    found: list[str] = []
    for i in range(0, max(0, len(compact) - 12)):
        window = compact[i:i + 13]
        if _S10_LIKE.fullmatch(window):
            found.append(_as_s10(window))
    found += _UPS_LIKE.findall(compact)
    valid = []
    for text in dict.fromkeys(found):
        ident = identify(text)
        if ident.valid and ident.kind in ("upu_s10", "ups"):
            valid.append(ident.value)
    return valid
