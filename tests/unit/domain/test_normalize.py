"""Normalization as DESIGN.md defines it: 50 expected, 30/70 at one sigma, 0/100 at three."""

from __future__ import annotations

import numpy as np
import pytest

from app.domain.normalize import normalize, normalize_array


@pytest.mark.parametrize(
    ("value", "score"),
    [
        (100, 50),
        (110, 70),
        (90, 30),
        (130, 100),
        (70, 0),
        (105, 60),
        (120, 85),
        (80, 15),
    ],
)
def test_scores_are_piecewise_linear_between_the_sigma_marks(value, score):
    assert normalize(value, expected=100, spread=10).score == pytest.approx(score)


def test_scores_are_clamped_beyond_three_sigmas():
    assert normalize(1000, expected=100, spread=10).score == 100
    assert normalize(-1000, expected=100, spread=10).score == 0


@pytest.mark.parametrize(
    ("value", "flag"),
    [
        (100, "normal"),
        (109.9, "normal"),
        (110, "warning"),
        (90, "warning"),
        (129, "warning"),
        (130, "critical"),
        (69, "critical"),
    ],
)
def test_flags_mark_one_and_three_sigmas(value, flag):
    assert normalize(value, expected=100, spread=10).flag == flag


def test_a_slot_that_never_varied_still_scores_without_dividing_by_zero():
    assert normalize(100, expected=100, spread=0).score == 50
    assert normalize(0, expected=0, spread=0).score == 50
    assert normalize(102, expected=100, spread=0).flag == "warning"


def test_the_vectorized_form_agrees_with_the_scalar_one():
    rng = np.random.default_rng(1)
    values = rng.normal(100, 20, 500)
    expected = np.full(500, 100.0)
    spread = rng.uniform(0, 15, 500)

    vectorized = normalize_array(values, expected, spread)
    scalar = [normalize(v, 100.0, s).score for v, s in zip(values, spread, strict=True)]

    assert vectorized.tolist() == pytest.approx(scalar)
