"""baseline-metrics.json: population, business rates, growth, profiles, calendar, anomalies and
the baseline model of every stream."""

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field

from ._base import ConfigModel, FrozenMap, KebabId, RateName, StreamName

HOURS_PER_DAY = 24
FLATTEST_SHARE = 0.25
"""A profile whose quietest hour is within this share of its busiest has no daily shape worth
changing (a seasonality change needs one)."""
DAYS_PER_MONTH = 365.25 / 12


class StudentCohort(ConfigModel):
    """A tenure cohort of students with its monthly churn."""

    cohort: Literal["new", "1-3-months", "3-12-months", "12-plus-months"] = Field(
        description="Tenure band: `new` (first month), 1-3, 3-12 and 12+ months."
    )
    share: float = Field(ge=0, le=1, description="Share of the students in this cohort.")
    churn_rate: RateName = Field(
        description="Name of the rate (unit `perMonth`) giving the cohort's monthly churn."
    )


class Population(ConfigModel):
    """The size of the marketplace, which the flow of events must reproduce."""

    students: int = Field(gt=0, description="Active students at the start of the baseline.")
    tutors: int = Field(gt=0, description="Approved tutors at the start of the baseline.")
    active_tutor_share: float = Field(
        gt=0, le=1, description="Share of tutors who teach on a given day."
    )
    sessions_per_active_tutor_per_day: float = Field(
        gt=0, description="Sessions a tutor who teaches that day gives, on average."
    )
    session_cap_per_active_tutor_per_day: float = Field(
        gt=0,
        description=(
            "The most sessions a tutor who teaches that day can give: the tutors' capacity "
            "(see the capacities of stream-relationships.json)."
        ),
    )
    subscribed_student_share: float = Field(
        ge=0, le=1, description="Share of students with a running subscription (the pool)."
    )
    active_campaigns: int = Field(ge=0, description="Marketing campaigns running (the pool).")
    student_cohorts: tuple[StudentCohort, ...] = Field(
        min_length=1, description="Students by tenure; shares sum to 1."
    )
    session_stream: StreamName = Field(
        description=(
            "The stream whose daily volume must equal tutors x activeTutorShare x "
            "sessionsPerActiveTutorPerDay (the loader checks it within volumeTolerance)."
        )
    )
    churn_stream: StreamName = Field(
        description=(
            "The stream whose monthly volume must equal students x the cohort-weighted churn "
            "(checked within volumeTolerance)."
        )
    )
    volume_tolerance: float = Field(
        gt=0, lt=1, description="Allowed relative gap between the flow's volumes and the targets."
    )

    def pool_size(self, entity: str) -> int | None:
        """How many existing entities `source: population` ids are drawn from; None: no pool."""
        pools = {
            "student": self.students,
            "tutor": self.tutors,
            "subscription": round(self.students * self.subscribed_student_share),
            "campaign": self.active_campaigns,
        }
        return pools.get(entity)

    @property
    def sessions_per_day(self) -> float:
        """The target daily volume of `session_stream`."""
        return self.tutors * self.active_tutor_share * self.sessions_per_active_tutor_per_day

    @property
    def session_capacity_per_day(self) -> float:
        """The most sessions the tutors can give in a day (before growth)."""
        return self.tutors * self.active_tutor_share * self.session_cap_per_active_tutor_per_day


class Rate(ConfigModel):
    """A named business rate: the one place its number is written."""

    value: float = Field(ge=0, description="The value, in `unit`.")
    unit: Literal["probability", "perMonth", "hours"] = Field(
        description=(
            "`probability` (0-1, chain outcomes and cascades), `perMonth` (a monthly share, "
            "0-1) or `hours` (a duration, e.g. a median delay)."
        )
    )
    description: str = Field(min_length=1, description="What the rate measures.")
    adjustable: bool = Field(
        default=True,
        description="False for constants (`certain`) that scenarios and couplings may not change.",
    )


class Growth(ConfigModel):
    """Slow organic growth applied to every Poisson root stream."""

    monthly_rate: float = Field(
        ge=-0.5, le=0.5, description="Compound growth per 30.44-day month (0.035 = 3.5%)."
    )
    description: str = Field(min_length=1, description="What grows and why.")


def _twenty_four(values: tuple[float, ...]) -> tuple[float, ...]:
    if len(values) != HOURS_PER_DAY:
        raise ValueError(f"needs 24 hourly values (00-23 UTC), got {len(values)}")
    return values


HourlyMultipliers = Annotated[
    tuple[Annotated[float, Field(ge=0)], ...], AfterValidator(_twenty_four)
]


class Profile(ConfigModel):
    """A time-of-day shape: hourly multipliers (UTC) for weekdays and weekends."""

    description: str = Field(min_length=1, description="Whose activity this shape follows.")
    weekday: HourlyMultipliers = Field(
        description="24 multipliers, hour 00 to 23 UTC, Monday-Friday; mean about 1."
    )
    weekend: HourlyMultipliers = Field(
        description="24 multipliers for Saturday and Sunday; mean about 1 (shape only)."
    )
    weekend_multiplier: float = Field(
        gt=0, description="Level of a weekend day relative to a weekday (1.4 = 40% busier)."
    )

    def multiplier(self, hour: int, weekend: bool) -> float:
        """The multiplier of one hour of a weekday or weekend day."""
        if weekend:
            return self.weekend[hour] * self.weekend_multiplier
        return self.weekday[hour]

    @property
    def rises_and_falls(self) -> bool:
        """Whether its weekday varies enough for a change of its shape to show: its quietest
        hour is under `FLATTEST_SHARE` of its busiest (config's `flat`, 0.92-1.08, is not)."""
        busiest = max(self.weekday)
        return busiest > 0 and min(self.weekday) < busiest * (1 - FLATTEST_SHARE)

    @property
    def weekly_mean(self) -> float:
        """The mean multiplier over a whole week (5 weekdays, 2 weekend days)."""
        weekday = sum(self.weekday) / HOURS_PER_DAY
        weekend = sum(self.weekend) / HOURS_PER_DAY * self.weekend_multiplier
        return (5 * weekday + 2 * weekend) / 7


_MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_day(value: str) -> str:
    match = _MONTH_DAY.match(value)
    if not match or int(match[2]) > _DAYS_IN_MONTH[int(match[1]) - 1]:
        raise ValueError(f"expected a month-day 'MM-DD' that exists every year, got {value!r}")
    return value


MonthDay = Annotated[
    str, AfterValidator(_month_day), Field(json_schema_extra={"pattern": _MONTH_DAY.pattern})
]


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = get_args(Weekday)


class NthWeekday(ConfigModel):
    """A date given by rule: the n-th weekday of a month (US Thanksgiving: 4th Thursday of Nov)."""

    month: int = Field(ge=1, le=12, description="Month, 1-12.")
    weekday: Weekday = Field(description="Day of the week.")
    n: int = Field(ge=1, le=5, description="Which occurrence in the month (1 = first).")
    days_before: int = Field(ge=0, description="Days of the period before that date.")
    days_after: int = Field(ge=0, description="Days of the period after that date.")


def nth_weekday(year: int, month: int, weekday: str, n: int) -> date:
    """The n-th given weekday of a month; the last one if the month has fewer than n."""
    first = date(year, month, 1)
    day = first + timedelta(days=(WEEKDAYS.index(weekday) - first.weekday()) % 7 + 7 * (n - 1))
    return day if day.month == month else day - timedelta(days=7)


class CalendarPeriod(ConfigModel):
    """A season or holiday that scales the seasonal streams of some profiles."""

    id: KebabId = Field(description="Identifier, e.g. `may-exams`.")
    name: str = Field(min_length=1, description="Human name.")
    kind: Literal["exam", "summer", "holiday", "term"] = Field(description="Kind of period.")
    start: MonthDay | None = Field(
        default=None, description="First day, 'MM-DD' (with `end`; may wrap over new year)."
    )
    end: MonthDay | None = Field(default=None, description="Last day, 'MM-DD', inclusive.")
    rule: NthWeekday | None = Field(
        default=None, description="A rule-based date instead of start/end (moving holidays)."
    )
    multipliers: FrozenMap[str, Annotated[float, Field(gt=0)]] = Field(
        description="Multiplier per profile name; seasonal streams of unlisted profiles keep 1."
    )
    ramp_days: float | None = Field(
        default=None,
        ge=0,
        description="Days to ramp in before the start and out after the end; default rampDays.",
    )

    def window(self, year: int) -> tuple[date, date]:
        """First and last day (inclusive) of the occurrence that starts in `year`."""
        if self.rule is not None:
            rule = self.rule
            anchor = nth_weekday(year, rule.month, rule.weekday, rule.n)
            before, after = timedelta(days=rule.days_before), timedelta(days=rule.days_after)
            return anchor - before, anchor + after
        assert self.start is not None and self.end is not None
        start = date(year, *map(int, self.start.split("-")))
        end = date(year, *map(int, self.end.split("-")))
        return start, end if end >= start else end.replace(year=year + 1)

    def weight(self, moment: datetime, default_ramp_days: float) -> float:
        """How much of the period applies at `moment`: 1 inside, falling linearly to 0 over the
        ramp before the start and after the end, 0 elsewhere."""
        ramp = self.ramp_days if self.ramp_days is not None else default_ramp_days
        day = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        best = 0.0
        for year in (day.year - 1, day.year, day.year + 1):
            start, end = self.window(year)
            before = _days(datetime.combine(start, time()) - day)
            after = _days(day - datetime.combine(end + timedelta(days=1), time()))
            distance = max(before, after, 0.0)
            if distance == 0:
                return 1.0
            if ramp > 0:
                best = max(best, 1 - distance / ramp)
        return best


def _days(span: timedelta) -> float:
    return span / timedelta(days=1)


class Calendar(ConfigModel):
    """The academic calendar. Periods that overlap multiply; edges ramp linearly."""

    ramp_days: float = Field(
        ge=0,
        description=(
            "Default ramp: the factor moves linearly from 1 to the period's multiplier over this "
            "many days before the start, and back over as many days after the end."
        ),
    )
    periods: tuple[CalendarPeriod, ...] = Field(description="The seasons and holidays.")

    def multiplier(self, profile: str, moment: datetime, without: str | None = None) -> float:
        """The calendar factor of a seasonal stream with this profile at `moment` (UTC);
        `without` leaves one period out (what the calendar would be without it)."""
        factor = 1.0
        for period in self.periods:
            if period.id == without:
                continue
            target = period.multipliers.get(profile)
            if target is not None:
                factor *= 1 + (target - 1) * period.weight(moment, self.ramp_days)
        return factor


class AnomalyMagnitude(ConfigModel):
    """The range of an anomaly's multiplier."""

    min: float = Field(gt=0, description="Smallest spike multiplier (e.g. 1.1).")
    max: float = Field(gt=0, description="Largest spike multiplier (e.g. 1.35).")


class Anomalies(ConfigModel):
    """Small natural variance spikes sprinkled over the baseline."""

    interval_share: float = Field(
        ge=0, le=1, description="Share of 12-hour intervals of a stream with a spike (0.05-0.10)."
    )
    magnitude: AnomalyMagnitude = Field(description="Multiplier range of a spike.")
    dip_share: float = Field(
        ge=0, le=1, description="Share of spikes that are dips (the value divides instead)."
    )


class PoissonBaseline(ConfigModel):
    """A root stream: events arrive as a Poisson process."""

    model: Literal["poisson"] = Field(description="Root stream: a Poisson process.")
    rate_per_hour: float = Field(
        gt=0,
        description=(
            "Expected events per hour at profile multiplier 1, before the calendar and growth."
        ),
    )
    profile: str = Field(description="Name of the time-of-day profile.")
    seasonal: bool = Field(description="Whether the academic calendar scales this stream.")


class ChainBaseline(ConfigModel):
    """A stream produced entirely by chain outcomes and cascades of other streams."""

    model: Literal["chain"] = Field(
        description="Produced only by rules of stream-relationships.json; has no rate of its own."
    )


LOAD_HOURS_MAX = 3
"""The longest span a gauge's load is read over (the live generator keeps that much of each
stream's recent events: `app.domain.generation.records.RECENT`)."""


class Load(ConfigModel):
    """What drives a gauge above or below its base."""

    stream: StreamName = Field(description="The driving stream.")
    elasticity: float = Field(description="value x (driver / driver's own baseline) ^ elasticity.")
    hours: int = Field(
        default=1,
        ge=1,
        le=LOAD_HOURS_MAX,
        description=(
            "Hours of the driver the load is read over, the current one included: a queue "
            "and the time to answer it follow the last few hours' arrivals, not one hour's."
        ),
    )


class GaugeBaseline(ConfigModel):
    """A sampled measurement around a base value."""

    model: Literal["gauge"] = Field(description="A sample stream: base x profile x load x noise.")
    base: float = Field(description="Value at profile multiplier 1 and baseline load.")
    noise: float = Field(ge=0, le=1, description="Multiplicative noise (standard deviation).")
    profile: str = Field(description="Name of the time-of-day profile.")
    seasonal: bool = Field(default=False, description="Whether the calendar scales the value.")
    load: Load | None = Field(
        default=None, description="Optional driver: the value follows another stream's load."
    )


StreamBaseline = Annotated[
    PoissonBaseline | ChainBaseline | GaugeBaseline, Field(discriminator="model")
]


class BaselineMetrics(ConfigModel):
    """baseline-metrics.json: the baseline of every stream and the business rates behind it."""

    schema_: str = Field(alias="$schema", description="Path of this file's JSON Schema.")
    population: Population = Field(description="The size of the marketplace.")
    rates: FrozenMap[RateName, Rate] = Field(description="Named business rates.")
    growth: Growth = Field(description="Monthly growth.")
    profiles: FrozenMap[str, Profile] = Field(description="Time-of-day profiles by name.")
    calendar: Calendar = Field(description="The academic calendar.")
    anomalies: Anomalies = Field(description="Natural variance spikes.")
    streams: FrozenMap[StreamName, StreamBaseline] = Field(
        description="The baseline model of every stream, by stream name."
    )

    def day_rises_and_falls(self, stream: str) -> bool:
        """Whether a stream's own day has a shape to change (a root's or a gauge's profile that
        rises and falls; a chain stream has no day of its own)."""
        profile = self.profiles.get(getattr(self.streams.get(stream), "profile", ""))
        return profile is not None and profile.rises_and_falls
