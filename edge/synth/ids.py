"""Generators of valid reference numbers for synthetic labels.

Generation only: the check-digit arithmetic is :mod:`edge.identify`'s, so a
generated id is valid exactly when the reader says it is.
"""
from __future__ import annotations

import numpy as np

from edge.identify import gs1_check_digit, s10_check_digit, ups_check_digit

S10_SERVICES = ("RR", "RA", "RB", "RD", "CP", "CA", "EE", "EA", "LX", "LZ", "UA", "VV")
S10_COUNTRIES = ("GB", "DE", "FR", "CN", "US", "NL", "CH", "JP", "AU", "SE", "IT", "ES", "CA", "HK")
IMPB_SERVICE_CODES = ("001", "055", "361", "612", "748")
UPS_SERVICES = ("01", "02", "03", "12", "13", "59", "66")
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(d) for d in rng.integers(0, 10, n))


def make_s10(rng: np.random.Generator) -> str:
    """E.g. ``RR123456785GB``: service indicator, serial, check digit, ISO country."""
    serial = _digits(rng, 8)
    service = S10_SERVICES[int(rng.integers(len(S10_SERVICES)))]
    country = S10_COUNTRIES[int(rng.integers(len(S10_COUNTRIES)))]
    return f"{service}{serial}{s10_check_digit(serial)}{country}"


def make_impb(rng: np.random.Generator) -> tuple[str, str]:
    """(ZIP5, 22-digit package id starting ``92``) for a USPS IMpb GS1-128 barcode."""
    zip5 = _digits(rng, 5)
    stc = IMPB_SERVICE_CODES[int(rng.integers(len(IMPB_SERVICE_CODES)))]
    body = "92" + stc + _digits(rng, 9) + _digits(rng, 7)
    return zip5, body + gs1_check_digit(body)


def make_ups(rng: np.random.Generator) -> str:
    """E.g. ``1Z999AA10123456784``: shipper number, service, package number, check digit."""
    shipper = "".join(_ALNUM[int(i)] for i in rng.integers(0, len(_ALNUM), 6))
    service = UPS_SERVICES[int(rng.integers(len(UPS_SERVICES)))]
    body = shipper + service + _digits(rng, 7)
    return f"1Z{body}{ups_check_digit(body)}"
