"""Training-side pieces that need no PyTorch: batching, reading targets, the calibration policy."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from edge.classify.manifest import InputSpec
from edge.classify.preprocess import to_tensor, to_tensors
from edge.records import Classification
from models import dataset as ds
from models import metrics


def test_a_batch_is_bitwise_the_images_one_by_one() -> None:
    spec = InputSpec("x", 8, 16, "RGB", 255.0, (0.5, 0.4, 0.3), (0.25, 0.5, 1.0), "area")
    images = np.random.default_rng(1).integers(0, 256, (5, 8, 16, 3), dtype=np.uint8)
    one_by_one = np.concatenate([to_tensor(im, spec) for im in images])
    assert np.array_equal(to_tensors(images, spec), one_by_one)
    with pytest.raises(ValueError, match="not N x 8 x 16 x 3"):
        to_tensors(images[:, :4], spec)


def test_reading_targets_skip_the_blank_and_unknown_characters() -> None:
    assert ds.encode_text("AB0") == [1, 2, 27]
    assert ds.encode_text("") == [] and ds.encode_text("a-") == []


def _probs(label: str, genuine: list[float],
           unbranded: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities where only ``label``'s column varies, for genuine and unbranded parcels."""
    column = ds.LABELS.index(label)
    rows = genuine + unbranded
    probs = np.zeros((len(rows), len(ds.LABELS)))
    probs[:, column] = rows
    y = np.array([ds.LABELS.index("genuine")] * len(genuine) + [0] * len(unbranded))
    return probs, y


def test_flag_threshold_keeps_genuine_marks_under_their_budget() -> None:
    # 400 genuine marks: 0.5 % is 2 parcels; three reach 0.8 and two more 0.9.
    probs, y = _probs("suspect_colour", [0.1] * 395 + [0.82] * 3 + [0.92] * 2, [0.0] * 400)
    t = metrics.choose_thresholds(probs, y)["suspect_colour"]
    assert t["flag"] == 0.85 and t["review"] <= t["flag"]


def test_flag_threshold_also_answers_to_unbranded_parcels() -> None:
    # Genuine marks never score; 0.25 % of 800 unbranded parcels is 2, and 3 reach 0.7.
    probs, y = _probs("suspect_quality", [0.0] * 200, [0.0] * 797 + [0.72] * 3)
    assert metrics.choose_thresholds(probs, y)["suspect_quality"]["flag"] == 0.75


class _Scored:
    """Stands in for the classifier's calibration step: the records carry finished scores."""

    @staticmethod
    def scores_of(raw: Classification) -> Classification:
        return raw


def _suspect_parcel(colour: float, quality: float) -> dict[str, Any]:
    scores = {"none": 0.0, "genuine": 1.0 - colour - quality, "suspect_misspelled": 0.0,
              "suspect_colour": colour, "suspect_distorted": 0.0, "suspect_quality": quality}
    c = Classification(model=None, scores=scores, top="genuine", brand="NORVEX", brand_score=0.9,
                       packaging="cardboard_box", packaging_score=0.9,
                       flag_thresholds={k: 0.9 for k in ds.FLAG_LABELS},
                       review_thresholds={k: 0.3 for k in ds.FLAG_LABELS})
    return {"raw": c, "label": "suspect_colour", "variant": "wrong_colour", "brand": [0.0],
            "brand_true": "NORVEX", "packaging": [0.0], "packaging_true": "cardboard_box",
            "located": True}


def test_suspect_total_is_the_highest_line_that_reaches_the_recall_target() -> None:
    """Each lower line reviews more genuine parcels, so the first one that is enough is taken."""
    spread = [_suspect_parcel(0.22, 0.2)] * 93 + [_suspect_parcel(0.05, 0.05)] * 7  # 0.42 / 0.1
    scored: Any = _Scored()
    assert metrics.choose_total(scored, spread) == 0.4
    hopeless = [_suspect_parcel(0.05, 0.05)] * 10
    assert metrics.choose_total(scored, hopeless) == metrics.TOTAL_GRID[-1]
