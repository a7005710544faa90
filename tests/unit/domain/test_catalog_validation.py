"""Each validation rule of the fatal files, proven on a broken copy of the shipped config: the
load fails and the problem names the file, the entry and the field."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .catalog_support import (
    Json,
    assert_reported,
    by_id,
    copy_config,
    edit,
    fatal_problems,
    stream_entry,
)

STREAMS = "streams.json"
METRICS = "baseline-metrics.json"
CADENCES = "stream-cadences.json"
RELATIONSHIPS = "stream-relationships.json"
LIBRARY = "external-events-library.json"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return copy_config(tmp_path)


def broken(config: Path, file: str, change: Callable[[Json], object]) -> list[str]:
    edit(config, file, change)
    return fatal_problems(config)


def cascade(document: Json, cascade_id: str) -> Json:
    return by_id(document["cascades"], cascade_id)


def chain(document: Json, chain_id: str) -> Json:
    return by_id(document["chains"], chain_id)


# Reading the files -------------------------------------------------------------------------------


def test_invalid_json_names_the_file_and_the_line(config: Path) -> None:
    (config / CADENCES).write_text('{"groups": {,}}', encoding="utf-8")
    assert_reported(fatal_problems(config), "stream-cadences.json: invalid JSON at line 1")


def test_missing_file_is_reported(config: Path) -> None:
    (config / LIBRARY).unlink()
    assert_reported(fatal_problems(config), "external-events-library.json: file not found")


def test_duplicate_json_key_is_reported(config: Path) -> None:
    text = (config / CADENCES).read_text(encoding="utf-8")
    (config / CADENCES).write_text(text.replace('"jitter": 0.3,', '"jitter": 0.3, "jitter": 0.2,'))
    assert_reported(fatal_problems(config), "stream-cadences.json: key 'jitter' appears twice")


def test_wrong_schema_reference_is_reported(config: Path) -> None:
    problems = broken(config, STREAMS, lambda d: d.update({"$schema": "./other.json"}))
    assert_reported(
        problems, "streams.json: field '$schema': expected './schemas/streams.schema.json'"
    )


def test_every_fatal_problem_is_reported_not_just_the_first(config: Path) -> None:
    edit(config, STREAMS, lambda d: stream_entry(d, "session.started").update(cadence="hourly"))
    edit(config, LIBRARY, lambda d: d["magnitudes"].update(low=0.9))
    problems = fatal_problems(config)
    assert_reported(problems, "streams.json: stream 'session.started', field 'cadence'")
    assert_reported(problems, "external-events-library.json: magnitudes, field 'low'")


# streams.json ------------------------------------------------------------------------------------


def test_unknown_key_in_a_stream_is_refused(config: Path) -> None:
    problems = broken(
        config, STREAMS, lambda d: stream_entry(d, "session.started").update(colour=1)
    )
    assert_reported(problems, "streams.json: stream 'session.started', field 'colour': unknown key")


def test_wrong_value_type_names_the_field_inside_the_stream(config: Path) -> None:
    def change(document: Json) -> None:
        stream_entry(document, "session.completed")["fields"]["firstSession"]["probability"] = "low"

    problems = broken(config, STREAMS, change)
    assert_reported(
        problems,
        "streams.json: stream 'session.completed', field 'fields.firstSession.probability'",
    )


def test_unknown_field_type_is_refused(config: Path) -> None:
    def change(document: Json) -> None:
        stream_entry(document, "customer.app.opened")["fields"]["platform"]["type"] = "choice"

    problems = broken(config, STREAMS, change)
    assert_reported(
        problems, "streams.json: stream 'customer.app.opened', field 'fields.platform': input tag"
    )


def test_duplicate_stream_name_is_refused(config: Path) -> None:
    def change(document: Json) -> None:
        document["streams"].append(dict(stream_entry(document, "session.started")))

    problems = broken(config, STREAMS, change)
    assert_reported(problems, "streams.json: stream 'session.started', field 'name': duplicate")


def test_domain_must_equal_the_first_segment_of_the_name(config: Path) -> None:
    problems = broken(
        config, STREAMS, lambda d: stream_entry(d, "session.started").update(domain="tutor")
    )
    assert_reported(problems, "streams.json: stream 'session.started', field 'domain': 'tutor'")


def test_entity_stream_must_count_events(config: Path) -> None:
    def change(document: Json) -> None:
        stream_entry(document, "session.started").update(metric="gauge", aggregation="mean")

    problems = broken(config, STREAMS, change)
    assert_reported(problems, "streams.json: stream 'session.started', field 'metric'")


def test_aggregation_must_fit_the_metric(config: Path) -> None:
    problems = broken(
        config, STREAMS, lambda d: stream_entry(d, "system.api.latency").update(aggregation="sum")
    )
    assert_reported(problems, "stream 'system.api.latency', field 'aggregation': a 'duration'")


def test_enum_weights_must_match_the_values(config: Path) -> None:
    def change(document: Json) -> None:
        stream_entry(document, "customer.app.opened")["fields"]["platform"]["weights"] = [1, 2]

    problems = broken(config, STREAMS, change)
    assert_reported(
        problems,
        "streams.json: stream 'customer.app.opened', field 'fields.platform.weights': 2 weights",
    )


def test_normal_number_field_needs_a_mean(config: Path) -> None:
    def change(document: Json) -> None:
        del stream_entry(document, "session.completed")["fields"]["durationMinutes"]["mean"]

    problems = broken(config, STREAMS, change)
    assert_reported(
        problems, "stream 'session.completed', field 'fields.durationMinutes.mean': a normal"
    )


def test_population_ids_need_a_pool(config: Path) -> None:
    def change(document: Json) -> None:
        stream_entry(document, "customer.tutor.search")["fields"]["searchId"]["source"] = (
            "population"
        )

    problems = broken(config, STREAMS, change)
    assert_reported(
        problems,
        "stream 'customer.tutor.search', field 'fields.searchId.source': no population pool",
    )


# stream-cadences.json ----------------------------------------------------------------------------


def test_stream_cadence_must_name_a_group(config: Path) -> None:
    problems = broken(
        config, STREAMS, lambda d: stream_entry(d, "session.started").update(cadence="hourly")
    )
    assert_reported(problems, "streams.json: stream 'session.started', field 'cadence'")


def test_missing_cadence_group_is_reported(config: Path) -> None:
    problems = broken(config, CADENCES, lambda d: d["groups"].pop("low"))
    assert_reported(problems, "stream-cadences.json: cadence group 'low': group is missing")
    assert_reported(
        problems, "streams.json: stream 'customer.subscription.started', field 'cadence'"
    )


def test_cadence_interval_must_be_ordered(config: Path) -> None:
    problems = broken(
        config, CADENCES, lambda d: d["groups"]["medium"]["interval"].update(min="PT10M")
    )
    assert_reported(problems, "stream-cadences.json: cadence group 'medium', field 'interval.max'")


def test_durations_must_be_iso_strings(config: Path) -> None:
    problems = broken(config, CADENCES, lambda d: d["groups"]["high"]["interval"].update(min=5))
    assert_reported(
        problems, "cadence group 'high', field 'interval.min': expected an ISO-8601 duration"
    )


# baseline-metrics.json ---------------------------------------------------------------------------


def test_every_stream_needs_a_baseline_model(config: Path) -> None:
    problems = broken(config, METRICS, lambda d: d["streams"].pop("session.cancelled"))
    assert_reported(problems, "baseline-metrics.json: stream baseline 'session.cancelled': missing")


def test_baseline_of_an_unknown_stream_is_refused(config: Path) -> None:
    problems = broken(
        config, METRICS, lambda d: d["streams"].update({"session.paused": {"model": "chain"}})
    )
    assert_reported(problems, "stream baseline 'session.paused': unknown stream 'session.paused'")


def test_baseline_model_must_fit_the_stream_shape(config: Path) -> None:
    gauge = {"model": "gauge", "base": 1, "noise": 0.1, "profile": "flat"}
    problems = broken(config, METRICS, lambda d: d["streams"].update({"session.started": gauge}))
    assert_reported(problems, "stream baseline 'session.started', field 'model': an entity stream")


def test_baseline_profile_must_exist(config: Path) -> None:
    problems = broken(
        config, METRICS, lambda d: d["streams"]["customer.app.opened"].update(profile="lunar")
    )
    assert_reported(
        problems, "stream baseline 'customer.app.opened', field 'profile': unknown profile"
    )


def test_gauge_base_must_lie_within_the_stream_bounds(config: Path) -> None:
    problems = broken(config, METRICS, lambda d: d["streams"]["system.uptime"].update(base=120))
    assert_reported(problems, "stream baseline 'system.uptime', field 'base'")


def test_gauge_load_must_name_a_known_stream(config: Path) -> None:
    problems = broken(
        config,
        METRICS,
        lambda d: d["streams"]["system.api.latency"]["load"].update(stream="system.api.calls"),
    )
    assert_reported(problems, "stream baseline 'system.api.latency', field 'load.stream': unknown")


def test_gauge_loads_must_not_loop(config: Path) -> None:
    def change(document: Json) -> None:
        load = {"stream": "system.api.latency", "elasticity": 0.1}
        document["streams"]["system.api.request"]["load"] = load

    problems = broken(config, METRICS, change)
    assert_reported(problems, "field 'load.stream': loads loop")


def test_profile_needs_twenty_four_values(config: Path) -> None:
    problems = broken(config, METRICS, lambda d: d["profiles"]["demand"]["weekday"].pop())
    assert_reported(problems, "baseline-metrics.json: profile 'demand', field 'weekday': needs 24")


def test_profile_must_average_about_one(config: Path) -> None:
    def change(document: Json) -> None:
        document["profiles"]["flat"]["weekend"] = [0.5] * 24

    problems = broken(config, METRICS, change)
    assert_reported(problems, "profile 'flat', field 'weekend': the 24 values average 0.500")


def test_probability_rate_cannot_exceed_one(config: Path) -> None:
    problems = broken(config, METRICS, lambda d: d["rates"]["csat_response"].update(value=1.3))
    assert_reported(problems, "baseline-metrics.json: rate 'csat_response', field 'value'")


def test_students_per_tutor_must_stay_between_one_and_eight(config: Path) -> None:
    problems = broken(config, METRICS, lambda d: d["population"].update(tutors=2000))
    assert_reported(problems, "baseline-metrics.json: population, field 'tutors': 18.0 students")


def test_cohort_shares_must_sum_to_one(config: Path) -> None:
    problems = broken(
        config, METRICS, lambda d: d["population"]["studentCohorts"][0].update(share=0.5)
    )
    assert_reported(problems, "population, field 'studentCohorts': shares sum to 1.35")


def test_cohort_churn_must_name_a_monthly_rate(config: Path) -> None:
    problems = broken(
        config,
        METRICS,
        lambda d: d["population"]["studentCohorts"][1].update(churnRate="csat_response"),
    )
    assert_reported(problems, "field 'studentCohorts[1].churnRate': rate 'csat_response' is in")


def test_session_volume_target_must_match_the_flow(config: Path) -> None:
    problems = broken(
        config, METRICS, lambda d: d["population"].update(sessionsPerActiveTutorPerDay=4.0)
    )
    assert_reported(problems, "population, field 'sessionsPerActiveTutorPerDay': the flow gives")


def test_churn_volume_must_match_the_cohorts(config: Path) -> None:
    problems = broken(
        config, METRICS, lambda d: d["streams"]["customer.account.churned"].update(ratePerHour=8.0)
    )
    assert_reported(problems, "population, field 'studentCohorts': the flow gives")


def test_calendar_period_needs_valid_dates(config: Path) -> None:
    problems = broken(config, METRICS, lambda d: d["calendar"]["periods"][0].update(start="02-30"))
    assert_reported(
        problems, "calendar period 'back-to-school', field 'start': expected a month-day"
    )


def test_calendar_period_needs_dates_or_a_rule(config: Path) -> None:
    problems = broken(
        config, METRICS, lambda d: by_id(d["calendar"]["periods"], "summer").pop("end")
    )
    assert_reported(problems, "calendar period 'summer': give either 'start' and 'end' or 'rule'")


def test_calendar_multipliers_name_known_profiles(config: Path) -> None:
    problems = broken(
        config,
        METRICS,
        lambda d: by_id(d["calendar"]["periods"], "summer")["multipliers"].update(beach=2),
    )
    assert_reported(
        problems, "calendar period 'summer', field 'multipliers.beach': unknown profile"
    )


def test_every_rate_must_be_used(config: Path) -> None:
    def change(document: Json) -> None:
        document["rates"]["spare_rate"] = {"value": 0.1, "unit": "probability", "description": "x"}

    problems = broken(config, METRICS, change)
    assert_reported(problems, "baseline-metrics.json: rate 'spare_rate': not used")


# stream-relationships.json -----------------------------------------------------------------------


def test_chain_outcome_must_name_a_known_stream(config: Path) -> None:
    def change(document: Json) -> None:
        chain(document, "booking-response")["outcomes"][1]["to"] = "customer.booking.refused"

    problems = broken(config, RELATIONSHIPS, change)
    assert_reported(
        problems,
        "stream-relationships.json: chain 'booking-response', field 'outcomes[1].to': "
        "unknown stream 'customer.booking.refused'",
    )


def test_exclusive_outcomes_must_sum_to_one(config: Path) -> None:
    problems = broken(config, METRICS, lambda d: d["rates"]["booking_expiry"].update(value=0.2))
    assert_reported(
        problems, "chain 'booking-response', field 'outcomes': exclusive outcomes must sum to 1"
    )


def test_remainder_lets_outcomes_sum_below_one_but_not_above(config: Path) -> None:
    problems = broken(
        config, METRICS, lambda d: d["rates"]["tutor_application_rejection"].update(value=0.7)
    )
    assert_reported(problems, "chain 'application-review', field 'outcomes': outcomes sum above 1")


def test_probability_must_name_an_existing_rate(config: Path) -> None:
    problems = broken(
        config,
        RELATIONSHIPS,
        lambda d: cascade(d, "session-rating").update(probability="rating_share"),
    )
    assert_reported(
        problems, "cascade 'session-rating', field 'probability': unknown rate 'rating_share'"
    )


def test_probability_must_name_a_probability_rate(config: Path) -> None:
    def change(document: Json) -> None:
        cascade(document, "session-rating")["probability"] = "support_resolution_median_hours"

    problems = broken(config, RELATIONSHIPS, change)
    assert_reported(problems, "cascade 'session-rating', field 'probability': rate")


def test_delay_min_must_not_exceed_max(config: Path) -> None:
    problems = broken(
        config,
        RELATIONSHIPS,
        lambda d: cascade(d, "payment-failure-ticket")["delay"].update(min="PT8H"),
    )
    assert_reported(problems, "cascade 'payment-failure-ticket', field 'delay.max': max")


def test_lognormal_delay_needs_a_median_inside_its_bounds(config: Path) -> None:
    def change(document: Json) -> None:
        chain(document, "booking-response")["outcomes"][0]["delay"]["median"] = "P2D"

    problems = broken(config, RELATIONSHIPS, change)
    assert_reported(problems, "chain 'booking-response', field 'outcomes[0].delay.median'")


def test_delay_rate_reference_must_be_in_hours(config: Path) -> None:
    def change(document: Json) -> None:
        delay = chain(document, "ticket-handling")["outcomes"][0]["delay"]
        delay["median"] = {"rate": "csat_response"}

    problems = broken(config, RELATIONSHIPS, change)
    assert_reported(
        problems, "chain 'ticket-handling', field 'outcomes[0].delay.median.rate': rate"
    )


def test_rule_may_only_produce_a_chain_model_stream(config: Path) -> None:
    problems = broken(
        config,
        RELATIONSHIPS,
        lambda d: cascade(d, "session-rating").update(to="customer.app.opened"),
    )
    assert_reported(
        problems, "cascade 'session-rating', field 'to': 'customer.app.opened' has its own"
    )


def test_rule_must_start_from_an_entity_stream(config: Path) -> None:
    problems = broken(
        config,
        RELATIONSHIPS,
        lambda d: cascade(d, "session-rating").update({"from": "system.api.latency"}),
    )
    assert_reported(
        problems, "cascade 'session-rating', field 'from': 'system.api.latency' is a sample"
    )


def test_chain_model_stream_must_be_produced_by_a_rule(config: Path) -> None:
    def change(document: Json) -> None:
        document["cascades"].remove(cascade(document, "ticket-csat"))

    problems = broken(config, RELATIONSHIPS, change)
    assert_reported(
        problems,
        "baseline-metrics.json: stream baseline 'support.csat.submitted', field 'model': "
        "chain-model, but no chain or cascade produces it",
    )


def test_chain_model_stream_must_be_reachable_from_a_root(config: Path) -> None:
    def change(document: Json) -> None:
        island = cascade(document, "referral-conversion")
        island.update({"id": "converted-again", "from": "marketing.referral.converted"})

    problems = broken(config, RELATIONSHIPS, change)
    assert_reported(
        problems,
        "stream baseline 'marketing.referral.converted', field 'model': chain-model, but not "
        "reachable from any Poisson root",
    )


def test_zero_delay_cycle_is_refused(config: Path) -> None:
    def change(document: Json) -> None:
        loop = {**cascade(document, "search-booking"), "id": "instant-research"}
        loop.update({"from": "customer.booking.requested", "to": "customer.tutor.search"})
        loop["delay"] = {"min": "PT0S", "max": "PT1M", "dist": "uniform"}
        cascade(document, "search-booking")["delay"] = {
            "min": "PT0S",
            "max": "PT1M",
            "dist": "uniform",
        }
        document["cascades"].append(loop)

    problems = broken(config, RELATIONSHIPS, change)
    assert_reported(problems, "field 'delay.min': zero-delay cycle customer.")


def test_exploding_loop_is_refused(config: Path) -> None:
    def change_rates(document: Json) -> None:
        rates = document["rates"]
        for name, value in (
            ("search_booking_conversion", 1.0),
            ("booking_confirmation", 0.05),
            ("booking_decline", 0.9),
            ("booking_expiry", 0.05),
            ("search_after_decline", 1.0),
        ):
            rates[name]["value"] = value

    def search_twice(document: Json) -> None:
        twice = {**cascade(document, "decline-search-again"), "id": "decline-search-twice"}
        document["cascades"].append(twice)

    edit(config, METRICS, change_rates)
    problems = broken(config, RELATIONSHIPS, search_twice)
    # search -> booking -> declined -> search twice: 1.0 x 0.9 x 2 = 1.8 (+ the expiry path);
    # over a 3-rule loop that is a radius of about 1.8 ** (1 / 3) = 1.22.
    assert_reported(problems, "stream-relationships.json: the rules explode (spectral radius 1.2")


def test_condition_must_test_a_field_of_the_cause(config: Path) -> None:
    problems = broken(
        config,
        RELATIONSHIPS,
        lambda d: cascade(d, "low-rating-ticket")["condition"].update(field="stars"),
    )
    assert_reported(
        problems, "cascade 'low-rating-ticket', field 'condition.field': 'session.rating.submitted'"
    )


def test_condition_value_must_be_a_value_of_the_field(config: Path) -> None:
    problems = broken(
        config,
        RELATIONSHIPS,
        lambda d: cascade(d, "billing-ticket-refund")["condition"].update(value="money"),
    )
    assert_reported(problems, "cascade 'billing-ticket-refund', field 'condition.value': 'money'")


def test_child_data_must_fit_the_caused_stream(config: Path) -> None:
    problems = broken(
        config,
        RELATIONSHIPS,
        lambda d: cascade(d, "payment-failure-ticket")["childData"].update(category="x"),
    )
    assert_reported(problems, "cascade 'payment-failure-ticket', field 'childData.category'")


def test_inherited_field_must_exist_on_the_cause(config: Path) -> None:
    def change(document: Json) -> None:
        fields = stream_entry(document, "support.ticket.created")["fields"]
        fields["sessionId"] = {"type": "id", "entity": "session", "source": "parent"}

    problems = broken(config, STREAMS, change)
    assert_reported(
        problems,
        "cascade 'chat-ticket', field 'to': 'support.ticket.created' inherits field 'sessionId'",
    )


def test_duplicate_rule_id_is_refused(config: Path) -> None:
    problems = broken(
        config, RELATIONSHIPS, lambda d: cascade(d, "ticket-csat").update(id="session-rating")
    )
    assert_reported(problems, "rule 'session-rating', field 'id': duplicate rule id")


def test_coupling_must_name_known_streams(config: Path) -> None:
    problems = broken(
        config,
        RELATIONSHIPS,
        lambda d: by_id(d["couplings"], "churn-risk-churn").update(driver="customer.risk"),
    )
    assert_reported(problems, "coupling 'churn-risk-churn', field 'driver': unknown stream")


def test_coupling_target_needs_exactly_one_of_stream_or_rate(config: Path) -> None:
    problems = broken(
        config, RELATIONSHIPS, lambda d: by_id(d["couplings"], "churn-risk-churn").update(target={})
    )
    assert_reported(problems, "coupling 'churn-risk-churn', field 'target': give exactly one")


def test_constant_rate_cannot_be_coupled(config: Path) -> None:
    problems = broken(
        config,
        RELATIONSHIPS,
        lambda d: by_id(d["couplings"], "churn-risk-churn").update(target={"rate": "certain"}),
    )
    assert_reported(problems, "coupling 'churn-risk-churn', field 'target.rate': rate 'certain'")


def test_capacity_must_limit_a_known_chain(config: Path) -> None:
    problems = broken(
        config,
        RELATIONSHIPS,
        lambda d: by_id(d["capacities"], "tutor-calendars").update(chain="booking-reply"),
    )
    assert_reported(problems, "capacity 'tutor-calendars', field 'chain': unknown chain")


def test_capacity_must_limit_an_outcome_of_its_chain(config: Path) -> None:
    problems = broken(
        config,
        RELATIONSHIPS,
        lambda d: by_id(d["capacities"], "tutor-calendars").update(outcome="session.completed"),
    )
    assert_reported(
        problems,
        "capacity 'tutor-calendars', field 'outcome': chain 'booking-response' has no outcome",
    )


def test_session_cap_must_leave_room_above_the_average(config: Path) -> None:
    problems = broken(
        config, METRICS, lambda d: d["population"].update(sessionCapPerActiveTutorPerDay=2.0)
    )
    assert_reported(
        problems, "population, field 'sessionCapPerActiveTutorPerDay': 2 leaves no room"
    )


def test_dependency_streams_must_carry_the_entity(config: Path) -> None:
    def change(document: Json) -> None:
        by_id(document["dependencies"], "student-signup-before-booking")["first"] = "system.uptime"

    problems = broken(config, RELATIONSHIPS, change)
    assert_reported(
        problems,
        "dependency 'student-signup-before-booking', field 'first': 'system.uptime' carries no "
        "student id",
    )


# external-events-library.json --------------------------------------------------------------------


def test_template_impact_must_name_a_known_stream(config: Path) -> None:
    def change(document: Json) -> None:
        by_id(document["templates"], "aws-outage")["expectedImpact"]["streams"][0]["stream"] = "x.y"

    problems = broken(config, LIBRARY, change)
    assert_reported(
        problems,
        "external-events-library.json: template 'aws-outage', field "
        "'expectedImpact.streams[0].stream'",
    )


def test_duplicate_template_id_is_refused(config: Path) -> None:
    problems = broken(
        config, LIBRARY, lambda d: by_id(d["templates"], "sat-exams").update(id="finals-week")
    )
    assert_reported(problems, "template 'finals-week', field 'id': duplicate template id")


def test_calendar_timing_needs_months(config: Path) -> None:
    problems = broken(
        config, LIBRARY, lambda d: by_id(d["templates"], "sat-exams")["timing"].pop("months")
    )
    assert_reported(problems, "template 'sat-exams', field 'timing.months'")


def test_magnitudes_must_grow_from_low_to_high(config: Path) -> None:
    problems = broken(config, LIBRARY, lambda d: d["magnitudes"].update(medium=3.0))
    assert_reported(problems, "external-events-library.json: magnitudes: expected low < medium")


def test_error_messages_read_as_one_line_each(config: Path) -> None:
    problems = broken(config, STREAMS, lambda d: stream_entry(d, "session.started").pop("unit"))
    assert problems == [
        "streams.json: stream 'session.started', field 'unit': required field is missing"
    ]
    assert all("\n" not in problem for problem in problems)
    json.dumps(problems)
