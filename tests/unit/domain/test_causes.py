"""The causes behind the data's changes: what each is called and what it acts on."""

from __future__ import annotations

import pytest

from app.domain.causes import source_title


@pytest.mark.parametrize(
    "data, title",
    [
        ({"title": "AWS outage", "name": "ignored"}, "AWS outage"),
        (
            {"scenarioId": "payment-outage", "name": "Payment Gateway Outage"},
            "Payment Gateway Outage",
        ),
        ({"scenarioId": "payment-outage"}, "payment-outage"),
        ({"stream": "customer.app.opened", "type": "multiplier"}, "customer.app.opened"),
        ({"runId": 3}, None),
    ],
    ids=["external", "scenario", "scenario-without-name", "modifier", "nothing-to-go-by"],
)
def test_a_logged_source_is_called_by_its_title_name_scenario_or_stream(data, title):
    assert source_title(data) == title
