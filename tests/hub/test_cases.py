"""Legal clocks from a case's timeline (19 CFR 151.16 / 133.21), business days with US holidays."""
from __future__ import annotations

from datetime import date

import pytest

from edge.hub import cases
from edge.hub.store.base import CaseEvent


def timeline(*pairs: tuple[str, str]) -> tuple[CaseEvent, ...]:
    return tuple(CaseEvent(i, "RR1", kind, f"{day}T15:00:00.000Z", "alice", "", "")
                 for i, (kind, day) in enumerate(pairs, 1))


def clock(events, today, name):
    return {c.name: c for c in cases.clocks(events, today)}[name]


def test_decide_clock_starts_at_presentation_and_goes_overdue_after_five_business_days():
    events = timeline(("seen", "2026-11-20"), ("presented", "2026-11-20"))   # a Friday
    c = clock(events, date(2026, 11, 25), "decide")
    # Mon 23, Tue 24, Wed 25, (Thanksgiving 26), Fri 27, Mon 30: due Mon 2026-11-30.
    assert c.due == date(2026, 11, 30) and not c.overdue and c.days_left == 2
    late = clock(events, date(2026, 12, 1), "decide")
    assert late.overdue and late.days_left == -1
    decided = (CaseEvent(9, "RR1", "detained", "2026-11-24T10:00:00.000Z", "alice", "", ""),)
    done = clock(events + decided, date(2026, 12, 10), "decide")
    assert done.done and not done.overdue


def test_notice_response_and_exclusion_clocks_follow_the_timeline():
    events = timeline(("presented", "2026-12-01"), ("detained", "2026-12-03"),
                      ("notice_sent", "2026-12-09"))
    today = date(2026, 12, 22)
    notice = clock(events, today, "notice")
    assert notice.due == date(2026, 12, 10) and notice.done and not notice.overdue
    response = clock(events, today, "importer_response")
    assert response.start == date(2026, 12, 9) and response.due == date(2026, 12, 18)
    assert response.overdue and not response.done
    exclusion = clock(events, today, "exclusion")
    assert exclusion.due == date(2026, 12, 31) and exclusion.days_left == 9
    assert clock(timeline(("presented", "2026-12-01")), today, "exclusion").start is None


def test_clocks_not_started_show_no_due_date():
    c = clock(timeline(("seen", "2026-12-01")), date(2026, 12, 20), "decide")
    assert c.start is None and c.due is None and not c.overdue


@pytest.mark.parametrize("state,kind,ok", [("flagged", "presented", True), ("flagged", "seized", False),
                                           ("detained", "notice_sent", True), ("released", "detained", False),
                                           ("seized", "rights_holder_notified", True)])
def test_transitions(state, kind, ok):
    if ok:
        assert cases.transition(kind)(state, "")[0] in (kind, state)
    else:
        with pytest.raises(cases.CaseError):
            cases.transition(kind)(state, "")
