"""Live points: whole hours from the rollup, zeros where generation passed without events,
12-hour folding and the partial mark on the point that holds now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from app.domain.history import (
    BaselineView,
    LiveHour,
    align,
    live_points,
    live_reach,
    ratio_for_sigma,
    with_the_resets_hour,
)

H = timedelta(hours=1)


@pytest.fixture(scope="module")
def view(quiet_view: BaselineView) -> BaselineView:
    """The quiet baseline ready to serve (`tests/unit/conftest.py`)."""
    return quiet_view


def test_an_hour_generation_passed_without_events_counts_zero(view):
    start = view.end
    hours = [
        LiveHour("session.started", start, 400, None),
        LiveHour("session.started", start + 2 * H, 380, None),
    ]
    now = start + 2 * H + timedelta(minutes=10)
    points = live_points(
        view, "session.started", True, hours, start, start + 6 * H,
        frontier=start + 2 * H, resolution_hours=1, now=now,
    )  # fmt: skip

    assert [p["value"] for p in points] == [400, 0, 380]
    assert points[-1]["partial"] is True
    assert "partial" not in points[0]


def test_hours_a_feeding_group_has_not_generated_yet_are_partial(view):
    """session.scheduled is high-cadence but scheduled by the medium group's confirmations:
    where the medium group is behind, its hours may still grow."""
    start = view.end
    hours = [LiveHour("session.scheduled", start + i * H, 500, None) for i in range(4)]
    points = live_points(
        view, "session.scheduled", True, hours, start, start + 4 * H,
        frontier=start + 3 * H, resolution_hours=1, now=start + 4 * H,
        settled=start + 2 * H + timedelta(minutes=30),
    )  # fmt: skip

    assert [p.get("partial", False) for p in points] == [False, False, True, True]


def test_every_group_a_stream_depends_on_feeds_its_completeness(catalog, view):
    from app.domain.model import MarketModel

    model = MarketModel(catalog, anchor=view.end)
    groups = model.feeding_groups

    assert groups[model.index["session.scheduled"]] == {"high", "medium"}
    assert groups[model.index["customer.app.opened"]] == {"high"}


def test_sample_streams_fold_their_hourly_means_into_buckets(view):
    start = align(view.end, 12)
    hours = [LiveHour("system.api.latency", start + i * H, 60, 100.0 + i) for i in range(12)]
    points = live_points(
        view, "system.api.latency", False, hours, start, start + 12 * H,
        frontier=start + 11 * H, resolution_hours=12, now=start + 20 * H,
    )  # fmt: skip

    assert points[0]["value"] == pytest.approx(105.5)
    assert 0 <= points[0]["normalized"] <= 100


def test_nothing_is_live_before_generation_starts(view):
    assert live_points(view, "session.started", True, [], view.end, view.end + 5 * H,
                       frontier=None, resolution_hours=1, now=view.end + 5 * H) == []  # fmt: skip


def test_align_moves_to_the_start_or_end_of_the_block():
    moment = datetime(2026, 11, 25, 13, 30, tzinfo=UTC)

    assert align(moment, 12) == datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert align(moment, 12, up=True) == datetime(2026, 11, 26, tzinfo=UTC)
    assert align(moment, 1, up=True) == datetime(2026, 11, 25, 14, tzinfo=UTC)
    assert align(datetime(2026, 11, 25, 12, tzinfo=UTC), 12, up=True) == datetime(
        2026, 11, 25, 12, tzinfo=UTC
    )


def test_a_running_hour_is_scored_at_its_pace_and_not_at_all_in_its_first_quarter(view):
    start = view.end
    full, running = start, start + H
    expected_hour = view.normalize("session.started", [running], np.array([400.0]), 1)[0][0]
    hours = [
        LiveHour("session.started", full, 400, None),
        LiveHour("session.started", running, 200, None),
    ]

    def at(minutes: int) -> dict:
        return live_points(
            view, "session.started", True, hours, start, start + 3 * H,
            frontier=running, resolution_hours=1, now=running + timedelta(minutes=minutes),
        )[-1]  # fmt: skip

    half_way = at(30)
    assert half_way["value"] == 200 and half_way["partial"] is True
    assert half_way["normalized"] == pytest.approx(expected_hour)  # 200 in half an hour: 400/h
    early = at(10)
    assert (early["normalized"], early["flag"]) == (None, None)


def test_a_stream_whose_group_lags_shows_only_the_hours_its_group_generated(view):
    """At 60x the medium group ticks every few wall minutes, hours behind the high group."""
    start = view.end
    high_reached = start + 5 * H + timedelta(minutes=20)
    medium_reached = start + 2 * H + timedelta(minutes=30)
    hours = [LiveHour("session.started", start + i * H, 400, None) for i in range(3)]

    last_hour, until = live_reach(start + 5 * H, medium_reached, now=high_reached)
    points = live_points(
        view, "session.started", True, hours, start, start + 6 * H,
        frontier=last_hour, resolution_hours=1, now=until,
    )  # fmt: skip

    assert (last_hour, until) == (start + 2 * H, medium_reached)
    assert [p["value"] for p in points] == [400, 400, 400]  # no hours of silence after them
    assert points[-1]["partial"] is True  # the group is half-way through it


def test_a_group_that_reached_an_hour_boundary_has_not_begun_the_next_hour():
    start = datetime(2026, 11, 30, 12, tzinfo=UTC)

    assert live_reach(start + 5 * H, start + 3 * H, now=start + 4 * H) == (
        start + 2 * H,
        start + 3 * H,
    )
    assert live_reach(None, start, now=start) == (None, start)


def test_the_hour_of_a_reset_holds_the_restored_minutes_before_it():
    """A reset at 12:45: the restored run's last hour (11:45-12:45) gives 45 of its minutes."""
    reset = datetime(2026, 12, 3, 12, 45, tzinfo=UTC)
    hour = datetime(2026, 12, 3, 12, tzinfo=UTC)
    live = [LiveHour("customer.app.opened", hour, 100, None)]

    joined = with_the_resets_hour(live, "customer.app.opened", reset, 4000.0)

    assert joined == [LiveHour("customer.app.opened", hour, 100 + 3000, None)]


def test_a_reset_before_any_live_event_of_its_hour_still_gets_the_minutes_before_it():
    reset = datetime(2026, 12, 3, 12, 30, tzinfo=UTC)
    earlier = LiveHour("customer.app.opened", datetime(2026, 12, 3, 11, tzinfo=UTC), 7, None)

    joined = with_the_resets_hour([earlier], "customer.app.opened", reset, 600.0)

    assert [(h.hour.hour, h.events) for h in joined] == [(11, 7), (12, 300)]


def test_a_reset_on_the_hour_adds_nothing():
    reset = datetime(2026, 12, 3, 12, tzinfo=UTC)
    live = [LiveHour("customer.app.opened", reset, 100, None)]

    assert with_the_resets_hour(live, "customer.app.opened", reset, 4000.0) == live


def test_sigma_deviations_make_a_multiplier_of_the_spread_over_the_hours_expectation(view):
    monday_evening = datetime(2026, 10, 26, 19, tzinfo=UTC)
    slot = view.statistics["customer.app.opened"]["slots"]["hourly"]["weekday"]

    assert view.slot_spread("customer.app.opened", monday_evening) == slot["spread"][19]
    assert ratio_for_sigma(4.0, spread=50.0, expected=1000.0) == pytest.approx(1.2)
    assert ratio_for_sigma(-2.0, spread=50.0, expected=1000.0) == pytest.approx(0.9)
    assert ratio_for_sigma(4.0, spread=50.0, expected=0.0) is None
