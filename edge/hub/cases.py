"""Cases: one per reference number, a timeline of events and the legal clocks.

19 CFR 151.16 and 133.21 set the clocks of a detention: decide to release or
detain within 5 business days of presentation for examination; send the notice
of detention within 5 business days of that decision; the importer has 7
business days from the notice to respond; a detention not resolved within 30
days is deemed an exclusion.  Business days skip weekends and US federal
holidays, taken from the maintained ``holidays`` package, not a hand list.
"""
from __future__ import annotations

import functools
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, Mapping

import holidays

from edge.hub.store.base import AedInfo, Case, CaseEvent, Clock, ParcelDetail, Store
from edge.rules.aed import normalize_id

# Event kinds; ingest adds seen/flagged, officers add the rest.
AUTOMATIC = ("seen", "flagged")
ACTIONS = ("presented", "detained", "notice_sent", "importer_response", "seized", "released",
           "referred", "rights_holder_notified", "note")
EVENT_KINDS = AUTOMATIC + ACTIONS
FINAL_STATES = ("released", "seized", "referred")
DECISIONS = ("detained", "released")           # the decision the 151.16 clock waits for
DISPOSITIONS = ("detained", "seized", "released", "referred")   # published on MQTT
# Events that leave the state as it is (they are facts beside the main line).
NO_STATE = ("note", "rights_holder_notified", "seen")

# What may come next, by state: the officer's buttons on the case page.
NEXT: Mapping[str, tuple[str, ...]] = {
    "seen": ("presented", "released", "referred", "note"),
    "flagged": ("presented", "released", "referred", "note"),
    "presented": ("detained", "released", "referred", "note"),
    "detained": ("notice_sent", "seized", "released", "referred", "note"),
    "notice_sent": ("importer_response", "seized", "released", "referred", "note"),
    "importer_response": ("seized", "released", "referred", "note"),
    "seized": ("rights_holder_notified", "note"),
    "released": ("rights_holder_notified", "note"),
    "referred": ("note",),
}


class CaseError(ValueError):
    """An event that cannot be added to this case now; the message is safe to show."""


def transition(kind: str):  # type: ignore[no-untyped-def]
    """The state change ``kind`` makes, checked against NEXT, run inside the store's transaction."""
    def apply(state: str, decision: str) -> tuple[str, str]:
        if kind not in NEXT.get(state, ()):
            allowed = ", ".join(NEXT.get(state, ())) or "nothing"
            raise CaseError(f"a case that is {state.replace('_', ' ')} cannot take "
                            f"'{kind.replace('_', ' ')}' (allowed: {allowed})")
        new_state = state if kind in NO_STATE else kind
        new_decision = kind if kind in DISPOSITIONS else decision
        return new_state, new_decision
    return apply


def add_event(store: Store, reference: str, kind: str, actor: str, note: str, parcel_id: str,
              now_utc: str) -> CaseEvent:
    if kind not in ACTIONS:
        raise CaseError(f"unknown action (one of {', '.join(ACTIONS)})")
    ref = normalize_id(reference)
    if store.case_head(ref) is None:
        raise CaseError("no case with that reference number")
    return store.add_case_event(ref, kind, actor, note, parcel_id, now_utc, transition(kind))


def load(store: Store, reference: str, today: date) -> Case | None:
    ref = normalize_id(reference)
    head = store.case_head(ref) if ref else None
    if head is None:
        return None
    kind, state, opened = head
    events = store.case_events(ref)
    return Case(reference=ref, reference_kind=kind, state=state, opened_utc=opened,
                parcels=store.case_parcels(ref), events=events,
                clocks=clocks(events, today), actions=NEXT.get(state, ()))


def disposition(store: Store, event: CaseEvent) -> dict[str, Any]:
    """The message other systems get when an officer decides (topic ``<hub>/dispositions``)."""
    parcels = store.case_parcels(event.reference)
    return {"schema": "parcel-edge/disposition/1", "reference": event.reference,
            "disposition": event.kind, "time_utc": event.time_utc, "event_id": event.id,
            "parcels": [{"id": p.parcel_id, "unit": p.unit, "seq": p.seq, "outcome": p.outcome,
                         "brand": p.brand} for p in parcels[:100]]}


# --- legal clocks --------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _us_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("US", years=year).keys())


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _us_holidays(day.year)


def add_business_days(start: date, days: int) -> date:
    """The ``days``-th business day after ``start`` (start itself does not count)."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            days -= 1
    return day


def business_days_between(start: date, end: date) -> int:
    """Business days after ``start`` up to and including ``end`` (negative if end < start)."""
    if end < start:
        return -business_days_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if is_business_day(start + timedelta(n)))


def _day(time_utc: str) -> date:
    return datetime.fromisoformat(time_utc.replace("Z", "+00:00")).date()


def _first(events: tuple[CaseEvent, ...], *kinds: str) -> date | None:
    return next((_day(e.time_utc) for e in events if e.kind in kinds), None)


def clocks(events: tuple[CaseEvent, ...], today: date) -> tuple[Clock, ...]:
    """The four clocks from the timeline; a clock is done once the event it waits for exists."""
    presented = _first(events, "presented")
    decided = _first(events, *DECISIONS)
    detained = _first(events, "detained")
    notice = _first(events, "notice_sent")
    response = _first(events, "importer_response")
    closed = _first(events, "seized", "released", "referred")
    return (
        _business("decide", "Decide: release or detain", "19 CFR 151.16; 133.21", presented, 5,
                  decided, today),
        _business("notice", "Notice of detention to the importer", "19 CFR 151.16; 133.21",
                  detained, 5, notice, today),
        _business("importer_response", "Importer's response to the notice",
                  "19 CFR 133.21", notice, 7, response or closed, today),
        _calendar("exclusion", "Detention deemed exclusion", "19 U.S.C. 1499(c); 19 CFR 151.16",
                  presented if detained else None, 30, closed, today),
    )


def _business(name: str, label: str, rule: str, start: date | None, days: int,
              done: date | None, today: date) -> Clock:
    if start is None:
        return Clock(name, label, rule, None, None, False, False, None)
    due = add_business_days(start, days)
    left = business_days_between(done or today, due)
    return Clock(name, label, rule, start, due, done is not None,
                 (done or today) > due, left)


def _calendar(name: str, label: str, rule: str, start: date | None, days: int,
              done: date | None, today: date) -> Clock:
    if start is None:
        return Clock(name, label, rule, None, None, False, False, None)
    due = start + timedelta(days=days)
    left = (due - (done or today)).days
    return Clock(name, label, rule, start, due, done is not None, (done or today) > due, left)


def with_aed(detail: ParcelDetail, aed: Any) -> ParcelDetail:
    """The parcel's AED declaration (from the hub's copy of the table) and its mismatches."""
    decl = aed.lookup(detail.row.reference)
    mismatches = tuple(r for r in detail.row.reasons if r.startswith("Declared "))  # rules' AED words
    if decl is None and not mismatches:
        return detail
    declared = {} if decl is None else {
        "contents": decl.contents, "value": "" if decl.value is None else f"{decl.value:.2f}",
        "origin": decl.origin}
    return replace(detail, aed=AedInfo(declared, mismatches))
