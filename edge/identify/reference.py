"""One reference number per parcel, voted across frames and decoders.

Priority follows what an officer needs to follow the shipment: the CBP entry
number first, then the UPU S10 item id, then carrier tracking numbers.  Only
validated ids vote; a misread that fails its check is reported among the
symbols and never becomes the reference.  EAN/UPC and Code 39 are product or
internal codes on a parcel label, never its reference.
"""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Iterable, Union

from edge.records import Reference, Symbol

if TYPE_CHECKING:
    from edge.identify import Identification

KIND_PRIORITY: tuple[str, ...] = (
    "cbp_entry", "upu_s10", "usps_impb", "ups", "fedex", "dhl_express", "gs1_sscc",
)
NON_REFERENCE_FORMATS = frozenset({
    "EAN13", "EAN8", "EAN-13", "EAN-8", "UPCA", "UPCE", "UPC-A", "UPC-E", "ISBN",
    "Code39", "Code 39", "CODE39", "Code39Ext", "Code39Std", "Code32", "EAN2", "EAN5",
})

Candidate = Union[Symbol, "Identification"]


def _vote_key(item: Candidate) -> tuple[str, str] | None:
    """(kind, value) of a validated id, None for anything that must not vote."""
    from edge.identify import identify

    if isinstance(item, Symbol):
        if item.format in NON_REFERENCE_FORMATS:
            return None
        item = identify(item.text)
    if not item.valid or item.kind not in KIND_PRIORITY:
        return None
    return item.kind, item.value


def _voter(item: Candidate, index: int) -> tuple[object, ...]:
    """One vote per frame, decoder and symbol: the same symbol decoded twice in a frame counts once.

    A Code 128 and a Data Matrix carrying the same id are two independent
    reads and vote twice; the same Code 128 found by two rungs does not.
    """
    if isinstance(item, Symbol):
        return (item.frame_seq, item.decoder, item.format, item.text)
    return (index,)


def best_reference(items: Iterable[Candidate]) -> Reference | None:
    """The highest-priority validated id, the most-voted within its kind; None when none validates.

    ``confidence`` is the chosen value's share of the votes of its kind: 1.0
    when every frame and decoder agrees, lower when the same kind read as
    different (valid) values, which happens with two labels on one parcel.
    """
    votes: Counter[tuple[str, str]] = Counter()
    seen: set[tuple[object, ...]] = set()
    for index, item in enumerate(items):
        key = _vote_key(item)
        voter = _voter(item, index)
        if key is None or voter in seen:
            continue
        seen.add(voter)
        votes[key] += 1
    if not votes:
        return None
    kind = min((k for k, _ in votes), key=KIND_PRIORITY.index)
    same_kind = {v: n for (k, v), n in votes.items() if k == kind}
    value = max(sorted(same_kind), key=lambda v: same_kind[v])
    total = sum(same_kind.values())
    return Reference(kind=kind, value=value, valid=True,
                     confidence=round(same_kind[value] / total, 3), votes=same_kind[value])
