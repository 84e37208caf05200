"""Package section (owned by the packaging stage, #5)."""
from __future__ import annotations

from edge.configbase import Section


class PackageConfig(Section):
    redact: bool = True
