"""Reference numbers: what a decoded text is (UPU S10, IMpb, UPS, FedEx, DHL, CBP entry, SSCC) and whether it checks.

Pure functions, no I/O: the decode stage, the CLI and the synthetic generator
all use the same arithmetic, so a generated id is valid exactly when the
reader says it is.  The text is untrusted; :func:`identify` never raises on it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from edge.identify.checks import (cbp_check_digit, dhl_check_digit, fedex_check_digit,
                                  gs1_check_digit, is_valid_gs1, s10_check_digit, ups_check_digit)
from edge.identify.gs1 import looks_like_gs1, parse_element_string, strip_symbology_id
from edge.identify.maxicode import looks_like_maxicode_message, ups_tracking
from edge.identify.kinds import CBP_PRINTED, MATCHERS, Match, match_cbp, match_fedex, match_impb, match_sscc
from edge.identify.reference import KIND_PRIORITY, NON_REFERENCE_FORMATS, best_reference
from edge.identify.sanitize import GS, MAX_TEXT, safe_text, unescape_gs

__all__ = [
    "Identification", "identify", "best_reference", "KIND_PRIORITY", "NON_REFERENCE_FORMATS",
    "s10_check_digit", "gs1_check_digit", "ups_check_digit", "fedex_check_digit",
    "dhl_check_digit", "cbp_check_digit", "is_valid_gs1", "make_s10", "parse_element_string",
]

MAX_ID_TEXT = 64
_SEPARATORS = re.compile(r"[\s\-.]")


@dataclass(frozen=True)
class Identification:
    """``text`` is the safe form of the input; ``kind`` None when it is no known identifier."""

    text: str
    kind: str | None
    value: str
    valid: bool


def make_s10(service: str, serial8: str, country: str) -> str:
    """A complete S10 id, e.g. ``make_s10("RB", "12345678", "GB") == "RB123456785GB"``."""
    return f"{service.upper()}{serial8}{s10_check_digit(serial8)}{country.upper()}"


def _from_elements(elements: tuple[tuple[str, str], ...]) -> Match:
    ais = dict(elements)
    if "00" in ais:
        return match_sscc(ais["00"])
    for ai, value in elements:
        if ai in ("91", "92", "93", "94", "95"):
            return match_impb(ai + value)
        if ai == "96":
            return match_fedex(ai + value)
    return None


def _match_gs1(text: str) -> Match:
    _, data = strip_symbology_id(text)
    elements = parse_element_string(data)
    if elements is not None:
        return _from_elements(elements)
    return None


def _match_plain(text: str) -> Match:
    _, data = strip_symbology_id(text)
    printed = data.strip().upper()
    if CBP_PRINTED.match(printed):
        return match_cbp(printed)
    compact = _SEPARATORS.sub("", data.replace(GS, "")).upper()
    for matcher in MATCHERS:
        hit = matcher(compact)
        if hit is not None:
            return hit
    return None


def _from_maxicode(raw: str, safe: str) -> Identification:
    """A MaxiCode/ISO 15434 carrier message: the UPS tracking number inside it, if any."""
    hit = ups_tracking(raw)
    if hit is None:
        return Identification(safe, None, "", False)
    return Identification(safe, "ups", hit[0], hit[1])


def identify(text: str) -> Identification:
    """Classify and validate one decoded or typed text; never raises on bad input."""
    raw = unescape_gs(text if isinstance(text, str) else str(text))
    safe = safe_text(raw, MAX_TEXT)
    if looks_like_maxicode_message(raw):
        return _from_maxicode(raw, safe)
    if len(raw) > MAX_ID_TEXT:
        return Identification(safe, None, "", False)
    try:
        hit = (_match_gs1(raw) if looks_like_gs1(raw) else None) or _match_plain(raw)
    except ValueError:
        hit = None
    if hit is None:
        return Identification(safe, None, "", False)
    kind, value, valid = hit
    return Identification(safe, kind, safe_text(value, MAX_ID_TEXT), valid)
