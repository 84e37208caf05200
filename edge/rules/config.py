"""Rules section (owned by the rules stage, #4)."""
from __future__ import annotations

from edge.configbase import Section


class RulesConfig(Section):
    watchlist: tuple[str, ...] = ()
