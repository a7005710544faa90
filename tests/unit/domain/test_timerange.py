"""Relative ranges in words resolve against the simulated now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.timerange import TimeRangeError, parse_range

NOW = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("last week", NOW - timedelta(days=7), NOW),
        ("past 3 days", NOW - timedelta(days=3), NOW),
        ("Past  three   days", NOW - timedelta(days=3), NOW),
        ("last 12 hours", NOW - timedelta(hours=12), NOW),
        ("yesterday", datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC)),
        ("today", datetime(2026, 11, 25, tzinfo=UTC), NOW),
        ("3 weeks ago", NOW - timedelta(weeks=3), NOW - timedelta(weeks=2)),
        ("a day ago", NOW - timedelta(days=1), NOW),
        ("last month", NOW - timedelta(days=30), NOW),
    ],
)
def test_ranges_in_words_resolve_relative_to_now(text, start, end):
    assert parse_range(text, NOW) == (start, end)


@pytest.mark.parametrize("text", ["next week", "last fortnight", "", "3 weeks"])
def test_unknown_words_are_refused_with_examples(text):
    with pytest.raises(TimeRangeError, match="try one of: today, yesterday, last week"):
        parse_range(text, NOW)


def test_a_range_zero_units_ago_is_refused():
    with pytest.raises(TimeRangeError, match="at least 1"):
        parse_range("0 days ago", NOW)
