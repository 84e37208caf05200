"""Rules on catalogue-checked marks: packaging never flags an uncertain brand; catalogue facts."""
from __future__ import annotations

from edge.classify.judge import FLAG, REVIEW
from edge.records import BrandFacts, Classification, ModelInfo
from edge.rules import judge_marks, load_rules
from edge.rules.config import BrandRule, RulesConfig

CAT = ModelInfo("demo-brands", "1.0.0", "c" * 64)
LUMERA = BrandFacts(ships_in=("poly_mailer",), min_value=30.0, origins=("FR",))


def checked(match: str = "exact", packaging: str = "cardboard_box", pack_score: float = 0.99,
            **scores: float) -> Classification:
    base = {"none": 0.0, "genuine": 1.0, **{k: 0.0 for k in FLAG}, **scores}
    return Classification(model=ModelInfo("m", "1", "0" * 64), scores=base, top="genuine",
                          brand="LUMERA" if match else "", brand_score=0.95, packaging=packaging,
                          packaging_score=pack_score, flag_thresholds=FLAG,
                          review_thresholds=REVIEW, catalogue=CAT, name_match=match,
                          evidence={"name": "the mark reads 'LUMERA'"},
                          brand_facts=LUMERA if match else None)


def test_wrong_packaging_of_a_brand_read_exactly_is_reviewed_or_flagged_as_configured() -> None:
    v = judge_marks(checked(), load_rules(RulesConfig()))
    assert v.outcome == "review" and "LUMERA ships only in a poly mailer" in v.reasons[0]
    v = judge_marks(checked(), load_rules(RulesConfig(packaging_alone="flag")))
    assert v.outcome == "flag" and v.flagged_labels == ("wrong_packaging",)


def test_a_name_read_beside_its_emblem_is_as_certain_as_an_exact_one() -> None:
    for match in ("exact", "emblem"):
        v = judge_marks(checked(match), load_rules(RulesConfig(packaging_alone="flag")))
        assert v.outcome == "flag" and v.flagged_labels == ("wrong_packaging",)


def test_packaging_alone_never_flags_an_uncertain_brand_or_an_unsure_reading() -> None:
    rules = load_rules(RulesConfig(packaging_alone="flag"))
    near = checked("near", suspect_misspelled=0.55)
    v = judge_marks(near, rules)
    assert v.outcome == "review" and "wrong_packaging" not in v.flagged_labels
    # a name cut by tape names its brand too weakly to clear the parcel's packaging, or to
    # flag it: the officer is asked to look, and told what was read of the name
    cut = judge_marks(checked("cut"), rules)
    assert cut.outcome == "review" and cut.flagged_labels == ()
    assert "ships only in a poly mailer; the name is not read exactly (the mark reads 'LUMERA')" \
        in cut.reasons[0]
    assert judge_marks(checked("cut", packaging="poly_mailer"), rules).outcome == "clear"
    unsure = judge_marks(checked(pack_score=0.8), load_rules(RulesConfig(
        packaging_alone="flag", min_packaging_score=0.7)))
    assert unsure.outcome == "review" and "ships only in a poly mailer" in unsure.reasons[0]
    assert judge_marks(checked(match=""), rules).outcome == "clear"


def test_packaging_read_less_surely_than_even_says_nothing_by_default() -> None:
    """A parcel no more likely than not in a foreign packaging is not accused on it; from
    there wrong packaging is a review, never a flag by default."""
    rules = load_rules(RulesConfig())
    assert judge_marks(checked(pack_score=0.45), rules).outcome == "clear"
    for score in (0.55, 0.65, 0.97):
        v = judge_marks(checked(pack_score=score), rules)
        assert v.outcome == "review" and "ships only in a poly mailer" in v.reasons[0]


def test_measurements_do_not_add_up_to_a_review() -> None:
    c = checked(packaging="poly_mailer", suspect_colour=0.3, suspect_distorted=0.3,
                suspect_quality=0.3)
    assert judge_marks(c, load_rules(RulesConfig())).outcome == "clear"


def test_config_overrides_a_catalogue_entry_and_the_watchlist_limits_flags() -> None:
    cfg = RulesConfig(brand_overrides={"lumera": BrandRule(ships_in=("cardboard_box",))},
                      packaging_alone="flag")
    assert judge_marks(checked(), load_rules(cfg)).outcome == "clear"
    other = RulesConfig(watchlist=("NORVEX",))
    v = judge_marks(checked(suspect_misspelled=0.95), load_rules(other))
    assert v.outcome == "review" and "not on the watchlist" in v.reasons[0]


def test_the_officer_is_told_what_the_surface_showed_beside_the_packaging_score() -> None:
    from edge.classify.shading import with_shading

    v = judge_marks(with_shading(checked(), 0.004), load_rules(RulesConfig()))
    assert "on a cardboard box (score 0.99: its surface is flat, as board is: its shading " \
           "varies 0.4% across the parcel); LUMERA ships only" in v.reasons[0]
    assert "surface" not in judge_marks(checked(), load_rules(RulesConfig())).reasons[0]


def test_packaging_speaks_when_the_parcel_is_likely_in_none_of_the_brands_packagings() -> None:
    """Unsure which foreign packaging, yet sure it is not the brand's: the shares add up."""
    from dataclasses import replace

    rules = load_rules(RulesConfig())
    split = replace(checked(pack_score=0.45), packaging_scores={
        "cardboard_box": 0.45, "padded_envelope": 0.35, "poly_mailer": 0.2})
    v = judge_marks(split, rules)
    assert v.outcome == "review"
    assert "on a cardboard box or a padded envelope (score 0.80); LUMERA ships only in a " \
           "poly mailer" in v.reasons[0]
    # the same reading says nothing of a brand that ships in boxes and mailers (0.35 foreign)
    both = replace(split, brand_facts=BrandFacts(ships_in=("cardboard_box", "poly_mailer")))
    assert judge_marks(both, rules).outcome == "clear"
    # a reading that knows little is mostly "outside" a one-packaging brand by count alone:
    # its likeliest packaging is the brand's own, so nothing is said
    unsure = replace(checked(packaging="poly_mailer", pack_score=0.4), packaging_scores={
        "cardboard_box": 0.32, "padded_envelope": 0.28, "poly_mailer": 0.4})
    assert judge_marks(unsure, rules).outcome == "clear"
    # a foreign packaging holding little of the foreign share is not named
    one = replace(split, packaging_scores={"cardboard_box": 0.75, "padded_envelope": 0.05,
                                           "poly_mailer": 0.2})
    v = judge_marks(one, rules)
    assert v.outcome == "review" and "on a cardboard box (score 0.80)" in v.reasons[0]


def test_packaging_flags_only_when_sure_of_the_foreign_share() -> None:
    from dataclasses import replace

    rules = load_rules(RulesConfig(packaging_alone="flag"))
    scores = {"cardboard_box": 0.6, "padded_envelope": 0.38, "poly_mailer": 0.02}
    assert judge_marks(replace(checked(pack_score=0.6), packaging_scores=scores),
                       rules).outcome == "flag"
    scores = {"cardboard_box": 0.6, "padded_envelope": 0.3, "poly_mailer": 0.1}
    assert judge_marks(replace(checked(pack_score=0.6), packaging_scores=scores),
                       rules).outcome == "review"


def test_an_accusation_its_own_shading_contradicts_is_not_made() -> None:
    """Read a box at 0.65 while its surface drapes as film: a mailer-only brand is not sent to
    review for it; flat or unmeasured, it is.  Film read on a flat surface likewise."""
    from dataclasses import replace

    rules = load_rules(RulesConfig())
    box = replace(checked(pack_score=0.65), packaging_scores={
        "cardboard_box": 0.65, "padded_envelope": 0.1, "poly_mailer": 0.25})
    assert judge_marks(replace(box, surface_drape="draped"), rules).outcome == "clear"
    for drape in ("flat", ""):
        assert judge_marks(replace(box, surface_drape=drape), rules).outcome == "review"
    norvex = BrandFacts(ships_in=("cardboard_box",))
    mailer = replace(box, brand_facts=norvex, packaging="poly_mailer", packaging_scores={
        "cardboard_box": 0.2, "padded_envelope": 0.1, "poly_mailer": 0.7})
    assert judge_marks(replace(mailer, surface_drape="flat"), rules).outcome == "clear"
    assert judge_marks(replace(mailer, surface_drape="draped"), rules).outcome == "review"
