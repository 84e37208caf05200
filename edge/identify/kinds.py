"""One matcher per identifier kind: shape first, then the check digit.

A matcher returns ``(kind, value, valid)`` when the text has the kind's shape
(even if its check fails, so an officer sees "UPU S10, invalid" rather than
nothing) and None when it does not look like that kind at all.  ``value`` is
the canonical form: no spaces or hyphens, upper case, routing stripped.
"""
from __future__ import annotations

import re
from typing import Callable, Optional

from edge.identify import checks
from edge.identify.countries import ISO3166_ALPHA2
from edge.identify.gs1 import IMPB_PIC

Match = Optional[tuple[str, str, bool]]

_S10 = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$", re.ASCII)
_UPS = re.compile(r"^1Z([0-9A-Z]{15})([0-9])$", re.ASCII)
_CBP = re.compile(r"^([0-9A-Z]{3})-?(\d{7})-?(\d)$", re.ASCII)
CBP_PRINTED = re.compile(r"^[0-9A-Z]{3}-[0-9]{7}-[0-9]$", re.ASCII)
_DIGITS = re.compile(r"^\d+$", re.ASCII)


def match_s10(c: str) -> Match:
    m = _S10.match(c)
    if not m:
        return None
    ok = checks.s10_check_digit(m.group(2)) == m.group(3) and m.group(4) in ISO3166_ALPHA2
    return "upu_s10", c, ok


def match_ups(c: str) -> Match:
    m = _UPS.match(c)
    if not m:
        return None
    return "ups", c, checks.ups_check_digit(m.group(1)) == m.group(2)


def match_cbp(c: str) -> Match:
    """XXX-NNNNNNN-C.  Hyphens are optional only when the filer code has a letter.

    A bare 11-digit number is as likely an 11-digit DHL waybill or an internal
    code as an entry with an all-numeric filer code, and the entry number
    outranks every other id, so that shape must come printed with its hyphens
    (see :data:`CBP_PRINTED`) to count.
    """
    m = _CBP.match(c)
    if not m or (m.group(1).isdigit() and not CBP_PRINTED.match(c)):
        return None
    base = m.group(1) + m.group(2)
    return "cbp_entry", f"{m.group(1)}-{m.group(2)}-{m.group(3)}", checks.cbp_check_digit(base) == m.group(3)


def match_impb(c: str) -> Match:
    """A bare PIC (9[1-5] + 20 or 24 digits) or one behind 420 + ZIP5/ZIP9 routing."""
    if not _DIGITS.match(c):
        return None
    candidates = [c] if IMPB_PIC.match(c) else []
    if c.startswith("420"):
        candidates += [c[3 + z:] for z in (5, 9) if IMPB_PIC.match(c[3 + z:])]
    if not candidates:
        return None
    valid = [p for p in candidates if checks.is_valid_gs1(p)]
    return "usps_impb", (valid or candidates)[0], bool(valid)


def _fedex_mod11(number: str) -> bool:
    return checks.fedex_check_digit(number[:-1]) == number[-1]


def match_fedex(c: str) -> Match:
    """FedEx's printed forms and their checks.

    12 digits (Express, mod 11), 15 (Ground, mod 10), 22 starting 96 (Ground,
    mod 10 on the last 15), 34 (Express/GSN barcode, mod 11 on the last 14).
    """
    if not _DIGITS.match(c):
        return None
    if len(c) == 12:
        return "fedex", c, _fedex_mod11(c)
    if len(c) == 15:
        return "fedex", c, checks.is_valid_gs1(c)
    if len(c) == 22 and c.startswith("96"):
        return "fedex", c[7:], checks.is_valid_gs1(c[7:])
    if len(c) == 34 and not c.startswith("420"):
        tail = c[20:]
        value = tail.lstrip("0").rjust(12, "0")
        return "fedex", value, _fedex_mod11(tail)
    return None


def match_dhl(c: str) -> Match:
    if len(c) != 10 or not _DIGITS.match(c):
        return None
    return "dhl_express", c, checks.dhl_check_digit(c[:9]) == c[9]


def match_sscc(c: str) -> Match:
    """18 digits, or 20 with the AI 00 in front."""
    if not _DIGITS.match(c):
        return None
    if len(c) == 20 and c.startswith("00"):
        c = c[2:]
    if len(c) != 18:
        return None
    return "gs1_sscc", c, checks.is_valid_gs1(c)


MATCHERS: tuple[Callable[[str], Match], ...] = (
    match_s10, match_ups, match_impb, match_cbp, match_fedex, match_dhl, match_sscc,
)
