"""The recogniser's per-column letter probabilities: kept for the lines of one reading, and
held to the scripts the catalogue is written in.

rapidocr's recogniser hands its probabilities (columns x alphabet) to its
decoder and keeps only the likeliest text and a mean score.  A misspelling's
second reading wants more: how likely the brand's own spelling is in those
very columns (:mod:`edge.ctc`).  So the decoder is wrapped, and while a
reading asks for it (and only then: a line's columns are about a megabyte)
each decoded line's probabilities are kept beside its text.

The same wrapper holds the recogniser to the catalogue's scripts.  PP-OCR's
recogniser reads Chinese as well as Latin print, and a blurred or taped
Latin mark it cannot read came out as a Chinese character ('川' for NORVEX
half under tape), which an officer was then shown as the print the parcel
bears.  Letters of scripts other than Latin are never printed unless
a catalogue name uses them (:meth:`Columns.allow`); digits, punctuation and
symbols (LUMERA's star read as '★') stay.  On the eight dev splits (2,560
held-out parcels) no verdict changed; 29 parcels' reasons lost a Chinese
character, four of them ('出' for a KALIMBA on a bubble envelope) read nothing.
On the eight reported splits no verdict changed either (25 reasons, 3 nothing).
"""
from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterator, Sequence
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
        self._characters = list(getattr(self._decode, "character", ()))
        self.alphabet = {c: i for i, c in enumerate(self._characters) if i > 0}  # 0: blank
        self._keep = kept_letters(self._characters, "")
        recogniser.postprocess_op = self

    def allow(self, letters: str) -> None:
        """Letters of other scripts than Latin that may be printed (a catalogue's names).  One
        assignment: a line being decoded keeps the set it started with."""
        self._keep = kept_letters(self._characters, letters)

    def __call__(self, preds: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        preds = preds * self._keep  # a new array (0.1 ms a line): the recogniser's stays as it is
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


def kept_letters(characters: Sequence[str], allowed: str) -> np.ndarray:
    """1 for each of the alphabet's entries that may be printed, 0 for letters (Unicode
    category L) outside the Latin script but for those in ``allowed``; entry 0 is the blank.
    A decoder that names no alphabet keeps every column (1, broadcast)."""
    if not characters:
        return np.ones(1, np.float32)
    extra = set(allowed)
    return np.array([0.0 if i > 0 and len(ch) == 1 and ch not in extra
                     and unicodedata.category(ch).startswith("L")
                     and "LATIN" not in unicodedata.name(ch, "") else 1.0
                     for i, ch in enumerate(characters)], np.float32)
