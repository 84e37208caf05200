"""The rules stage: from what was read, measured and classified to a verdict with reasons.

Kept apart from the model so that policy (watchlist, thresholds, what a brand
ships in, AED checks) changes by config, not retraining.  Every rule that fires
adds a finding with its outcome and a reason an officer can act on; the
verdict is the finding of highest precedence, and carries all reasons:

    flag > review > no_read > quality_reject > clear

* flag first: a suspected counterfeit must reach an officer even when the
  label could not be read or the photo is poor; the parcel is found on the
  belt by its images and time, and a missed counterfeit costs more than a look.
* review next: the model is unsure (the abstain band) or the brand is not
  watched; an officer decides, nothing is alerted as a flag.
* no_read before quality_reject: without a reference the parcel cannot be tied
  to its shipment at all, which needs manual handling whatever the photo.
* quality_reject only when the photographic standard failed and nothing else
  applies: the images cannot be shared as evidence, so the parcel is re-imaged.
"""
from __future__ import annotations

from dataclasses import dataclass

from edge.catalogue.names import EXACTLY, RANK
from edge.records import (BrandFacts, Classification, LabelReading, Outcome, QualityReport,
                          Verdict)
from edge.rules.aed import AedTable, Declaration
from edge.rules.config import BrandRule, RulesConfig

__all__ = ["Rules", "RulesConfig", "decide", "judge_marks", "load_rules"]

PRECEDENCE = {Outcome.FLAG: 4, Outcome.REVIEW: 3, Outcome.NO_READ: 2,
              Outcome.QUALITY_REJECT: 1, Outcome.CLEAR: 0}
LABEL_WORDS = {
    "suspect_misspelled": "looks misspelled",
    "suspect_colour": "has the wrong colours",
    "suspect_distorted": "has distorted proportions",
    "suspect_quality": "looks poorly printed",
}
PACKAGING_WORDS = {"cardboard_box": "a cardboard box", "poly_mailer": "a poly mailer",
                   "padded_envelope": "a padded envelope"}
DEFAULT_FLAG, DEFAULT_REVIEW = 0.5, 0.25
# A foreign packaging is named in the reason when it holds this share of the foreign probability.
NAMED_SHARE = 0.25
# Packagings of film, which drapes over its contents; board and padded paper lie flat.
FILM = ("poly_mailer",)


@dataclass(frozen=True)
class Rules:
    """Built once from the config: the policy plus the AED table (if configured)."""

    cfg: RulesConfig
    aed: AedTable | None = None


@dataclass(frozen=True)
class Finding:
    outcome: Outcome
    reason: str
    label: str = ""


@dataclass(frozen=True)
class MarkView:
    """The classification seen through the policy: which brand, and is it watched."""

    present: bool
    brand: str
    brand_ok: bool
    watched: bool
    rule: BrandRule | None
    # The brand was named by its own words read exactly (not a misspelling, not a guess).
    certain: bool = True

    def words(self) -> str:
        if not self.brand_ok:
            guess = f" (perhaps {self.brand})" if self.brand else ""
            return "Mark of an unidentified brand" + guess
        return ("Mark of watchlisted brand " if self.watched else "Mark of brand ") + self.brand


def load_rules(cfg: RulesConfig) -> Rules:
    aed = None
    if cfg.aed.path is not None:
        aed = AedTable(cfg.aed.path, cfg.aed.refresh_s, int(cfg.aed.max_mb * 1_000_000))
        aed.refresh()
    return Rules(cfg=cfg, aed=aed)


def decide(reading: LabelReading | None, quality: QualityReport | None,
           classification: Classification | None, rules: Rules) -> Verdict:
    """The verdict for one parcel; pure apart from the AED table's rate-limited refresh."""
    available = classification is not None and classification.available
    mark = _mark_view(classification, rules.cfg) if available else None
    findings = _model_findings(classification, mark, quality, rules.cfg)
    if mark is not None:
        findings += _packaging_findings(classification, mark, rules.cfg)
        findings += _aed_findings(reading, mark, rules)
    findings += _read_findings(reading) + _quality_findings(quality)
    findings.sort(key=lambda f: -PRECEDENCE[f.outcome])
    outcome = findings[0].outcome if findings else Outcome.CLEAR
    flagged = tuple(dict.fromkeys(f.label for f in findings if f.outcome is Outcome.FLAG))
    return Verdict(outcome=outcome.value, reasons=tuple(f.reason for f in findings),
                   flagged_labels=flagged)


def judge_marks(classification: Classification, rules: Rules) -> Verdict:
    """The verdict on the marks and packaging alone (no label, photo or declaration):
    what ``classify --json`` prints, the same findings the unit's verdict starts from."""
    mark = _mark_view(classification, rules.cfg) if classification.available else None
    findings = _model_findings(classification, mark, None, rules.cfg)
    if mark is not None:
        findings += _packaging_findings(classification, mark, rules.cfg)
    findings.sort(key=lambda f: -PRECEDENCE[f.outcome])
    flagged = tuple(dict.fromkeys(f.label for f in findings if f.outcome is Outcome.FLAG))
    return Verdict(outcome=findings[0].outcome.value, reasons=tuple(f.reason for f in findings),
                   flagged_labels=flagged)


def _mark_view(c: Classification, cfg: RulesConfig) -> MarkView:
    if c.catalogue is not None:
        return _catalogue_view(c, cfg)
    present = bool(c.top) and c.top != "none"
    brand = c.brand.upper()
    brand_ok = present and bool(brand) and c.brand_score >= cfg.min_brand_score
    watched = not cfg.watchlist or (brand_ok and brand in cfg.watchlist)
    return MarkView(present, brand, brand_ok, watched, cfg.brands.get(brand) if brand_ok else None)


def _catalogue_view(c: Classification, cfg: RulesConfig) -> MarkView:
    """A brand exists only where the mark's words named a catalogue brand (open set).

    Its rule is the catalogue's entry, unless the config overrides that brand;
    it is watched when the catalogue says so and (if set) the watchlist names it.
    """
    brand = c.brand.upper()
    named = bool(brand) and c.name_match in RANK  # every kind of name match names the brand
    facts = c.brand_facts or BrandFacts()
    rule = cfg.brand_overrides.get(brand) or BrandRule(
        ships_in=facts.ships_in, goods=facts.goods, min_value=facts.min_value,
        origins=facts.origins)
    watched = named and facts.watched and (not cfg.watchlist or brand in cfg.watchlist)
    return MarkView(named, brand, named, watched, rule if named else None,
                    certain=c.name_match in EXACTLY)


def thresholds(label: str, c: Classification, cfg: RulesConfig) -> tuple[float, float]:
    """(flag, review) for ``label``: the config's override, else the model's calibration."""
    if label in cfg.thresholds:
        return cfg.thresholds[label].flag, cfg.thresholds[label].review
    flag = c.flag_thresholds.get(label, DEFAULT_FLAG)
    return flag, min(flag, c.review_thresholds.get(label, DEFAULT_REVIEW))


def _model_findings(c: Classification | None, mark: MarkView | None,
                    quality: QualityReport | None, cfg: RulesConfig) -> list[Finding]:
    """``mark`` is None exactly when no classification is available."""
    if c is None or mark is None:
        why = c.error if c is not None and c.error else "no classifier"
        return [Finding(Outcome.CLEAR, f"Marks not checked: classifier unavailable ({why})")]
    labels = sorted(set(c.flag_thresholds) | set(cfg.thresholds) | set(LABEL_WORDS))
    found = [f for f in (_label_finding(lb, c, mark, quality, cfg) for lb in labels) if f]
    total = sum(c.scores.get(lb, 0.0) for lb in labels)
    limit = c.review_total_suspect if cfg.review_total_suspect is None else cfg.review_total_suspect
    # With a catalogue the suspect scores are separate measurements (colour, letters...),
    # each with its own lines: their sum means nothing, so only the model's are summed.
    if not found and c.catalogue is None and total >= limit:
        found.append(Finding(Outcome.REVIEW, f"{mark.words()}: the model is unsure it is genuine "
                                             f"(suspect scores total {total:.2f})", "uncertain"))
    if not found:
        found.append(Finding(Outcome.CLEAR, _clear_words(c, mark)))
    return found


def _label_finding(label: str, c: Classification, mark: MarkView,
                   quality: QualityReport | None, cfg: RulesConfig) -> Finding | None:
    score = c.scores.get(label, 0.0)
    flag_t, review_t = thresholds(label, c, cfg)
    what = f"{mark.words()} {LABEL_WORDS.get(label, f'matches {label!r}')} (score {score:.2f})"
    if label in c.evidence:
        what = f"{mark.words()}: {c.evidence[label]} (score {score:.2f})"
    if score >= flag_t:
        if label == "suspect_quality" and quality is not None and not quality.passed:
            return Finding(Outcome.REVIEW, f"{what}; the photo fails the standard, so print "
                                           "quality cannot be judged", label)
        if not mark.watched:
            return Finding(Outcome.REVIEW, f"{what}; brand not on the watchlist", label)
        return Finding(Outcome.FLAG, what, label)
    if score >= review_t:
        return Finding(Outcome.REVIEW, f"{what}; uncertain, please check", label)
    return None


def _clear_words(c: Classification, mark: MarkView) -> str:
    if not mark.present and "none" in c.evidence:
        return f"No catalogue brand mark found: {c.evidence['none']}"
    if not mark.present:
        return f"No brand mark found (score {c.scores.get('none', 0.0):.2f})"
    if "name" in c.evidence:
        return f"{mark.words()} looks genuine: {c.evidence['name']}"
    return f"{mark.words()} looks genuine (score {c.scores.get(c.top, 0.0):.2f})"


def _packaging_findings(c: Classification, mark: MarkView, cfg: RulesConfig) -> list[Finding]:
    """Packaging flags only a brand that is certain, and never alone unless configured to.

    A brand named from what was not its name read exactly (cut by tape, read in
    pieces or short, misspelt) is uncertain: its packaging alone cannot say the mark
    is not genuine, but the two together are worth an officer's look, so wrong
    packaging there is a review, with what was read of the name in the reason.

    The likeliest packaging must be one the brand does not ship in as well: a reading
    that knows nothing (a third each) is two thirds outside a brand with one packaging,
    and an accusation needs evidence, not the count of packagings."""
    rule = mark.rule
    if rule is None or not rule.ships_in:
        return []
    seen_as, outside = _outside(c, rule.ships_in)
    if outside < cfg.min_packaging_score or c.packaging in rule.ships_in or \
            _contradicted(seen_as, c.surface_drape):
        return []
    ships = ", ".join(PACKAGING_WORDS.get(p, p) for p in rule.ships_in)
    seen = f": {c.evidence['packaging']}" if "packaging" in c.evidence else ""
    on = " or ".join(PACKAGING_WORDS.get(p, p) for p in seen_as)
    reason = (f"{mark.words()} on {on} (score {outside:.2f}{seen}); "
              f"{mark.brand} ships only in {ships}")
    if not mark.certain:
        name = f" ({c.evidence['name']})" if "name" in c.evidence else ""
        return [Finding(Outcome.REVIEW, f"{reason}; the name is not read exactly{name}, please "
                                        "check", "wrong_packaging")]
    sure = c.catalogue is None or (outside >= cfg.packaging_flag_score
                                   and cfg.packaging_alone == "flag")
    outcome = Outcome.FLAG if mark.watched and sure else Outcome.REVIEW
    return [Finding(outcome, reason if mark.watched else reason + "; brand not on the watchlist",
                    "wrong_packaging")]


def _outside(c: Classification, ships_in: tuple[str, ...]) -> tuple[list[str], float]:
    """The packagings the parcel may be in that its brand does not ship in (likeliest first),
    and the probability that it is in one of them.

    The question is "in none of the brand's packagings?", not "is the likeliest one foreign?":
    a reading of box 0.45, envelope 0.35, mailer 0.20 is unsure which, yet 0.80 sure that a
    brand shipping only in mailers is not in one.  A classification without the whole
    distribution answers with its likeliest packaging alone.
    """
    if not c.packaging_scores:
        foreign = c.packaging not in ships_in
        return ([c.packaging], c.packaging_score) if foreign else ([], 0.0)
    outside = sorted(((p, k) for k, p in c.packaging_scores.items() if k not in ships_in),
                     reverse=True)
    total = sum(p for p, _ in outside)
    return [k for p, k in outside if p >= NAMED_SHARE * total], total


def _contradicted(named: list[str], drape: str) -> bool:
    """Whether the parcel's own shading speaks against every packaging it is said to be in.

    The packaging reading and the broad shading are two witnesses; the reading
    is fused with the shading but can outvote it (the network's patches of a
    smooth mailer look like board).  An accusation that its own evidence
    contradicts ("on a cardboard box ... its surface rises and falls, as film
    does") is not one to send an officer to the exam table with: a parcel
    that drapes is not accused of being board or padded paper, nor one that is
    flat of being film.
    """
    film = [p in FILM for p in named]
    return bool(named) and ((drape == "draped" and not any(film))
                            or (drape == "flat" and all(film)))


def _aed_findings(reading: LabelReading | None, mark: MarkView, rules: Rules) -> list[Finding]:
    ref = reading.reference if reading is not None else None
    if rules.aed is None or ref is None or not ref.valid or not mark.brand_ok:
        return []
    decl = rules.aed.lookup(ref.value)
    if decl is None:
        return []
    outcome = Outcome(rules.cfg.aed.outcome)
    rule = mark.rule or BrandRule()
    return [f for f in (_aed_contents(decl, mark, rule, rules.cfg, outcome),
                        _aed_value(decl, mark, rule, outcome),
                        _aed_origin(decl, mark, rule)) if f]


def _aed_contents(decl: Declaration, mark: MarkView, rule: BrandRule, cfg: RulesConfig,
                  outcome: Outcome) -> Finding | None:
    words = {w.strip(".,;:()").lower() for w in decl.contents.split()}
    if not rule.goods or not words & {w.lower() for w in cfg.document_words}:
        return None
    return Finding(outcome, f"Declared as {_quote(decl.contents)} but the parcel shows a mark "
                            f"of goods brand {mark.brand}", "aed_contents")


def _aed_value(decl: Declaration, mark: MarkView, rule: BrandRule,
               outcome: Outcome) -> Finding | None:
    if not mark.watched or decl.value is None or not decl.value < rule.min_value:
        return None
    return Finding(outcome, f"Declared value {decl.value:.2f} is below {rule.min_value:.2f}, "
                            f"implausibly low for genuine {mark.brand} goods", "aed_value")


def _aed_origin(decl: Declaration, mark: MarkView, rule: BrandRule) -> Finding | None:
    if not rule.origins or not decl.origin or decl.origin in rule.origins:
        return None
    return Finding(Outcome.REVIEW, f"Declared origin {_quote(decl.origin)}; genuine "
                                   f"{mark.brand} ships from {', '.join(rule.origins)}",
                   "aed_origin")


def _read_findings(reading: LabelReading | None) -> list[Finding]:
    if reading is None or reading.reference is None:
        count = len(reading.symbols) if reading is not None else 0
        return [Finding(Outcome.NO_READ, f"No reference number read ({count} barcode(s) decoded)")]
    if not reading.reference.valid:
        return [Finding(Outcome.NO_READ, f"Reference {_quote(reading.reference.value)} fails its "
                                         f"check ({reading.reference.kind})")]
    return []


def _quality_findings(quality: QualityReport | None) -> list[Finding]:
    if quality is None or quality.passed:
        return []
    return [Finding(Outcome.QUALITY_REJECT, "Photo fails the photographic standard: "
                                            + ", ".join(quality.failed))]


def _quote(text: str, limit: int = 40) -> str:
    """Untrusted text made safe to show: printable ASCII, capped, quoted."""
    clean = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)[:limit]
    return f"'{clean}'"

