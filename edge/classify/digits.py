"""A digit printed in place of a look-alike letter of a name read letter for letter.

The recogniser reads whole words, and a counterfeit's '0RBIQ' or 'KAL1MBA'
comes out as ORBIQ or KALIMBA: one edit from the name it copies, read as the
name itself.  Width tells two such digits from their letters.  Figures are
set to one width in most faces (tabular figures, so that columns of prices
line up): a zero prints narrower than its face's O, and a one wider than
its I in a sans face.  Each letter's width over the median of the name's
letters is compared with the same on the reference picture: the rights
holder's artwork, set in the print's own face.  In one face a zero measured
0.66-0.73x the O in five of seven faces tried and a sans face's one
1.7-2.6x the I; DejaVu Sans's zero (0.85x), a monospaced face's (0.82-0.95x)
and a serif face's one (1.0-1.3x) are missed, never taken for a digit.
Across faces the letters differ more (an I up to 2.8x between a serif and a
plain sans face), so the lines hold only where the reference's face is the
print's or near it.  The demo catalogue's references are drawn in other
faces than the held-out renderer's prints: on eight dev splits the genuine
marks' O measured 0.98-1.53x the reference's and their I 0.72-1.10x, while
the zeros of two '0RBIQ' prints measured 0.70x and 0.73x.  The other
look-alikes (3 for E, 5 for S, 8 for B) are about as wide as their letters.
"""
from __future__ import annotations

from dataclasses import dataclass

# A letter this narrow for its word against the reference's is a zero in place of an O
# (narrower still, it is a piece of a letter: an O split by tape or faint ink measured
# 0.34x), and this wide a one in place of an I.
ZERO_WITHIN = (0.5, 0.8)
ONE_AT_LEAST = 1.5
DIGIT_FOR = {"O": "0", "I": "1"}


@dataclass(frozen=True)
class DigitInPlace:
    """A letter of the name that prints as wide as the digit that looks like it."""

    letter: str
    digit: str
    place: int  # the letter's place in the name, from 0
    ratio: float  # its width for its word over the reference letter's

    def said(self, brand: str) -> str:
        return (f"letter {self.place + 1} ({self.letter}) prints {self.ratio:.2f}x as wide for "
                f"its word as on {brand}'s reference, as a {self.digit} would: the digit "
                f"{self.digit} printed for the letter {self.letter} reads as the name")


def digit_in_place(widths: tuple[float, ...] | None, reference: tuple[float, ...] | None,
                   name: str) -> DigitInPlace | None:
    """The first letter of ``name`` (capitals) whose width says it is a digit; None where the
    widths were not measured letter for letter on both the print and the reference."""
    if widths is None or reference is None or not len(widths) == len(reference) == len(name):
        return None
    for place, letter in enumerate(name):
        ratio = widths[place] / max(reference[place], 1e-6)
        zero = letter == "O" and ZERO_WITHIN[0] <= ratio <= ZERO_WITHIN[1]
        if zero or (letter == "I" and ratio >= ONE_AT_LEAST):
            return DigitInPlace(letter, DIGIT_FOR[letter], place, ratio)
    return None
