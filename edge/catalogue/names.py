"""What a read word says about the catalogue: a brand's name, a misspelling of it, or nothing.

Counterfeiters change a name just enough to escape a trademark search while
still passing for the brand at a glance: a look-alike character (0 for O, 1
for I, rn for m), one letter dropped, doubled, swapped or replaced.  So:

* exact (letters and digits compared, case folded) -> evidence of the brand;
* the same after folding look-alikes, or one or two edits away -> misspelling;
* anything else -> not this brand (open set: never the nearest brand).

Two edits are only allowed for names of seven letters or more, one for four to
six and none below four: short names are a few edits from many real words.
One edit more than that is a "near" match: weak evidence, which the caller
only keeps when something else agrees (the ink is the brand's colour).

A name with letters only added or dropped at its ends ("ENTRO", "OORBIQ")
is "partial": a line box cut short or run into the emblem beside the word
reads that way as often as a counterfeiter spells it so, so it is the
brand, misspelt perhaps, and never a flag by itself.

When the letters added at an end are the brand's emblem beside the name
(a ring read as O, a triangle as A), told apart from letters by the ink's
shape (``edge.classify.verify``), the name is read exactly: kind "emblem".
A misspelt name beside its emblem ('OOPBIO': a ring, then ORBIQ with P for
R and O for Q) is one edit further from the name than its print is, and
often past the allowance; read without the letter at one end
(:func:`match_beside_emblem`) it matches, and where the ink shows an emblem
the match stands with ``emblem`` set: weak evidence, as a near match is.

A name read in pieces, with letters hidden between them by tape or a
sticker laid over the mark, is "covered": the pieces name the brand (and
its colour and proportions can still be measured), but what is hidden
cannot be called a misspelling.  One piece alone, running into the band with
the rest of the name's letters under it, is "cut": it names the brand only
as far as its letters go (a shop's "ZENVO" under tape reads "ZEN" as well),
so it is measured but never flags by itself.  The letter at the tape's edge is
partly under it and may read as another ('ZENI' for ZENT, 'LUN' for LUM): it is
not held against the piece where the letters before it are the name's.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Iterable

# Characters (and pairs) that pass for one another in print.
LOOKALIKES = (("RN", "M"), ("VV", "W"), ("CL", "D"), ("0", "O"), ("Q", "O"), ("1", "I"),
              ("L", "I"), ("|", "I"), ("5", "S"), ("8", "B"), ("2", "Z"), ("6", "G"),
              ("4", "A"), ("3", "E"), ("7", "T"))
_KEEP = re.compile(r"[^A-Z0-9|]")


@dataclass(frozen=True)
class NameMatch:
    brand: str
    spelling: str
    read: str
    kind: str  # "exact" | "emblem" | "lookalike" | "edit" | "partial" | "near" | "covered" | "cut"
    edits: int  # for "covered" and "cut": letters hidden
    # Letters read at one end of the word and left out before matching: an emblem beside
    # the name read as a letter (a ring as O), see match_beside_emblem.
    emblem: int = 0

    @property
    def misspelled(self) -> bool:
        return self.kind not in (*EXACTLY, "covered", "cut")

    def words(self) -> str:
        if self.kind == "covered":
            return (f"the mark reads '{self.read}' with {self.edits} letter(s) covered, "
                    f"brand {self.brand}")
        if self.kind == "cut":
            return (f"the mark reads '{self.read}' and runs under tape or a sticker over about "
                    f"{self.edits} letter(s): perhaps brand {self.brand}, what is hidden is "
                    "not known")
        if self.kind == "exact":
            return f"the mark reads '{self.read}', the name of brand {self.brand}"
        if self.kind == "emblem":
            return (f"the mark reads '{self.read}', the name of brand {self.brand} beside its "
                    f"emblem (read as {self.edits} more letter(s))")
        if self.kind == "lookalike":
            return (f"the mark reads '{self.read}', watched brand {self.brand} spelt with "
                    "look-alike characters")
        letters = "one letter" if self.edits == 1 else f"{self.edits} letters"
        if self.emblem:
            return (f"the mark reads '{self.read}' beside its emblem (read as a letter), "
                    f"{letters} from brand {self.brand}")
        if self.kind == "partial":
            return (f"the mark reads '{self.read}', brand {self.brand} with {letters} more or "
                    "fewer at its ends (cut short, or run into its emblem?)")
        if self.kind == "near":
            return (f"the mark reads '{self.read}', {letters} from brand {self.brand}, "
                    "printed in its colour")
        return f"the mark reads '{self.read}', {letters} from brand {self.brand}"


def fold(text: str) -> str:
    """Capitals and digits only (spaces, dots and dashes dropped)."""
    return _KEEP.sub("", text.upper())


def fold_lookalikes(text: str) -> str:
    out = fold(text)
    for seen, meant in LOOKALIKES:
        out = out.replace(seen, meant)
    return out


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance: inserts, deletes, replacements and swaps of neighbours,
    letters between a swapped pair inserted or deleted too (Lowrance and Wagner's algorithm).

    A counterfeiter's edits compose: ZENTRO with its R dropped and then its last two letters
    swapped is ZENOT, two edits.  The restricted distance (optimal string alignment, which
    edits no letters twice) counts three there, and a name two edits away went unread.
    """
    far = len(a) + len(b)
    d = [[far] * (len(b) + 2)] + [[far] + [0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i + 1][1] = i
    for j in range(len(b) + 1):
        d[1][j + 1] = j
    last_row: dict[str, int] = {}  # for each letter, the last row of ``a`` it stood in
    for i in range(1, len(a) + 1):
        last_col = 0  # the last column of ``b`` matching a[i - 1] in this row
        for j in range(1, len(b) + 1):
            k, m = last_row.get(b[j - 1], 0), last_col
            cost = int(a[i - 1] != b[j - 1])
            if not cost:
                last_col = j
            d[i + 1][j + 1] = min(d[i][j] + cost, d[i + 1][j] + 1, d[i][j + 1] + 1,
                                  d[k][m] + (i - k - 1) + 1 + (j - m - 1))
        last_row[a[i - 1]] = i
    return d[len(a) + 1][len(b) + 1]


def allowed_edits(name: str) -> int:
    return 0 if len(name) < 4 else 1 if len(name) < 7 else 2


def match_word(read: str, brands: Iterable[tuple[str, tuple[str, ...]]],
               near: bool = False) -> NameMatch | None:
    """The best catalogue match of one read word: exact beats look-alike beats fewest edits.

    With ``near`` a word one edit beyond the allowance (names of five letters
    or more) is returned as kind "near".
    """
    word = fold(read)
    if len(word) < 2:
        return None
    best: NameMatch | None = None
    for brand, spellings in brands:
        for spelling in spellings:
            m = _match(word, brand, spelling, near)
            if m is not None and (best is None or _rank(m) < _rank(best)):
                best = m
    return best


def _match(word: str, brand: str, spelling: str, near: bool = False) -> NameMatch | None:
    target = fold(spelling)
    if word == target:
        return NameMatch(brand, spelling, word, "exact", 0)
    if fold_lookalikes(word) == fold_lookalikes(target):
        return NameMatch(brand, spelling, word, "lookalike", 1)
    limit = allowed_edits(target)
    wide = limit + 1 if near and len(target) >= 5 else limit
    if limit == 0 or abs(len(word) - len(target)) > wide:
        return None
    edits = min(edit_distance(word, target), edit_distance(fold_lookalikes(word),
                                                           fold_lookalikes(target)) + 1)
    if edits <= limit:
        partial = word in target or target in word
        return NameMatch(brand, spelling, word, "partial" if partial else "edit", edits)
    if edits <= wide:
        return NameMatch(brand, spelling, word, "near", edits)
    return None


def match_beside_emblem(read: str, brands: Iterable[tuple[str, tuple[str, ...]]]
                        ) -> NameMatch | None:
    """The best match of ``read`` with its first or its last letter left out, as ``match_word``
    with ``near``: an emblem beside a name is often read as a letter ('OOPBIO' for a ring and
    'OPBIO'), which leaves a misspelt name one edit further from the brand's than it is.
    Only a caller that sees an emblem beside the letters may keep it (``emblem`` says one was
    left out); words shorter than EMBLEM_MIN_WORD letters are not cut, nor an end where the
    emblem was read as a symbol already ('★LLUME': the L is a letter)."""
    word = fold(read)
    raw = read.strip()
    if len(word) < EMBLEM_MIN_WORD or not raw:
        return None
    best: NameMatch | None = None
    ends = ([word[1:]] if raw[0].isalnum() else []) + ([word[:-1]] if raw[-1].isalnum() else [])
    for rest in ends:
        m = match_word(rest, brands, near=True)
        if m is not None and (best is None or _rank(m) < _rank(best)):
            best = m
    return None if best is None else dataclasses.replace(best, emblem=1)


RANK = {"exact": 0, "emblem": 0, "lookalike": 1, "edit": 2, "partial": 2, "near": 3, "covered": 4,
        "cut": 5}
# Kinds that read the brand's name itself, letter for letter.
EXACTLY = ("exact", "emblem")
# A covered name must show this share of its letters, and its first piece at least
# COVERED_MIN_PIECE; a piece's letter at the tape's edge may read as another only beside at
# least COVERED_MIN_PIECE of the name's own (see _opens).
COVERED_MIN_SHOWN = 0.6
COVERED_MIN_PIECE = 2
# A name cut by a band shows at least half its letters (and three) in one piece; beyond the
# band at most CUT_UNSEEN letters more may stand, too few for the detector to take as a line.
CUT_MIN_SHOWN = 0.5
CUT_MIN_LETTERS = 3
CUT_UNSEEN = 2
# A word is read without a letter at one end (an emblem) only from this many letters: the
# shortest catalogue name with an edit allowed, and one letter for the emblem.
EMBLEM_MIN_WORD = 5


def match_pieces(first: str, hidden: int, second: str,
                 brands: Iterable[tuple[str, tuple[str, ...]]]) -> NameMatch | None:
    """``first`` and ``second`` read on one line with about ``hidden`` letters' width between
    them: a catalogue name whose start and end they are (look-alikes folded; the letter at
    each edge of the tape perhaps read as another, :func:`_opens`), with one letter more or
    less hidden than the gap suggests, is a covered match."""
    a, b = fold_lookalikes(first), fold_lookalikes(second)
    if len(a) < COVERED_MIN_PIECE or not b:
        return None
    for brand, spellings in brands:
        for spelling in spellings:
            name = fold_lookalikes(spelling)
            gap = len(name) - len(a) - len(b)
            shown = (len(a) + len(b)) / len(name)
            if gap >= 1 and abs(gap - hidden) <= 1 and shown >= COVERED_MIN_SHOWN and \
                    _opens(name, a, COVERED_MIN_PIECE) and _closes(name, b, COVERED_MIN_PIECE):
                return NameMatch(brand, spelling, f"{fold(first)}…{fold(second)}", "covered",
                                 gap)
    return None


def match_cut(piece: str, hidden: int,
              brands: Iterable[tuple[str, tuple[str, ...]]]) -> NameMatch | None:
    """``piece`` read up to a band about ``hidden`` letters wide: a catalogue name it starts
    or ends (look-alikes folded), whose letters under the band, one more or less than the
    band's width suggests, leave at most CUT_UNSEEN beyond it, is a "cut" match."""
    a = fold_lookalikes(piece)
    for brand, spelling in cut_names(piece, brands):
        name = fold_lookalikes(spelling)
        rest = len(name) - len(a)
        under = [h for h in (hidden, hidden - 1, hidden + 1) if 1 <= h <= rest <= h + CUT_UNSEEN]
        if under:
            start = _opens(name, a, CUT_MIN_LETTERS)
            shown = f"{fold(piece)}…" if start else f"…{fold(piece)}"
            return NameMatch(brand, spelling, shown, "cut", under[0])
    return None


def cut_names(piece: str, brands: Iterable[tuple[str, tuple[str, ...]]]
              ) -> list[tuple[str, str]]:
    """(brand, spelling) of every name ``piece`` could be the visible start or end of: three
    letters or more, at least CUT_MIN_SHOWN of the name, not all of it.  Cheap, so a caller
    measures the band beside a line only where it could make a name."""
    a = fold_lookalikes(piece)
    if len(a) < CUT_MIN_LETTERS:
        return []
    out = []
    for brand, spellings in brands:
        for spelling in spellings:
            name = fold_lookalikes(spelling)
            if len(name) > len(a) >= CUT_MIN_SHOWN * len(name) and (
                    _opens(name, a, CUT_MIN_LETTERS) or _closes(name, a, CUT_MIN_LETTERS)):
                out.append((brand, spelling))
    return out


def _opens(name: str, piece: str, least: int) -> bool:
    """Whether ``piece`` is the start of ``name`` up to its last letter, which may read as
    another where at least ``least`` letters before it are the name's: the letter at the
    tape's edge is partly under it (a T cut down its stem reads I, an M cut after its first
    leg N), and the tape runs on from there."""
    return name.startswith(piece) or len(piece) > least and name.startswith(piece[:-1])


def _closes(name: str, piece: str, least: int) -> bool:
    """:func:`_opens` from the other end: the first letter of the piece is the one the tape's
    edge crosses."""
    return _opens(name[::-1], piece[::-1], least)


def _rank(m: NameMatch) -> tuple[int, int]:
    return (RANK[m.kind], m.edits)


def candidates(line: str) -> list[str]:
    """The words of a read line, and the line with spaces removed (a spaced-out name)."""
    words = [w for w in re.split(r"[\s/]+", line) if w]
    joined = "".join(words)
    return list(dict.fromkeys([*words, joined])) if len(words) > 1 else words
