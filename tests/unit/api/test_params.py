"""Query parameters are read through the endpoint's documented model: what it does not
declare, what it declares differently and what comes twice is a 400 naming the parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from app.api.errors import ApiError
from app.api.params import query, time_range
from app.api.schemas import HistoryParams, RangeParams, StreamFilter

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
app = Flask(__name__)


def parsed(model, query_string: str):
    with app.test_request_context(f"/?{query_string}"):
        return query(model)


def refusal(model, query_string: str) -> ApiError:
    with pytest.raises(ApiError) as refused:
        parsed(model, query_string)
    assert (refused.value.status, refused.value.code) == (400, "invalid_parameter")
    return refused.value


def test_declared_parameters_are_read_into_the_model():
    params = parsed(HistoryParams, "start=2026-11-20&streams=customer.*&resolution=12h")

    assert (params.start, params.streams, params.resolution) == (
        "2026-11-20", "customer.*", "12h"
    )  # fmt: skip


def test_a_parameter_the_endpoint_does_not_take_is_refused_naming_those_it_does():
    error = refusal(RangeParams, "start=now&limit=10")

    assert error.field == "limit"
    assert error.hint == "use: start, end, range"


def test_a_parameter_given_twice_is_refused():
    assert refusal(StreamFilter, "domain=tutor&domain=customer").field == "domain"


def test_a_value_outside_a_documented_choice_is_refused_listing_the_choices():
    error = refusal(StreamFilter, "cadence=hourly")

    assert "'hourly'" in error.message
    assert error.hint == "use 'high', 'medium' or 'low'"


def test_a_time_not_in_the_documented_form_is_refused_with_an_example():
    error = refusal(RangeParams, "end=yesterday-ish")

    assert error.field == "end" and "2026-11-20T12:00:00Z" in error.hint


def test_range_words_give_the_range_they_name():
    with app.test_request_context("/?range=past%203%20days"):
        start, end = time_range(query(RangeParams), NOW, timedelta(days=7))

    assert end - start >= timedelta(days=3)


def test_start_and_end_default_to_the_span_before_now():
    with app.test_request_context("/"):
        assert time_range(query(RangeParams), NOW, timedelta(days=7)) == (
            NOW - timedelta(days=7), NOW
        )  # fmt: skip


@pytest.mark.parametrize(
    "query_string, field",
    [("range=today&start=now", "range"), ("start=2026-11-25&end=2026-11-20", "start")],
    ids=["range-with-start", "start-after-end"],
)
def test_a_range_that_contradicts_itself_is_refused(query_string, field):
    with app.test_request_context(f"/?{query_string}"), pytest.raises(ApiError) as refused:
        time_range(query(RangeParams), NOW, timedelta(days=7))

    assert refused.value.field == field
