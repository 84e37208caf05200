"""``cmd/resend``: a receiver that found a gap in our sequence numbers asks for them again.

The outbox keeps acknowledged items until its disk budget needs the room
(``outbox.retain_acked``), so a hub that lost messages (a broker that dropped
its queue, a restore from backup) can heal the gap.  Arguments are untrusted:
integers in range, a bounded span, and at most ``MAX_ITEMS`` items per request.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge.outbox.store import Outbox

MAX_SPAN = 100_000
MAX_ITEMS = 20_000


def _seq(args: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = args.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**62:
        raise ValueError(f"{key} must be a non-negative integer")
    return value


def resend_command(outbox: "Outbox") -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
    """The handler for ``cmd/resend`` with ``{"from_seq": N, "to_seq": M}`` (to_seq optional)."""
    def resend(args: Mapping[str, Any]) -> Mapping[str, Any]:
        first = _seq(args, "from_seq")
        last = _seq(args, "to_seq", first + MAX_SPAN - 1)
        if last < first or last - first >= MAX_SPAN:
            raise ValueError(f"to_seq must be from_seq..from_seq+{MAX_SPAN - 1}")
        count = outbox.requeue(first, last, MAX_ITEMS)
        return {"from_seq": first, "to_seq": last, "requeued": count}
    return resend
