"""The rules stage: outcome precedence, thresholds, watchlist, packaging, AED checks, reasons."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from edge.records import (Classification, LabelReading, ModelInfo, QualityCheck, QualityReport,
                          Reference)
from edge.rules import decide, load_rules
from edge.rules.aed import AedTable, normalize_id
from edge.rules.config import LabelThreshold, RulesConfig

ITEM = "RR123456785US"
FLAG_T = {"suspect_misspelled": 0.6, "suspect_colour": 0.6, "suspect_distorted": 0.6,
          "suspect_quality": 0.6}
REVIEW_T = {k: 0.3 for k in FLAG_T}


def reading(valid: bool = True, value: str = ITEM) -> LabelReading:
    return LabelReading(symbols=(), reference=Reference("upu_s10", value, valid))


def quality(passed: bool = True) -> QualityReport:
    return QualityReport("default", "parcel", (QualityCheck("sharpness", 120.0, ">= 80", passed),))


def classified(top: str = "genuine", score: float = 0.95, brand: str = "NORVEX",
               packaging: str = "cardboard_box", **extra: float) -> Classification:
    scores = {"none": 0.0, "genuine": 0.0, **{k: 0.0 for k in FLAG_T}}
    scores[top] = score
    scores.update(extra)
    return Classification(model=ModelInfo("m", "1", "0" * 64), scores=scores, top=top,
                          brand=brand if top != "none" else "", brand_score=0.97,
                          packaging=packaging, packaging_score=0.95,
                          flag_thresholds=FLAG_T, review_thresholds=REVIEW_T)


def test_genuine_mark_on_its_packaging_is_clear_with_a_reason() -> None:
    verdict = decide(reading(), quality(), classified(), load_rules(RulesConfig()))
    assert verdict.outcome == "clear"
    assert verdict.reasons == ("Mark of watchlisted brand NORVEX looks genuine (score 0.95)",)


def test_misspelled_mark_is_flagged_in_words_an_officer_reads() -> None:
    verdict = decide(reading(), quality(), classified("suspect_misspelled", 0.93),
                     load_rules(RulesConfig()))
    assert verdict.outcome == "flag"
    assert verdict.flagged_labels == ("suspect_misspelled",)
    assert "Mark of watchlisted brand NORVEX looks misspelled (score 0.93)" in verdict.reasons


def test_abstain_band_sends_to_review_not_flag() -> None:
    verdict = decide(reading(), quality(), classified("genuine", 0.55, suspect_colour=0.4),
                     load_rules(RulesConfig()))
    assert verdict.outcome == "review"
    assert verdict.flagged_labels == ()
    assert any("wrong colours (score 0.40)" in r and "uncertain" in r for r in verdict.reasons)


def test_config_threshold_overrides_the_models() -> None:
    cfg = RulesConfig(thresholds={"suspect_colour": LabelThreshold(flag=0.35, review=0.2)})
    verdict = decide(reading(), quality(), classified("genuine", 0.55, suspect_colour=0.4),
                     load_rules(cfg))
    assert verdict.outcome == "flag"


def test_suspect_total_uses_the_models_value_unless_the_config_sets_one() -> None:
    """Spread doubt (no label alone over its review line) is reviewed at the model's total."""
    spread = classified("genuine", 0.58, suspect_colour=0.14, suspect_quality=0.14,
                        suspect_distorted=0.14)  # total 0.42, each under review's 0.3
    model_says = dataclasses.replace(spread, review_total_suspect=0.4)
    verdict = decide(reading(), quality(), model_says, load_rules(RulesConfig()))
    assert verdict.outcome == "review" and "suspect scores total 0.42" in verdict.reasons[0]
    assert decide(reading(), quality(), spread, load_rules(RulesConfig())).outcome == "clear"
    strict = RulesConfig(review_total_suspect=0.45)
    assert decide(reading(), quality(), model_says, load_rules(strict)).outcome == "clear"


def test_unwatched_brand_suspect_goes_to_review() -> None:
    cfg = RulesConfig(watchlist=("kalimba",))
    verdict = decide(reading(), quality(), classified("suspect_misspelled", 0.9), load_rules(cfg))
    assert verdict.outcome == "review"
    assert "not on the watchlist" in verdict.reasons[0]


def test_genuine_brand_on_wrong_packaging_is_flagged() -> None:
    verdict = decide(reading(), quality(), classified(packaging="poly_mailer"),
                     load_rules(RulesConfig()))
    assert verdict.outcome == "flag"
    assert verdict.flagged_labels == ("wrong_packaging",)
    assert "on a poly mailer" in verdict.reasons[0]
    assert "NORVEX ships only in a cardboard box" in verdict.reasons[0]


def test_flag_stands_without_a_read_and_all_reasons_are_kept() -> None:
    verdict = decide(LabelReading(symbols=(), reference=None), quality(False),
                     classified("suspect_distorted", 0.8), load_rules(RulesConfig()))
    assert verdict.outcome == "flag"
    assert len(verdict.reasons) == 3
    assert verdict.reasons[1].startswith("No reference number read")
    assert verdict.reasons[2] == "Photo fails the photographic standard: sharpness"


def test_no_read_outranks_quality_reject_which_outranks_clear() -> None:
    rules = load_rules(RulesConfig())
    assert decide(reading(valid=False), quality(False), classified(), rules).outcome == "no_read"
    assert decide(reading(), quality(False), classified(), rules).outcome == "quality_reject"


def test_poor_print_on_a_failed_photo_is_only_review() -> None:
    verdict = decide(reading(), quality(False), classified("suspect_quality", 0.9),
                     load_rules(RulesConfig()))
    assert verdict.outcome == "review"
    assert "print quality cannot be judged" in verdict.reasons[0]


def test_unavailable_classifier_is_said_and_does_not_block() -> None:
    c = Classification(model=None, scores={}, available=False, error="no model manifest")
    verdict = decide(reading(), quality(), c, load_rules(RulesConfig()))
    assert verdict.outcome == "clear"
    assert "classifier unavailable (no model manifest)" in verdict.reasons[0]


def test_review_threshold_above_flag_is_refused() -> None:
    with pytest.raises(ValidationError):
        LabelThreshold(flag=0.4, review=0.6)
    with pytest.raises(ValidationError):
        RulesConfig(min_brand_score=1.5)


def _aed_rules(tmp_path: Path, text: str, name: str = "aed.csv", outcome: str = "flag") -> object:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_rules(RulesConfig.model_validate({"aed": {"path": str(path), "outcome": outcome,
                                                          "refresh_s": 0}}))


def test_aed_documents_with_a_goods_brand_mark_is_flagged(tmp_path: Path) -> None:
    rules = _aed_rules(tmp_path, "item_id,contents,value,origin\nRR 123 456 785 US,Documents,2,DE\n")
    verdict = decide(reading(), quality(), classified(), rules)
    assert verdict.outcome == "flag"
    assert set(verdict.flagged_labels) == {"aed_contents", "aed_value"}
    assert "Declared as 'Documents' but the parcel shows a mark of goods brand NORVEX" in verdict.reasons


def test_aed_origin_mismatch_is_review_from_json(tmp_path: Path) -> None:
    text = json.dumps({ITEM: {"contents": "Sneakers", "value": 120, "origin": "cn"}})
    verdict = decide(reading(), quality(), classified(), _aed_rules(tmp_path, text, "aed.json"))
    assert verdict.outcome == "review"
    assert verdict.reasons[0] == "Declared origin 'CN'; genuine NORVEX ships from DE, US"


def test_aed_matching_declaration_stays_clear(tmp_path: Path) -> None:
    rules = _aed_rules(tmp_path, f"item_id,contents,value,origin\n{ITEM},Sneakers,150,US\n")
    assert decide(reading(), quality(), classified(), rules).outcome == "clear"


def test_aed_reloads_on_change_and_keeps_last_good_table(tmp_path: Path) -> None:
    path = tmp_path / "aed.csv"
    path.write_text(f"item_id,contents,value,origin\n{ITEM},Books,10,DE\n", encoding="utf-8")
    now = [0.0]
    table = AedTable(path, refresh_s=5.0, clock=lambda: now[0])
    assert table.lookup(ITEM).contents == "Books"
    path.write_text(f"item_id,contents,value,origin\n{ITEM},Tea,5,JP\n", encoding="utf-8")
    os.utime(path, ns=(1, 10**18))
    assert table.lookup(ITEM).contents == "Books"      # not yet: rate-limited
    now[0] = 6.0
    assert table.lookup(ITEM).contents == "Tea"
    path.write_text("not,the,header\n1,2,3\n", encoding="utf-8")
    os.utime(path, ns=(1, 2 * 10**18))
    now[0] = 12.0
    assert table.lookup(ITEM).contents == "Tea"         # broken upload: last good kept
    assert "item_id" in table.error


def test_aed_ids_compare_without_spaces_or_case() -> None:
    assert normalize_id(" rr 123-456 785 us ") == ITEM
