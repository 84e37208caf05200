"""Unit side of cmd/resend: acknowledged items in the asked range go out again, bounded."""
from __future__ import annotations

import pytest

from delivery_helpers import make_package
from edge.outbox import Outbox
from edge.outbox.config import OutboxConfig
from edge.outbox.resend import resend_command


def test_resend_requeues_only_acknowledged_items_in_range(tmp_path):
    box = Outbox(OutboxConfig(), tmp_path / "unit")
    for _ in range(6):
        box.commit(make_package(box.next_seq(), views={"parcel": 1000}))
    for item in box.pending(100):
        box.ack(item.n)
    assert box.pending(100) == []
    result = resend_command(box)({"from_seq": 2, "to_seq": 3})
    assert result["requeued"] == 4                       # record + image of seq 2 and 3
    assert sorted({i.seq for i in box.pending(100)}) == [2, 3]
    assert resend_command(box)({"from_seq": 2, "to_seq": 3})["requeued"] == 0   # already pending
    box.close()


@pytest.mark.parametrize("args", [{}, {"from_seq": -1}, {"from_seq": "1"}, {"from_seq": True},
                                  {"from_seq": 5, "to_seq": 4}, {"from_seq": 0, "to_seq": 10**6}])
def test_resend_refuses_bad_arguments(tmp_path, args):
    box = Outbox(OutboxConfig(), tmp_path / "unit")
    with pytest.raises(ValueError):
        resend_command(box)(args)
    box.close()
