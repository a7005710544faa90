"""An invalid scenario is reported and skipped while the others load; each scenario rule is
proven on a broken copy of scenario-definitions.json."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from app.domain.catalog import load_catalog

from .catalog_support import (
    CONFIG_DIR,
    Json,
    assert_reported,
    by_id,
    copy_config,
    edit,
    skipped_problems,
)

SCENARIOS = "scenario-definitions.json"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return copy_config(tmp_path)


def scenario(document: Json, scenario_id: str) -> Json:
    return by_id(document["scenarios"], scenario_id)


def skipped(config: Path, scenario_id: str, change: Callable[[Json], object]) -> list[str]:
    """Break one scenario; it must be skipped and the eight others still load."""
    edit(config, SCENARIOS, lambda d: change(scenario(d, scenario_id)))
    catalog, problems = skipped_problems(config)
    assert scenario_id not in catalog.scenarios
    assert len(catalog.scenarios) == 8
    return problems


def test_invalid_scenario_is_skipped_and_reported_while_the_others_load(config: Path) -> None:
    def change(entry: Json) -> None:
        entry["modifiers"][0]["target"]["stream"] = "tutor.availibility.updated"

    problems = skipped(config, "supply-crisis", change)
    assert problems == [
        "scenario-definitions.json: scenario 'supply-crisis', field 'modifiers[0].target.stream': "
        "unknown stream 'tutor.availibility.updated'"
    ]


def test_scenario_missing_a_required_field_is_skipped(config: Path) -> None:
    problems = skipped(config, "exam-season-surge", lambda s: s.pop("settling"))
    assert_reported(
        problems, "scenario 'exam-season-surge', field 'settling': required field is missing"
    )


def test_unreadable_scenario_file_leaves_no_scenarios_but_the_service_runs(config: Path) -> None:
    (config / SCENARIOS).write_text("{", encoding="utf-8")
    catalog, problems = skipped_problems(config)
    assert catalog.scenarios == {}
    assert len(catalog.streams) >= 50
    assert_reported(problems, "scenario-definitions.json: invalid JSON")


def test_multiplier_must_be_positive(config: Path) -> None:
    problems = skipped(config, "churn-pattern", lambda s: s["modifiers"][0].update(value=0))
    assert_reported(
        problems, "scenario 'churn-pattern', field 'modifiers[0].value': a multiplier must be > 0"
    )


def test_modifier_rate_must_exist(config: Path) -> None:
    def change(entry: Json) -> None:
        entry["modifiers"][0]["target"] = {"rate": "payment_failures"}

    problems = skipped(config, "payment-outage", change)
    assert_reported(
        problems,
        "scenario 'payment-outage', field 'modifiers[0].target.rate': unknown rate "
        "'payment_failures'",
    )


def test_constant_rate_cannot_be_modified(config: Path) -> None:
    problems = skipped(
        config, "quality-crisis", lambda s: s["modifiers"][0].update(target={"rate": "certain"})
    )
    assert_reported(problems, "field 'modifiers[0].target.rate': rate 'certain' is a constant")


def test_chain_model_stream_takes_only_multipliers(config: Path) -> None:
    def change(entry: Json) -> None:
        entry["modifiers"].append(
            {"target": {"stream": "support.ticket.created"}, "type": "additive", "value": 20}
        )

    problems = skipped(config, "support-overload", change)
    assert_reported(problems, "field 'modifiers[6].type': 'support.ticket.created' is produced")


def test_probability_override_must_stay_within_zero_and_one(config: Path) -> None:
    problems = skipped(config, "payment-outage", lambda s: s["modifiers"][0].update(value=1.5))
    assert_reported(
        problems, "scenario 'payment-outage', field 'modifiers[0].value': a probability"
    )


def test_probability_shift_targets_a_rate_not_a_stream(config: Path) -> None:
    problems = skipped(
        config, "exam-season-surge", lambda s: s["modifiers"][0].update(type="probabilityShift")
    )
    assert_reported(problems, "field 'modifiers[0].type': a probability shift targets a rate")


def test_two_overrides_of_one_target_need_different_precedence(config: Path) -> None:
    def change(entry: Json) -> None:
        twin = dict(entry["modifiers"][0], value=0.9)
        entry["modifiers"].append(twin)

    problems = skipped(config, "payment-outage", change)
    assert_reported(problems, "field 'modifiers': two overrides of rate 'payment_failure'")


def test_cascade_rule_must_start_before_the_scenario_ends(config: Path) -> None:
    problems = skipped(
        config, "support-overload", lambda s: s["cascadeRules"][0].update(after="P1D")
    )
    assert_reported(problems, "field 'cascadeRules[0].after': starts after the scenario's end")


def test_cascade_rule_target_must_exist(config: Path) -> None:
    problems = skipped(
        config,
        "supply-crisis",
        lambda s: s["cascadeRules"][0]["target"].update(stream="support.tickets"),
    )
    assert_reported(problems, "field 'cascadeRules[0].target.stream': unknown stream")


def test_injected_event_must_name_a_library_template(config: Path) -> None:
    problems = skipped(config, "payment-outage", lambda s: s["events"][0].update(template="x-y"))
    assert_reported(
        problems, "scenario 'payment-outage', field 'events[0].template': unknown template 'x-y'"
    )


def test_exponential_settling_needs_a_half_life(config: Path) -> None:
    problems = skipped(config, "quality-crisis", lambda s: s["settling"].pop("halfLife"))
    assert_reported(problems, "field 'settling.halfLife': an exponential settling needs")


def test_only_an_immediate_settling_has_a_backlog(config: Path) -> None:
    problems = skipped(config, "payment-outage", lambda s: s["settling"].update(curve="linear"))
    assert_reported(problems, "field 'settling.backlog': only an immediate settling")


def test_backlog_streams_must_exist(config: Path) -> None:
    problems = skipped(
        config,
        "payment-outage",
        lambda s: s["settling"]["backlog"]["streams"].append("customer.payments"),
    )
    assert_reported(problems, "field 'settling.backlog.streams[3]': unknown stream")


def test_a_held_back_fault_of_delivery_only_acts_on_a_stream_that_causes_nothing(
    config: Path,
) -> None:
    def hold_searches(entry: Json) -> None:
        entry["deliveries"] = [{"stream": "customer.tutor.search", "type": "late", "value": 20}]

    problems = skipped(config, "support-overload", hold_searches)
    assert_reported(problems, "field 'deliveries[0].stream': 'customer.tutor.search' causes")


def test_a_fault_of_delivery_takes_a_value_in_its_own_range(config: Path) -> None:
    problems = skipped(
        config, "support-overload", lambda s: s["deliveries"][0].update(type="duplicate")
    )  # a share of 30
    assert_reported(problems, "field 'deliveries[0].value': a duplicate's value is the share")


def test_a_shape_in_a_scenario_is_read_with_its_start_and_length() -> None:
    (shape,) = load_catalog(CONFIG_DIR).scenario("payment-outage").shapes
    assert (shape.stream, shape.type, shape.value) == ("system.queue.depth", "variance", 3.0)
    assert shape.after == timedelta(0) and shape.duration is None  # as long as the run acts


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        (
            {"stream": "customer.app.opened", "type": "variance", "value": 3},
            "field 'shapes[0].type': 'customer.app.opened' counts events: a variance changes",
        ),
        (
            {"stream": "session.scheduled", "type": "seasonality", "value": 1},
            "field 'shapes[0].type': 'session.scheduled' is produced by other streams' events",
        ),
        (
            {"stream": "system.api.latency", "type": "seasonality", "value": 1},
            "field 'shapes[0].stream': 'system.api.latency' keeps one level all day",
        ),
        (
            {"stream": "customer.app.opened", "type": "correlation-break"},
            "field 'shapes[0].type': 'customer.app.opened' is not made by other streams' events",
        ),
        (
            {"stream": "customer.app.opened", "type": "missing", "value": 0},
            "field 'shapes[0].value': a missing takes no value",
        ),
        (
            {"stream": "customer.app.opened", "type": "spike", "value": 1},
            "field 'shapes[0].value': a spike to x1 changes nothing",
        ),
        (
            {"stream": "customer.app.opened", "type": "spike", "value": 4},
            "field 'shapes[0].duration': a spike lasts at most 1 hour",  # the run's 3 hours
        ),
        (
            {"stream": "customer.app.opened", "type": "trend", "value": 2, "after": "PT3H"},
            "field 'shapes[0].after': starts after the scenario's end",
        ),
        (
            {"stream": "customer.app.opened", "type": "missing", "duration": "PT0S"},
            "field 'shapes[0].duration': must be longer than zero",
        ),
        (
            {"stream": "customer.payments", "type": "missing"},
            "field 'shapes[0].stream': unknown stream 'customer.payments'",
        ),
    ],
)
def test_a_scenarios_shape_meets_the_rules_of_a_manual_modifier_of_its_type(
    config: Path, shape: Json, expected: str
) -> None:
    problems = skipped(config, "payment-outage", lambda s: s.update(shapes=[shape]))
    assert_reported(problems, expected)


def test_duplicate_scenario_id_keeps_the_first(config: Path) -> None:
    def change(document: Json) -> None:
        document["scenarios"].append(dict(scenario(document, "normal-operations"), name="Again"))

    edit(config, SCENARIOS, change)
    catalog, problems = skipped_problems(config)
    assert catalog.scenario("normal-operations").name == "Normal Operations"
    assert_reported(problems, "scenario 'normal-operations', field 'id': duplicate scenario id")


def test_normal_operations_is_valid_without_modifiers() -> None:
    normal = load_catalog(CONFIG_DIR).scenario("normal-operations")
    assert normal.modifiers == () and normal.cascade_rules == () and normal.events == ()


def test_shipped_scenarios_settle_as_the_spec_describes() -> None:
    catalog = load_catalog(CONFIG_DIR)
    surge = catalog.scenario("exam-season-surge").settling
    assert surge.curve == "linear" and timedelta(hours=6) <= surge.duration <= timedelta(hours=12)
    outage = catalog.scenario("payment-outage").settling
    assert outage.curve == "immediate" and outage.backlog is not None
    assert outage.backlog.duration == timedelta(hours=2)
    quality = catalog.scenario("quality-crisis").settling
    assert quality.curve == "exponential" and quality.duration >= timedelta(days=2)
    supply = catalog.scenario("supply-crisis").cascade_rules[0]
    assert supply.after == timedelta(hours=2) and supply.value == 1.4
