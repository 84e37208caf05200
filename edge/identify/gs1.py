"""GS1 element strings: the application identifiers (AIs) inside GS1-128 and GS1 DataMatrix.

A decoder hands back the data with a leading symbology identifier (``]C1``
for GS1-128, ``]d2`` for GS1 DataMatrix, ``]Q3`` for GS1 QR) and FNC1 as the
group separator (GS, 0x1d) after every variable-length field that is not the
last.  People type the same thing with parentheses: ``(420)10001(92)...``.
"""
from __future__ import annotations

import re

from edge.identify.checks import is_valid_gs1
from edge.identify.sanitize import GS, unescape_gs

GS1_SYMBOLOGY_IDS = ("]C1", "]e0", "]d2", "]Q3", "]J1")
_SYMBOLOGY_ID = re.compile(r"^\][A-Za-z][0-9]", re.ASCII)
_PARENS = re.compile(r"\((\d{2,4})\)", re.ASCII)
IMPB_PIC = re.compile(r"^9[1-5](\d{20}|\d{24})$", re.ASCII)

# Fixed data lengths of the AIs a parcel label carries (GS1 General Specifications).
_FIXED = {"00": 18, "01": 14, "02": 14, "03": 14, "04": 16, "11": 6, "12": 6, "13": 6,
          "15": 6, "16": 6, "17": 6, "20": 2, "402": 17, "410": 13, "411": 13,
          "412": 13, "413": 13, "414": 13, "415": 13, "416": 13, "417": 13, "426": 3}
# Maximum lengths of the variable-length AIs, ended by GS or by the end of the data.
_VARIABLE = {"10": 20, "21": 20, "22": 20, "240": 30, "241": 30, "250": 30, "251": 30,
             "400": 30, "401": 30, "403": 30, "420": 20, "421": 12, "422": 3, "423": 15,
             "424": 3, "425": 15, "427": 3, "90": 30, "91": 90, "92": 90, "93": 90,
             "94": 90, "95": 90, "96": 90, "97": 90, "98": 90, "99": 90}
_MEASURE = re.compile(r"^3[1-6]\d\d$", re.ASCII)  # 4-digit trade measures, 6 digits each


def strip_symbology_id(text: str) -> tuple[str, str]:
    """Split ``]C1...`` into (``]C1``, data); text without one gives ("", text)."""
    if _SYMBOLOGY_ID.match(text):
        return text[:3], text[3:]
    return "", text


def _match_ai(data: str, pos: int) -> tuple[str, int | None, int] | None:
    """The AI starting at ``pos``: (ai, fixed length or None, max length)."""
    four = data[pos:pos + 4]
    if _MEASURE.match(four):
        return four, 6, 6
    for size in (2, 3):
        ai = data[pos:pos + size]
        if ai in _FIXED:
            return ai, _FIXED[ai], _FIXED[ai]
        if ai in _VARIABLE:
            return ai, None, _VARIABLE[ai]
    return None


def _split_routing(rest: str) -> int:
    """Where a 420 ZIP code ends when no GS follows it: before a valid IMpb PIC, else after 5 digits."""
    for size in (5, 9):
        if IMPB_PIC.match(rest[size:]) and is_valid_gs1(rest[size:]):
            return size
    return 5 if len(rest) > 5 else len(rest)


def parse_element_string(data: str) -> tuple[tuple[str, str], ...] | None:
    """(AI, value) pairs of a GS1 element string, or None where it is not one."""
    data = unescape_gs(data)
    if data.startswith("("):
        data = _PARENS.sub(lambda m: GS + m.group(1), data)
    data = data.lstrip(GS)
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(data):
        hit = _match_ai(data, pos)
        if hit is None:
            return None
        ai, fixed, longest = hit
        start = pos + len(ai)
        if fixed is not None:
            end = start + fixed
        else:
            gs_at = data.find(GS, start)
            end = gs_at if gs_at >= 0 else len(data)
            if ai == "420" and gs_at < 0:
                end = start + _split_routing(data[start:])
        value = data[start:end]
        if not value or len(value) > longest or (fixed is not None and len(value) != fixed):
            return None
        out.append((ai, value))
        pos = end + 1 if end < len(data) and data[end] == GS else end
    return tuple(out) or None


def looks_like_gs1(text: str) -> bool:
    """Whether the text announces itself as an element string (symbology id, GS or parentheses)."""
    sym, data = strip_symbology_id(text)
    return sym in GS1_SYMBOLOGY_IDS or GS in data or data.startswith("(")
