"""The UPS tracking number inside a MaxiCode structured carrier message (ISO/IEC 15434, format 01, "96").

A UPS label's MaxiCode carries ``[)>`` RS ``01`` GS ``96`` then, GS-separated:
postal code, country code, class of service (the primary message), tracking
number, SCAC (``UPSN``), UPS shipper number, Julian day of pickup, shipment
id, package n/x, weight, address validation, street, city, state, then RS EOT.
The tracking field holds either the whole 18-character ``1Z`` number or
``1Z`` plus its last eight characters (package id and check digit); the whole
number is then ``1Z`` + shipper number + the service code (the last two digits
of the class of service) + those eight.  Either way the result is accepted
only when the UPS check digit validates it, so a misparse cannot become a
reference.

zxing-cpp's default text mode (HRI) prints RS, GS and EOT as the Unicode
control pictures U+241E, U+241D and U+2404; both spellings are understood.
"""
from __future__ import annotations

import re

from edge.identify.checks import ups_check_digit

RS, GS, EOT = "\x1e", "\x1d", "\x04"
_PICTURES = str.maketrans({"\u241e": RS, "\u241d": GS, "\u2404": EOT})
_HEADER = re.compile(r"^\[\)>" + RS + "01" + GS + r"\d\d", re.ASCII)
_UPS = re.compile(r"^1Z[0-9A-Z]{16}$")
_SHORT = re.compile(r"^1Z[0-9A-Z]{8}$")
MAX_MESSAGE = 2000


def looks_like_maxicode_message(text: str) -> bool:
    """True for an ISO 15434 format-01 transportation message (the MaxiCode/UPS layout)."""
    return bool(_HEADER.match(text.translate(_PICTURES)[:12]))


def fields(text: str) -> list[str]:
    """The GS-separated fields after ``[)>`` RS ``01`` GS ``vv`` (the ``vv`` year dropped), or []."""
    text = text.translate(_PICTURES)[:MAX_MESSAGE]
    if not _HEADER.match(text):
        return []
    body = text[len("[)>" + RS + "01" + GS) + 2:]
    body = body.split(RS, 1)[0]
    return body.split(GS)


def _valid_ups(number: str) -> bool:
    return bool(_UPS.match(number)) and ups_check_digit(number[2:17]) == number[17]


def ups_tracking(text: str) -> tuple[str, bool] | None:
    """(the UPS tracking number, whether it validates) from a MaxiCode message; None if it carries none.

    A message whose tracking field is ``1Z`` plus eight characters is completed
    from the shipper number and the class of service; None when those fields
    are missing.
    """
    f = fields(text)
    if len(f) < 4:
        return None
    tracking = f[3].strip().upper()
    if _UPS.match(tracking):
        return tracking, _valid_ups(tracking)
    if _SHORT.match(tracking) and len(f) >= 6:
        shipper, service = f[5].strip().upper(), f[2].strip()
        if re.match(r"^[0-9A-Z]{6}$", shipper) and re.match(r"^\d{2,3}$", service, re.ASCII):
            whole = "1Z" + shipper + service[-2:] + tracking[2:]
            return whole, _valid_ups(whole)
    return None
