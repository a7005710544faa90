"""Times as text: the one parser of times that come in, the one format of times that go out,
relative ranges in words resolved against the simulated now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.domain.timerange import TimeRangeError, from_iso, iso, parse_range

NOW = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
TEN_UTC = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_a_time_with_z_reads_as_that_moment_in_utc():
    parsed = from_iso("2026-11-25T10:00:00Z")
    assert parsed == TEN_UTC
    assert parsed.tzinfo is UTC


def test_a_time_with_an_offset_reads_as_the_same_moment_in_utc():
    parsed = from_iso("2026-11-25T12:00:00+02:00")
    assert parsed == TEN_UTC
    assert parsed.tzinfo is UTC
    assert parsed.hour == 10


def test_a_time_without_an_offset_is_taken_as_utc():
    assert from_iso("2026-11-25T10:00:00") == TEN_UTC
    assert from_iso("2026-11-25T10:00:00").tzinfo is UTC


def test_the_logs_older_plus_zero_form_reads_the_same_as_z():
    assert from_iso("2026-11-25T10:00:00+00:00") == from_iso("2026-11-25T10:00:00Z")
    assert from_iso("2026-11-25T10:00:00.250000+00:00") == TEN_UTC.replace(microsecond=250000)


def test_a_date_alone_is_its_midnight_in_utc():
    assert from_iso("2026-11-25") == datetime(2026, 11, 25, tzinfo=UTC)


def test_spaces_around_a_time_are_ignored():
    assert from_iso("  2026-11-25T10:00:00Z \n") == TEN_UTC


def test_a_fraction_is_kept_to_the_microsecond():
    assert from_iso("2026-11-25T10:00:00.123456Z") == TEN_UTC.replace(microsecond=123456)
    assert from_iso("2026-11-25T11:00:00.5+01:00") == TEN_UTC.replace(microsecond=500000)


@pytest.mark.parametrize("text", ["", "now", "yesterday", "2026-13-01", "2026-11-25T25:00Z", "12"])
def test_what_is_not_a_time_is_refused_with_a_value_error(text):
    with pytest.raises(ValueError):
        from_iso(text)


def test_a_time_without_a_fraction_goes_out_to_the_second_with_z():
    assert iso(TEN_UTC) == "2026-11-25T10:00:00Z"


def test_a_time_with_a_fraction_goes_out_to_the_microsecond():
    assert iso(TEN_UTC.replace(microsecond=123456)) == "2026-11-25T10:00:00.123456Z"
    assert iso(TEN_UTC.replace(microsecond=500000)) == "2026-11-25T10:00:00.500000Z"
    assert iso(TEN_UTC.replace(microsecond=1)) == "2026-11-25T10:00:00.000001Z"


def test_a_time_in_another_zone_goes_out_in_utc():
    assert iso(datetime(2026, 11, 25, 12, 0, tzinfo=timezone(timedelta(hours=2)))) == (
        "2026-11-25T10:00:00Z"
    )


def test_a_naive_time_goes_out_as_utc():
    assert iso(datetime(2026, 11, 25, 10, 0)) == "2026-11-25T10:00:00Z"


@pytest.mark.parametrize("microsecond", [0, 1, 999999])
def test_a_time_that_went_out_reads_back_as_the_same_moment(microsecond):
    moment = TEN_UTC.replace(microsecond=microsecond)
    assert from_iso(iso(moment)) == moment


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


@pytest.mark.parametrize("text", ["past 99999999 weeks", "999999999999 days ago"])
def test_a_range_reaching_before_the_year_one_is_refused_not_a_crash(text):
    with pytest.raises(TimeRangeError, match="before the year 1"):
        parse_range(text, NOW)
