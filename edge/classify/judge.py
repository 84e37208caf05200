"""From the network's candidates and the catalogue readings to one Classification.

Scores here are measurements put on a 0..1 scale, each with fixed lines in
natural units chosen by what they mean, not fitted to one renderer:

* misspelled: the OCR engine's confidence in a line that is one or two edits
  (or look-alike characters) from a recorded name; flag at 0.85, review at 0.5;
  letters only added or dropped at the name's ends, or a misspelling that
  the line read again on its own spells as the name itself, review at most.
  A name read letter for letter whose O prints as narrow as a zero, or its
  I as wide as a one, for the word's letters against the reference's
  (:mod:`edge.classify.digits`): review, never a flag (measured, not read).
* colour: ΔE00 / 40; flag at ΔE 25 (plainly another colour), review at ΔE 18.
* proportions: the letters' width per height against the reference, as a
  ratio; review beyond 1.45x wider or 0.75x narrower, never a flag by
  itself.  The lines are not symmetric because the measurement on genuine
  marks (OCR's line box, blur, perspective) is not: it spreads from 0.81x
  to 1.18x on the project's generator and 0.79x to 1.45x on the held-out
  renderer, whose typefaces are not the references' (two of 109 at
  0.43-0.44x); on two held-out splits kept for choices (74 genuine marks)
  from 0.81x to 1.40x.  The score is |ln ratio| over the ln of its side's
  line, put on the review line's scale.
* print quality: ink edge width over letter height; review from 0.14,
  never a flag by itself.  The camera blurs every mark: on held-out parcels
  (five splits) edges of 10-13 % of the letter height are as common on
  genuine prints as on cheap ones (19 of 187 genuine marks, 21 of 150 cheap
  prints, a tenth of every kind), and none of 892 genuine-print marks
  reached 14 %; the lines at 10 % (review) and 12 % (flag) this replaces
  sent 8 genuine marks to review and flagged 2.  Or holes in the print
  (the share of the strokes' inner pixels printed under 60% of the ink
  near them, :func:`edge.classify.ink.patchiness`): review at a tenth of
  the strokes, flag at a quarter; solid print leaves next to none
  (held-out genuine-print marks, five splits: median 0, 6 of 892 at a
  tenth or more, every one of them past an eighth too, none past a
  quarter), blotchy prints a sixth in the median (the review line at an
  eighth left 8 of 150 cheap prints with holes of 10-12 % unreviewed).
  Or a second impression: partial ink on one side of the strokes only, a
  fixed step off them (plates out of register,
  :func:`edge.classify.register.doubled_print`), review from 0.15 of the
  print, never a flag by itself (held-out dev splits: 11 of 770
  genuine-print marks reached it, 88 of 127 cheap prints).
  Or the three together where none reached its own line: each over its
  review line, added, review from two faults' worth, never a flag.  A cheap
  press shows them at once (13 of those 127 cheap prints escaped every
  line, 4 of them at a sum of 2 or more); genuine print seldom shows two
  (2 of the 756 genuine-print marks that no line sent on reached 2).

A name read in one piece up to tape ("cut", :mod:`edge.classify.cover`), or
one edit beyond a name's allowance ("near"), is measured as any other, its
scores held at the review line: the hidden letters might spell another word,
and a near word might be one.

A parcel whose words name no catalogue brand is "none": no brand, no
brand-specific rule, whatever colour or shape its print has.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from edge.catalogue import Catalogue
from edge.catalogue.names import RANK
from edge.classify.ink import HOLE_LEVEL
from edge.classify.verify import Reading
from edge.records import BrandFacts, Classification, ModelInfo

# Letters this much wider, or narrower, than the reference's are reviewed (see above).
WIDER, NARROWER = 1.45, 0.75
FLAG = {"suspect_misspelled": 0.85, "suspect_colour": 25 / 40,
        "suspect_distorted": 1.01, "suspect_quality": 0.5}
REVIEW = {"suspect_misspelled": 0.5, "suspect_colour": 18 / 40,
          "suspect_distorted": math.log(WIDER) / math.log(2), "suspect_quality": 1 / 3}
LABELS = ("none", "genuine", *FLAG)
# Holes in the print (share of the strokes) mapped onto the print-quality score's lines.
HOLES_REVIEW = 1 / 10
HOLES = ((0.0, HOLES_REVIEW, 1 / 4, 1 / 2),
         (0.0, REVIEW["suspect_quality"], FLAG["suspect_quality"], 1.0))
NEAR_CAP = 0.6
# Names that say the brand only weakly: one edit beyond the allowance, or a piece up to tape.
# What is measured on them is held at the review line.
WEAK_NAMES = ("near", "cut")
# Ink edge width over letter height onto the print-quality score: review from BLUR_REVIEW,
# rising to BLUR_CAP at twice that width, never more (blurred edges never flag by themselves).
BLUR_REVIEW = 0.14
BLUR_CAP = 0.45
BLUR = ((0.0, BLUR_REVIEW, 2 * BLUR_REVIEW), (0.0, REVIEW["suspect_quality"], BLUR_CAP))
# A second impression beside the strokes (its one-sided partial ink per pixel of print) onto
# the same score: review from DOUBLED_REVIEW, rising to BLUR_CAP at twice that, never a flag.
DOUBLED_REVIEW = 0.15
DOUBLED = ((0.0, DOUBLED_REVIEW, 2 * DOUBLED_REVIEW), (0.0, REVIEW["suspect_quality"], BLUR_CAP))
# Faults together: a cheap press blurs its ink, leaves holes in it and prints it twice at
# once, each often short of its own line; a genuine print seldom shows more than one.  The
# three measures, each over its own review line, are added: from TOGETHER (two faults' worth
# at their lines) the print is reviewed, rising to BLUR_CAP at twice that, never a flag.
TOGETHER = 2.0
FAULTS = ((0.0, TOGETHER, 2 * TOGETHER), (0.0, REVIEW["suspect_quality"], BLUR_CAP))


def judge(readings: list[Reading], catalogue: Catalogue, model: ModelInfo | None,
          packaging: Mapping[str, float]) -> Classification:
    """The classification of a parcel from its candidates' readings (best match speaks) and
    the probability of each packaging."""
    info = ModelInfo(catalogue.name, catalogue.version, catalogue.sha256)
    likeliest = max(packaging, key=lambda k: packaging[k])
    base = dict(model=model, packaging=likeliest, packaging_score=round(packaging[likeliest], 4),
                packaging_scores={k: round(v, 4) for k, v in packaging.items()},
                flag_thresholds=dict(FLAG), review_thresholds=dict(REVIEW),
                review_total_suspect=1.0, catalogue=info)
    matched = [r for r in readings if r.match is not None]
    if not matched:
        return Classification(scores={"none": 1.0, **{k: 0.0 for k in LABELS[1:]}}, top="none",
                              evidence=_no_mark(readings), **base)
    r = min(matched, key=_rank)
    assert r.match is not None and r.line is not None
    brand = catalogue.get(r.match.brand)
    assert brand is not None
    scores, evidence = _measure(r)
    suspect = max(scores.values())
    scores = {"none": 0.0, "genuine": round(1.0 - suspect, 4), **scores}
    top = max(scores, key=lambda k: scores[k])
    evidence["name"] = r.match.words()
    facts = BrandFacts(ships_in=brand.ships_in, min_value=brand.min_value, origins=brand.origins,
                       goods=brand.goods, watched=brand.watched)
    return Classification(scores=scores, top=top, brand=brand.name,
                          brand_score=round(r.line.confidence, 4), mark_box=r.guess.box,
                          mark_text=r.line.text, name_match=r.match.kind, evidence=evidence,
                          brand_facts=facts, **base)


def _rank(r: Reading) -> tuple[int, float]:
    assert r.match is not None and r.line is not None
    return (RANK[r.match.kind], -r.line.confidence)


def _measure(r: Reading) -> tuple[dict[str, float], dict[str, str]]:
    assert r.match is not None and r.line is not None
    name = r.match.brand
    scores = {k: 0.0 for k in FLAG}
    evidence: dict[str, str] = {}
    if r.match.misspelled:
        # A near or partial match is weak evidence, and so is a misspelling read as the name
        # itself the second time, or one found only once a letter taken for the emblem was
        # left out: at most the review line, never a flag by itself.
        weak = r.match.kind in ("near", "partial") or r.disputed or r.match.emblem > 0
        scores["suspect_misspelled"] = round(min(NEAR_CAP if weak else 1.0, r.line.confidence), 4)
        evidence["suspect_misspelled"] = (f"{r.match.words()} (read with confidence "
                                          f"{r.line.confidence:.2f}){_disputed(r)}")
    if r.digit is not None:  # measured, not read: a review, never a flag by itself
        scores["suspect_misspelled"] = max(scores["suspect_misspelled"],
                                           REVIEW["suspect_misspelled"])
        evidence["suspect_misspelled"] = r.digit.said(name)
    if r.delta_e is not None:
        scores["suspect_colour"] = round(min(1.0, r.delta_e / 40), 4)
        evidence["suspect_colour"] = (f"colour differs from {name}'s reference by "
                                      f"ΔE {r.delta_e:.0f} (ink {_hex(r.ink_bgr)})")
    if r.aspect_ratio is not None:
        scores["suspect_distorted"] = round(_distortion(r.aspect_ratio), 4)
        evidence["suspect_distorted"] = (f"letters are {r.aspect_ratio:.2f}x as wide for their "
                                         f"height as on {name}'s reference")
    quality = _print_quality(r)
    if quality is not None:
        scores["suspect_quality"], evidence["suspect_quality"] = quality
    if r.match.kind in WEAK_NAMES:  # the brand itself is uncertain: never a flag alone
        scores = {k: min(v, REVIEW[k]) for k, v in scores.items()}
    return scores, evidence


def _distortion(ratio: float) -> float:
    """0..1, at the review line where the ratio reaches its side's line (WIDER or NARROWER)."""
    line = WIDER if ratio >= 1.0 else 1.0 / NARROWER
    return min(1.0, abs(math.log(ratio)) / math.log(line) * REVIEW["suspect_distorted"])


def _print_quality(r: Reading) -> tuple[float, str] | None:
    """The worst print measure speaks for the score, or, where none reached its own line,
    their sum (:func:`_faults`); the officer is told each."""
    said, score = [], 0.0
    if r.edge_rel is not None:
        score = float(np.interp(r.edge_rel, *BLUR))
        said.append(f"ink edges are blurred over {100 * r.edge_rel:.0f}% of the letter height")
    if r.holes is not None:
        score = max(score, float(np.interp(r.holes, *HOLES)))
        said.append(f"{100 * r.holes:.0f}% of the strokes print at under "
                    f"{100 * HOLE_LEVEL:.0f}% of the ink around them")
    if r.doubling is not None and r.doubling.share >= DOUBLED_REVIEW / 2:
        score = max(score, float(np.interp(r.doubling.share, *DOUBLED)))
        said.append(f"a faint second print lies {100 * r.doubling.step:.0f}% of the letter "
                    f"height to one side of the strokes ({100 * r.doubling.share:.0f}% as much "
                    f"as the print: plates out of register)")
    faults = _faults(r)
    together = sum(faults)
    if together >= TOGETHER and max(faults) < 1.0:  # one past its line has spoken already
        score = max(score, float(np.interp(together, *FAULTS)))
        said.append(f"blurred edges, holes and a second print together weigh {together:.1f} "
                    "times one fault at its review line (a cheap press shows several at once)")
    return (round(score, 4), "; ".join(said)) if said else None


def _faults(r: Reading) -> tuple[float, float, float]:
    """Blurred edges, holes and a second impression, each over its own review line."""
    return ((r.edge_rel or 0.0) / BLUR_REVIEW, (r.holes or 0.0) / HOLES_REVIEW,
            (r.doubling.share if r.doubling is not None else 0.0) / DOUBLED_REVIEW)


def _disputed(r: Reading) -> str:
    if not r.disputed or r.match is None:
        return ""
    said = f"; read again on its own it reads '{(r.second or '')[:40]}'"
    if r.read_right_again:
        return f"{said}, the brand's own spelling: a letter may be misread"
    assert r.respelt is not None
    chance = "as likely" if r.respelt >= 0 else f"1 in {math.exp(-r.respelt):.0f} as likely"
    return (f"{said}, and the text reader finds the brand's own spelling {r.match.spelling} "
            f"{chance} as what it read: a letter may be misread")


def _hex(bgr: tuple[int, int, int] | None) -> str:
    return "?" if bgr is None else "#{:02X}{:02X}{:02X}".format(bgr[2], bgr[1], bgr[0])


def _no_mark(readings: list[Reading]) -> dict[str, str]:
    words = [line.text for r in readings for line in r.lines][:4]
    if not words:
        return {"none": "no words of a catalogue brand were read"}
    shown = ", ".join(f"'{w[:24]}'" for w in words)
    return {"none": f"print reads {shown}: not a catalogue brand"}
