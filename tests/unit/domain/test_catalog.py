"""The shipped config loads cleanly, describes the marketplace the spec asks for, and the catalog
answers the lookups a generator needs."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pydantic
import pytest

from app.domain.catalog import (
    DOMAINS,
    EVENT_TYPES,
    Catalog,
    ChainBaseline,
    ConfigProblem,
    GaugeBaseline,
    PoissonBaseline,
    RateRef,
    json_schemas,
    load_catalog,
    render_schema,
    schema_path,
)
from app.domain.catalog.flow import condition_share

from .catalog_support import CONFIG_DIR

SCENARIO_IDS = {
    "exam-season-surge",
    "supply-crisis",
    "payment-outage",
    "quality-crisis",
    "support-overload",
    "churn-pattern",
    "recruiting-crisis",
    "competitor-disruption",
    "normal-operations",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CONFIG_DIR)


# The shipped config ------------------------------------------------------------------------------


def test_shipped_config_loads_without_problems(catalog: Catalog) -> None:
    assert catalog.problems == ()


def test_catalog_has_at_least_fifty_streams_in_all_six_domains(catalog: Catalog) -> None:
    assert len(catalog.streams) >= 50
    for domain in DOMAINS:
        assert len(catalog.streams_in_domain(domain)) >= 5, domain


def test_every_stream_has_one_baseline_model_and_a_cadence_group(catalog: Catalog) -> None:
    assert set(catalog.metrics.streams) == set(catalog.streams)
    for stream in catalog.streams.values():
        assert stream in catalog.streams_with_cadence(stream.cadence)
    assert sum(len(catalog.streams_with_cadence(g)) for g in catalog.cadences) == len(
        catalog.streams
    )


def test_the_nine_scenarios_exist(catalog: Catalog) -> None:
    assert set(catalog.scenarios) == SCENARIO_IDS


def test_every_event_category_has_templates(catalog: Catalog) -> None:
    for event_type in EVENT_TYPES:
        assert catalog.templates_of_type(event_type), event_type


def test_each_config_file_points_at_its_schema() -> None:
    for path in CONFIG_DIR.glob("*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert next(iter(document)) == "$schema"
        assert (CONFIG_DIR / document["$schema"]).is_file(), path.name


# The marketplace the numbers describe ------------------------------------------------------------


def test_flow_produces_the_population_session_volume(catalog: Catalog) -> None:
    population = catalog.population
    assert 1 <= population.students / population.tutors <= 8
    scheduled = catalog.expected_daily_volume("session.scheduled")
    assert scheduled == pytest.approx(population.sessions_per_day, rel=0.02)
    assert 3500 <= population.tutors * population.active_tutor_share <= 4500


def test_booking_outcomes_split_into_confirmed_declined_expired(catalog: Catalog) -> None:
    requested = catalog.expected_daily_volume("customer.booking.requested")
    outcomes = [
        catalog.expected_daily_volume(f"customer.booking.{name}")
        for name in ("confirmed", "declined", "expired")
    ]
    assert sum(outcomes) == pytest.approx(requested)
    assert 0.70 <= outcomes[0] / requested <= 0.80


def test_business_rates_lie_in_the_specified_ranges(catalog: Catalog) -> None:
    assert 0.02 <= catalog.rate("student_noshow") <= 0.05
    assert 0.01 <= catalog.rate("tutor_noshow") <= 0.02
    assert 0.40 <= catalog.rate("rating_after_session") <= 0.60
    assert 0.02 <= catalog.growth.monthly_rate <= 0.05
    assert 0.05 <= catalog.anomalies.interval_share <= 0.10


def test_rating_follows_completion_in_the_specified_window(catalog: Catalog) -> None:
    [rating] = [
        c for c in catalog.cascades_from("session.completed") if c.to.endswith("rating.submitted")
    ]
    assert rating.delay.min == timedelta(0)
    assert rating.delay.max == timedelta(hours=48)


def test_payment_failure_may_open_a_ticket_one_to_six_hours_later(catalog: Catalog) -> None:
    [ticket] = [
        c
        for c in catalog.cascades_from("customer.payment.failed")
        if c.to == "support.ticket.created"
    ]
    assert (ticket.delay.min, ticket.delay.max) == (timedelta(hours=1), timedelta(hours=6))
    assert 0 < catalog.rate(ticket.probability) < 1


def test_profiles_average_one_and_demand_peaks_in_the_day(catalog: Catalog) -> None:
    for profile in catalog.profiles.values():
        assert sum(profile.weekday) / 24 == pytest.approx(1, abs=0.05)
    demand = catalog.profile("demand")
    assert min(demand.weekday[8:22]) > max(demand.weekday[23:] + demand.weekday[:7])
    assert 1.3 <= demand.weekend_multiplier <= 1.5


def test_calendar_holds_exam_summer_and_holiday_periods(catalog: Catalog) -> None:
    periods = {period.id: period for period in catalog.calendar.periods}
    assert 1.4 <= periods["may-exams"].multipliers["demand"] <= 1.6
    assert 1.4 <= periods["winter-exams"].multipliers["demand"] <= 1.6
    assert 0.7 <= periods["summer"].multipliers["demand"] <= 0.8
    for holiday in ("winter-break", "spring-break", "thanksgiving-week"):
        assert periods[holiday].multipliers["demand"] == 0.5


@pytest.mark.parametrize(
    ("moment", "demand"),
    [
        ("2025-05-15T12:00:00Z", 1.5),  # May exams
        ("2025-07-01T12:00:00Z", 0.75),  # summer
        ("2026-01-01T12:00:00Z", 0.5),  # winter break, across the new year
        ("2025-03-18T12:00:00Z", 0.5),  # spring break
        ("2025-11-26T12:00:00Z", 1.45 * 0.5),  # Thanksgiving week inside the winter exams
        ("2025-10-15T12:00:00Z", 1.0),  # an ordinary week
    ],
)
def test_calendar_multiplier_applies_the_periods_of_the_profile(
    catalog: Catalog, moment: str, demand: float
) -> None:
    at = datetime.fromisoformat(moment)
    assert catalog.calendar.multiplier("demand", at) == pytest.approx(demand)
    assert catalog.calendar.multiplier("flat", at) == 1.0


def test_calendar_ramps_linearly_into_a_period(catalog: Catalog) -> None:
    ramp = catalog.calendar.ramp_days
    halfway = datetime(2025, 5, 1, tzinfo=UTC) - timedelta(days=ramp / 2)
    assert catalog.calendar.multiplier("demand", halfway) == pytest.approx(1.25)


def test_thanksgiving_week_follows_the_fourth_thursday(catalog: Catalog) -> None:
    [thanksgiving] = [p for p in catalog.calendar.periods if p.rule is not None]
    assert thanksgiving.window(2025) == (date(2025, 11, 24), date(2025, 11, 30))
    assert thanksgiving.window(2026) == (date(2026, 11, 23), date(2026, 11, 29))


def test_baseline_external_events_number_two_to_five_a_day_with_a_third_red_herrings(
    catalog: Catalog,
) -> None:
    templates = catalog.templates.values()
    per_month = sum(t.timing.per_month for t in templates)
    causal = sum(t.timing.per_month * t.causal_probability for t in templates) / per_month
    assert 60 <= per_month <= 150
    assert 0.60 <= causal <= 0.70


# Lookups -----------------------------------------------------------------------------------------


def test_lookups_return_the_named_items(catalog: Catalog) -> None:
    assert catalog.stream("session.completed").domain == "session"
    assert catalog.scenario("payment-outage").settling.curve == "immediate"
    assert catalog.template("aws-outage").type == "infrastructure"
    assert isinstance(catalog.baseline("customer.app.opened"), PoissonBaseline)
    assert isinstance(catalog.baseline("session.completed"), ChainBaseline)
    assert isinstance(catalog.baseline("system.api.latency"), GaugeBaseline)


def test_unknown_names_raise_key_errors_that_say_what_was_asked(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match=re.escape("unknown stream 'customer.nothing'")):
        catalog.stream("customer.nothing")
    with pytest.raises(KeyError, match="unknown scenario 'mars-landing'"):
        catalog.scenario("mars-landing")


def test_rules_are_indexed_by_the_stream_that_causes_them(catalog: Catalog) -> None:
    [chain] = catalog.chains_from("customer.booking.requested")
    assert [o.to for o in chain.outcomes] == [
        "customer.booking.confirmed",
        "customer.booking.declined",
        "customer.booking.expired",
    ]
    producers = {edge.source for edge in catalog.edges_into("support.ticket.created")}
    assert "customer.payment.failed" in producers
    assert catalog.roots and all(
        isinstance(catalog.baseline(r), PoissonBaseline) for r in catalog.roots
    )


def test_rules_are_found_by_id(catalog: Catalog) -> None:
    assert catalog.rule("booking-response").from_stream == "customer.booking.requested"
    assert catalog.rule("session-rating").to == "session.rating.submitted"


def test_delays_can_read_their_median_from_a_rate(catalog: Catalog) -> None:
    [chain] = catalog.chains_from("support.ticket.created")
    delay = chain.outcomes[0].delay
    assert isinstance(delay.median, RateRef)
    assert catalog.rates[delay.median.rate].unit == "hours"
    rates = catalog.rate_values()
    assert delay.resolve("median", rates) == timedelta(hours=6)
    rates["support_resolution_median_hours"] *= 2
    assert delay.resolve("median", rates) == timedelta(hours=12)
    assert catalog.rate("support_resolution_median_hours") == 6


def test_condition_share_weighs_the_enum_values(catalog: Catalog) -> None:
    low_rating = next(c for c in catalog.cascades if c.id == "low-rating-ticket")
    share = condition_share(low_rating.condition, catalog.stream("session.rating.submitted"))
    assert share == pytest.approx(0.07)
    assert low_rating.condition is not None
    assert low_rating.condition.holds(2) and not low_rating.condition.holds(3)


def test_durations_parse_from_iso_strings(catalog: Catalog) -> None:
    assert catalog.scenario("exam-season-surge").duration == timedelta(days=2)
    assert catalog.cadences["low"].interval.max == timedelta(hours=1)
    assert catalog.scenario("exam-season-surge").events[0].offset == timedelta(days=-1)


def test_catalog_objects_are_immutable(catalog: Catalog) -> None:
    with pytest.raises(pydantic.ValidationError):
        catalog.stream("session.completed").unit = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        catalog.streams["x"] = catalog.stream("session.completed")  # type: ignore[index]
    with pytest.raises(TypeError):
        catalog.metrics.rates["certain"] = None  # type: ignore[index]


def test_models_serialize_back_to_camel_case_json(catalog: Catalog) -> None:
    dumped = catalog.scenario("payment-outage").model_dump(mode="json", by_alias=True)
    assert dumped["duration"] == "PT3H"
    assert dumped["cascadeRules"][0]["after"] == "PT30M"


def test_problem_reads_file_entry_field_and_message() -> None:
    problem = ConfigProblem(
        "scenario-definitions.json",
        "scenario 'supply-crisis'",
        "modifiers[0].target.stream",
        "unknown stream 'tutor.availibility.updated'",
    )
    assert str(problem) == (
        "scenario-definitions.json: scenario 'supply-crisis', field "
        "'modifiers[0].target.stream': unknown stream 'tutor.availibility.updated'"
    )


# Schemas -----------------------------------------------------------------------------------------


def test_checked_in_schemas_equal_the_generated_ones() -> None:
    """Regenerate with write_schemas (see config/README.md) when a model changes."""
    for file, schema in json_schemas().items():
        path = schema_path(CONFIG_DIR, file)
        assert path.read_text(encoding="utf-8") == render_schema(schema), path.name


def test_schemas_describe_every_property() -> None:
    def undocumented(node: object, where: str) -> list[str]:
        if isinstance(node, dict):
            missing = [
                f"{where}.{name}"
                for name, prop in node.get("properties", {}).items()
                if "description" not in prop
            ]
            return missing + [m for k, v in node.items() for m in undocumented(v, f"{where}.{k}")]
        if isinstance(node, list):
            return [m for item in node for m in undocumented(item, where)]
        return []

    for file, schema in json_schemas().items():
        assert undocumented(schema, file) == []
