"""The ids users see are made in one place and read back by it."""

from __future__ import annotations

import pytest

from app.domain import ids


def test_logged_things_are_named_by_their_log_position():
    assert ids.event_id(42) == "evt-42"
    assert ids.modifier_id(12) == "mod-12"
    assert ids.run_id(39323) == "run-39323"


def test_the_baselines_things_are_numbered_from_one_in_three_digits_at_least():
    assert ids.baseline_event_id(0) == "bevt-001"
    assert ids.baseline_event_id(41) == "bevt-042"
    assert ids.baseline_event_id(999) == "bevt-1000"
    assert ids.anomaly_id(6) == "banom-007"


def test_a_calendar_period_is_named_with_its_year():
    assert ids.calendar_id("exam-season", 2026) == "cal-exam-season-2026"


@pytest.mark.parametrize("position", [1, 12, 10**17, 10**18 - 1])
def test_a_modifier_id_reads_back_as_its_position(position):
    assert ids.modifier_position(ids.modifier_id(position)) == position


@pytest.mark.parametrize(
    "text",
    ["mod-x", "mod-", "12", "evt-3", "run-3", " mod-3", "mod-3 ", "mod--3", "mod-10" + "0" * 18],
)
def test_what_is_not_a_modifier_id_reads_as_none(text):
    assert ids.modifier_position(text) is None
