"""The recogniser's per-column letter probabilities, kept for the lines of one reading.

rapidocr's recogniser hands its probabilities (columns x alphabet) to its
decoder and keeps only the likeliest text and a mean score.  A misspelling's
second reading wants more: how likely the brand's own spelling is in those
very columns (:mod:`edge.ctc`).  So the decoder is wrapped, and while a
reading asks for it (and only then: a line's columns are about a megabyte)
each decoded line's probabilities are kept beside its text.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from edge.ctc import respelt_odds

Kept = list[tuple[np.ndarray, str]]


class Columns:
    """Installed on a rapidocr ``TextRecognizer``; what it keeps is each thread's own (path
    workers read their parcels on one engine at once)."""

    def __init__(self, recogniser: Any) -> None:
        self._decode = recogniser.postprocess_op
        self._local = threading.local()
        alphabet = list(getattr(self._decode, "character", ()))
        self.alphabet = {c: i for i, c in enumerate(alphabet) if i > 0}  # 0 is the blank
        recogniser.postprocess_op = self

    def __call__(self, preds: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        out = self._decode(preds, *args, **kwargs)
        kept: Kept | None = getattr(self._local, "kept", None)
        if kept is not None:
            kept.extend((p, str(o[0])) for p, o in zip(preds, out))
        return out

    @contextmanager
    def kept(self, keep: bool) -> Iterator[Kept]:
        """The lines decoded inside the block, with their columns (none unless ``keep``)."""
        lines: Kept = []
        self._local.kept = lines if keep else None
        try:
            yield lines
        finally:
            self._local.kept = None

    def odds(self, kept: Kept, text: str, respell: tuple[str, str]) -> float | None:
        """The best odds of the respelling among the readings that decoded as ``text`` (a line
        read both ways up has two)."""
        found = [respelt_odds(p, self.alphabet, text, *respell) for p, t in kept if t == text]
        known = [o for o in found if o is not None]
        return max(known) if known else None
