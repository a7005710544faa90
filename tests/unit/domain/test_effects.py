"""Effects over an hour: what the hourly model takes for an hour in which effects change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.effects import NO_EFFECTS, Adjust, Effects, EffectsSource, hour_average

HOUR_START = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
STREAM = 3


class Until(EffectsSource):
    """`effects` in force until `end`, nothing after."""

    def __init__(self, effects: Effects, end: datetime) -> None:
        self.effects, self.end = effects, end

    def at(self, moment: datetime) -> Effects:
        return self.effects if moment < self.end else NO_EFFECTS

    def changes(self) -> tuple[datetime, ...]:
        return (self.end,)


def test_a_multiplier_that_ends_at_52_minutes_counts_for_52_minutes_of_the_hour():
    tenfold = Effects(streams={STREAM: Adjust(factor=10.0)}, stream_sources={STREAM: 99})
    source = Until(tenfold, HOUR_START + timedelta(minutes=52))

    hour = hour_average(source, HOUR_START)

    assert hour.stream(STREAM).factor == pytest.approx((52 * 10 + 8 * 1) / 60)
    assert hour.stream_sources == {STREAM: 99}


def test_an_override_for_half_the_hour_gives_the_mean_of_the_two_values():
    outage = Effects(streams={STREAM: Adjust(override=0.95)})
    source = Until(outage, HOUR_START + timedelta(minutes=30))

    adjust = hour_average(source, HOUR_START).stream(STREAM)

    assert adjust.apply(0.05) == pytest.approx((0.95 + 0.05) / 2)


def test_an_hour_without_a_change_takes_the_effects_at_its_middle():
    ramp_seen: list[datetime] = []

    class Ramp(EffectsSource):
        def at(self, moment: datetime) -> Effects:
            ramp_seen.append(moment)
            return Effects(rates={"booking": Adjust(factor=1.5)})

    hour = hour_average(Ramp(), HOUR_START)

    assert ramp_seen == [HOUR_START + timedelta(minutes=30)]
    assert hour.rate("booking").factor == 1.5
