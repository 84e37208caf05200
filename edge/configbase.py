"""The base every config section derives from: unknown keys are errors, values frozen.

Kept apart from :mod:`edge.config` so that stage and backend modules can define
their own section without importing the root (which imports all of them).
"""
from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


class Section(BaseModel):
    """A config section: a typo in a key is an error at load, never a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def safe_id(value: str) -> str:
    """Identifiers that end up in topics and file names: letters, digits, ``_`` and ``-``."""
    if not SAFE_ID.match(value):
        raise ValueError("must be 1-32 letters, digits, '_' or '-', starting with a letter or digit")
    return value
