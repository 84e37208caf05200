"""The recogniser's per-column letter probabilities, kept for the lines of one reading.

rapidocr's recogniser hands its probabilities (columns x alphabet) to its
decoder and keeps only the likeliest text and a mean score.  A misspelling's
second reading wants more: how likely the brand's own spelling is in those
very columns (:mod:`edge.ctc`); a name read exactly wants how likely the
misspellings are that the recogniser would print as the name.  So the decoder
is wrapped, and while a reading asks for it (and only then: a line's columns
are about a megabyte) each decoded line's probabilities are kept beside its
text.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from edge.ctc import respelt_odds

Kept = list[tuple[np.ndarray, str]]
# (a word as read, other spellings of it): how likely the recogniser finds each in its place
Respell = tuple[str, tuple[str, ...]]


class Columns:
    """Installed on a rapidocr ``TextRecognizer``; callers hold the engine's lock."""

    def __init__(self, recogniser: Any) -> None:
        self._decode = recogniser.postprocess_op
        self._kept: Kept | None = None
        alphabet = list(getattr(self._decode, "character", ()))
        self.alphabet = {c: i for i, c in enumerate(alphabet) if i > 0}  # 0 is the blank
        recogniser.postprocess_op = self

    def __call__(self, preds: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        out = self._decode(preds, *args, **kwargs)
        if self._kept is not None:
            self._kept.extend((p, str(o[0])) for p, o in zip(preds, out))
        return out

    @contextmanager
    def kept(self, keep: bool) -> Iterator[Kept]:
        """The lines decoded inside the block, with their columns (none unless ``keep``)."""
        lines: Kept = []
        self._kept = lines if keep else None
        try:
            yield lines
        finally:
            self._kept = None

    def likeliest(self, kept: Kept, text: str, respell: Respell) -> tuple[str, float] | None:
        """The likeliest respelling, and its odds, among the readings that decoded as ``text``
        (a line read both ways up has two)."""
        read, spellings = respell
        found = [zip(spellings, respelt_odds(p, self.alphabet, text, read, spellings))
                 for p, t in kept if t == text]
        known = [(meant, odds) for pairs in found for meant, odds in pairs if odds is not None]
        return max(known, key=lambda k: k[1]) if known else None
