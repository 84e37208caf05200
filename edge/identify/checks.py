"""Check-digit arithmetic of every identifier the unit reads, usable to validate and to generate.

Each function takes the digits *before* the check character and returns the
check character, so the synthetic generator builds ids with the very
arithmetic the reader validates them with.  Inputs of the wrong shape raise
:class:`ValueError`; validators in :mod:`edge.identify` catch that.
"""
from __future__ import annotations

import re

_DIGITS = re.compile(r"^[0-9]+$")
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
FEDEX_WEIGHTS = (1, 3, 7)


def _need_digits(digits: str, length: int | None = None) -> None:
    if not _DIGITS.match(digits or "") or (length is not None and len(digits) != length):
        want = f"{length} digits" if length else "digits only"
        raise ValueError(f"expected {want}, got {len(digits or '')} characters")


def s10_check_digit(serial8: str) -> str:
    """UPU S10: weights 8 6 4 2 3 5 9 7, check = 11 - sum mod 11, where 10 -> 0 and 11 -> 5."""
    _need_digits(serial8, 8)
    check = 11 - sum(int(d) * w for d, w in zip(serial8, S10_WEIGHTS)) % 11
    return str({10: 0, 11: 5}.get(check, check))


def gs1_check_digit(digits: str) -> str:
    """GS1 mod 10: from the right, weights 3, 1, 3, ... so the check makes the sum a multiple of 10."""
    _need_digits(digits)
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str(-total % 10)


def ups_char_value(ch: str) -> int:
    """UPS maps letters onto digits: A=2, B=3 ... I=0, J=1 ... (ASCII code minus 63, mod 10)."""
    if ch.isdigit():
        return int(ch)
    if "A" <= ch <= "Z":
        return (ord(ch) - 63) % 10
    raise ValueError(f"not a UPS character: {ch!r}")


def ups_check_digit(body: str) -> str:
    """UPS 1Z: over the 15 characters after ``1Z``, odd positions x1 plus even positions x2, mod 10."""
    if body.startswith("1Z") and len(body) == 17:
        body = body[2:]
    if len(body) != 15 or not re.match(r"^[0-9A-Z]{15}$", body):
        raise ValueError("expected 15 characters 0-9/A-Z after 1Z")
    total = sum(ups_char_value(c) * (2 if i % 2 else 1) for i, c in enumerate(body))
    return str(-total % 10)


def fedex_check_digit(digits: str) -> str:
    """FedEx Express: from the right, weights 1, 3, 7 repeating; sum mod 11, then 10 -> 0."""
    _need_digits(digits)
    total = sum(int(d) * FEDEX_WEIGHTS[i % 3] for i, d in enumerate(reversed(digits)))
    return str(total % 11 % 10)


def dhl_check_digit(digits9: str) -> str:
    """DHL Express waybill: the 9-digit serial modulo 7."""
    _need_digits(digits9, 9)
    return str(int(digits9) % 7)


_CBP_LETTERS = {c: v for row in ("ABCDEFGHI", "JKLMNOPQR", " STUVWXYZ")
                for v, c in enumerate(row, start=1) if c != " "}


def cbp_check_digit(base10: str) -> str:
    """CBP entry number: filer code letters to digits (A/J=1, B/K/S=2 ... I/R/Z=9), then Luhn mod 10.

    Even positions (2nd, 4th ... 10th) are doubled and their digit sums added
    to the odd positions; the check completes the total to a multiple of 10.
    """
    if len(base10) != 10 or not re.match(r"^[0-9A-Z]{3}[0-9]{7}$", base10):
        raise ValueError("expected 3 filer characters and 7 digits")
    values = [int(c) if c.isdigit() else _CBP_LETTERS[c] for c in base10]
    total = 0
    for pos, v in enumerate(values, start=1):
        if pos % 2 == 0:
            v *= 2
            v = v - 9 if v > 9 else v
        total += v
    return str(-total % 10)


def is_valid_gs1(number: str) -> bool:
    """A GS1 number (SSCC, GTIN, IMpb PIC) whose last digit checks the others."""
    return len(number) >= 2 and bool(_DIGITS.match(number)) and gs1_check_digit(number[:-1]) == number[-1]
