"""The API answers the domain's refusals with one status per kind and one hint per code."""

from __future__ import annotations

import pytest
from flask import Flask

from app.api.errors import register_error_handlers
from app.domain.errors import NotNow, Refused, Unknown


def answer_to(refusal: Refused) -> tuple[int, dict]:
    app = Flask(__name__)
    register_error_handlers(app)

    @app.get("/refuse")
    def refuse() -> None:
        raise refusal

    response = app.test_client().get("/refuse")
    return response.status_code, response.json["error"]


def test_something_unknown_is_a_404_whose_hint_lists_what_exists():
    status, error = answer_to(
        Unknown("unknown_scenario", "there is no scenario 'x'", options=("a", "b"))
    )

    assert status == 404
    assert error["code"] == "unknown_scenario"
    assert error["message"] == "there is no scenario 'x'"
    assert error["hint"] == "use one of: a, b (GET /api/simulation/scenarios)"


def test_what_the_state_does_not_allow_now_is_a_409_with_what_to_do_instead():
    status, error = answer_to(NotNow("scenario_active", "scenario 'x' is active"))

    assert status == 409
    assert error["hint"].startswith("stop it with POST /api/simulation/stop")


@pytest.mark.parametrize(
    "code", ["unknown_modifier", "unknown_event", "no_active_scenario", "modifier_over"]
)
def test_each_refusal_the_domain_makes_has_a_hint_of_its_own(code):
    _, error = answer_to(NotNow(code, "refused"))

    assert error["hint"] != "see API.md"
