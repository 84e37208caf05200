"""The CTC sum against every path spelled out, and the odds of a respelling."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from edge.ctc import log_likelihood, respelt_odds


def _collapse(path: tuple[int, ...]) -> list[int]:
    return [k for i, k in enumerate(path) if k != 0 and (i == 0 or path[i - 1] != k)]


@pytest.mark.parametrize("label", [[1], [1, 1], [1, 2], [2, 1, 2], [3, 3, 3]])
def test_the_forward_sum_is_the_sum_over_every_path_that_spells_the_label(label: list[int]) -> None:
    rng = np.random.default_rng(len(label) + sum(label))
    probs = rng.random((6, 4))
    probs /= probs.sum(axis=1, keepdims=True)
    total = sum(math.prod(probs[t, k] for t, k in enumerate(path))
                for path in itertools.product(range(4), repeat=6) if _collapse(path) == label)
    assert log_likelihood(probs, label) == pytest.approx(math.log(total), abs=1e-9)


def test_a_label_longer_than_the_columns_allow_is_impossible() -> None:
    probs = np.full((3, 4), 0.25)
    assert log_likelihood(probs, [1, 1, 1]) == -math.inf  # two blanks needed between


def test_respelt_odds_compare_the_line_with_the_word_spelt_otherwise() -> None:
    alphabet = {"A": 1, "B": 2, "C": 3}
    probs = np.full((8, 4), 0.02)
    for t, k in enumerate([1, 0, 2, 0, 3, 0, 3, 0]):
        probs[t, k] = 0.94
    assert respelt_odds(probs, alphabet, "ABCC", "ABCC", "ABCC") == pytest.approx(0.0)
    # one column sure of C (0.94) and not of A (0.02): the respelling is 1/47 as likely
    assert respelt_odds(probs, alphabet, "ABCC", "ABCC", "ABAC") == pytest.approx(
        math.log(0.02 / 0.94), abs=0.2)
    assert respelt_odds(probs, alphabet, "ABCC", "CA", "AA") is None  # not in the line
    assert respelt_odds(probs, alphabet, "ABCC", "ABCC", "ABXC") is None  # not in the alphabet
