"""Search by reference number (any kind, a prefix), unit, time, brand and outcome."""
from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from edge.hub.store.base import OUTCOMES, SearchQuery
from edge.hub.web import auth
from edge.hub.web.render import render

router = APIRouter()


def _utc(value: str, name: str, errors: list[str]) -> str:
    """ISO 8601 (a date, or a date and time; no zone means UTC) as the store's UTC text."""
    if not value:
        return ""
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        errors.append(f"{name}: not a date/time like 2026-11-28 or 2026-11-28T09:30")
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _clean(value: str, limit: int = 64) -> str:
    return value.strip()[:limit]


@router.get("/search")
def search_page(request: Request, reference: str = "", unit: str = "", since: str = "",
                until: str = "", brand: str = "", outcome: str = "", page: int = 0,
                user: auth.User = Depends(auth.require("view"))) -> Response:
    errors: list[str] = []
    if outcome and outcome not in OUTCOMES:
        errors.append("outcome: unknown")
    limit = request.app.state.web.search_limit
    query = SearchQuery(reference=_clean(reference), unit=_clean(unit),
                        since_utc=_utc(since, "from", errors), until_utc=_utc(until, "until", errors),
                        brand=_clean(brand), outcome=outcome if outcome in OUTCOMES else "",
                        limit=limit, offset=max(0, min(page, 10_000)) * limit)
    asked = any((query.reference, query.unit, query.since_utc, query.until_utc, query.brand,
                 query.outcome))
    rows = request.app.state.hub.search(query) if asked and not errors else ()
    form = {"reference": reference, "unit": unit, "since": since, "until": until,
            "brand": brand, "outcome": outcome}
    return render(request, "search.html", {"rows": rows, "form": form, "errors": errors,
                                           "asked": asked, "outcomes": OUTCOMES, "page": page,
                                           "more": len(rows) == limit}, user=user)
