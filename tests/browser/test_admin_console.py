"""The admin console in a real browser: scenarios, stop, reset, clock, injected events and
modifiers, saved scenarios, all reaching the state panel without a reload."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Api

SCENARIO = "payment-outage"
SCENARIO_NAME = "Payment Gateway Outage"
TIMES = "\u00d7"  # the multiplication sign the pages write multipliers and speeds with
SIGMA = "\u03c3"  # the sign a change given in standard deviations is written with


def _mark_page(page: Page) -> None:
    """Leave a mark that a reload would wipe out."""
    page.evaluate("window.__notReloaded = true")


def _not_reloaded(page: Page) -> bool:
    return page.evaluate("window.__notReloaded === true")


def _open_advanced(page: Page) -> None:
    page.locator("#advanced > summary").click()
    expect(page.locator("#inject-form")).to_be_visible()


def test_activating_a_scenario_turns_the_panel_active_and_disables_every_activate(
    console: Page, api: Api, artifacts: Path
):
    scenarios = api.get("/api/simulation/scenarios")["scenarios"]
    buttons = console.locator("button.activate")
    expect(buttons).to_have_count(len(scenarios))
    expect(console.locator("#state-status")).to_have_text("Baseline")
    expect(console.locator("#stop-button")).to_be_disabled()
    _mark_page(console)

    console.locator(f'button.activate[data-scenario="{SCENARIO}"]').click()

    expect(console.locator(f"#scenario-{SCENARIO}-message")).to_contain_text("Activated")
    expect(console.locator("#state-status")).to_have_text("Running")
    expect(console.locator("#state-scenario-name")).to_have_text(SCENARIO_NAME)
    expect(console.locator("#state-scenario")).to_contain_text("active")
    for index in range(len(scenarios)):
        expect(buttons.nth(index)).to_be_disabled()
    expect(console.locator("#stop-button")).to_be_enabled()
    expect(console.locator("#state-streams")).to_contain_text("system.payment.gateway.latency")
    assert _not_reloaded(console)
    console.screenshot(path=artifacts / "admin-running-1280.png", full_page=True)


def test_an_activation_from_elsewhere_reaches_the_panel_through_the_feed(console: Page, api: Api):
    _mark_page(console)
    api.post("/api/simulation/scenario", {"scenarioId": "supply-crisis"})
    # The page re-reads the state on its own only every 15 s; the feed's notice is faster.
    expect(console.locator("#state-status")).to_have_text("Running", timeout=8_000)
    expect(console.locator("#state-scenario-name")).to_have_text("Supply Crisis", timeout=8_000)
    expect(console.locator('button.activate[data-scenario="supply-crisis"]')).to_have_text("Active")
    assert _not_reloaded(console)


def test_a_scenarios_card_lists_the_anomalies_and_faults_it_makes(console: Page):
    outage = console.locator('article[data-scenario="payment-outage"] .scenario-anomaly')
    expect(outage).to_have_count(1)
    expect(outage).to_have_attribute("data-kind", "variance")
    expect(outage).to_contain_text(f"system.queue.depth noise {TIMES}3")
    overload = console.locator('article[data-scenario="support-overload"] .scenario-anomaly')
    expect(overload).to_have_attribute("data-kind", "late")
    expect(overload).to_contain_text("support.csat.submitted arrives 30 min late")
    expect(
        console.locator('article[data-scenario="supply-crisis"] .scenario-anomaly')
    ).to_have_count(0)


def test_a_refused_activation_shows_the_api_error_on_its_card(console: Page, api: Api):
    api.post("/api/simulation/scenario", {"scenarioId": SCENARIO})
    expect(console.locator("#state-status")).to_have_text("Running")
    # The buttons are disabled while one is active: enable one and click it in the same
    # task (before the next state refresh disables it again) to reach the API's refusal.
    card = console.locator('article[data-scenario="supply-crisis"]')
    card.locator("button.activate").evaluate(
        "button => { button.disabled = false; button.click(); }"
    )
    expect(card.locator(".message")).to_contain_text("scenario_active")
    expect(card.locator(".message")).to_contain_text(f"'{SCENARIO}' is active")


def test_stop_shows_settling_and_when_it_will_be_settled(console: Page, api: Api):
    api.post("/api/simulation/scenario", {"scenarioId": SCENARIO})
    expect(console.locator("#state-status")).to_have_text("Running")
    _mark_page(console)

    console.locator("#stop-button").click()

    expect(console.locator("#state-status")).to_have_text("Settling")
    expect(console.locator("#stop-message")).to_contain_text("settled by")
    expect(console.locator("#stop-note")).to_contain_text(f"{SCENARIO_NAME} is settling")
    expect(console.locator("#state-scenario")).to_contain_text("settling")
    expect(console.locator("#stop-button")).to_be_disabled()
    expect(console.locator("button.activate").first).to_be_enabled()
    assert _not_reloaded(console)


def test_reset_asks_for_confirmation_listing_what_it_clears_then_shows_baseline(
    console: Page, api: Api, artifacts: Path
):
    api.post("/api/simulation/scenario", {"scenarioId": SCENARIO})
    modifier = api.post(
        "/api/simulation/modifiers",
        {"stream": "customer.app.opened", "type": "multiplier", "value": 3, "duration": "PT2H"},
    )["modifier"]
    epoch = api.get("/api/simulation/state")["epoch"]
    console.reload()
    expect(console.locator("#state-status")).to_have_text("Running")

    console.locator("#reset-button").click()
    dialog = console.locator("#reset-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(SCENARIO_NAME)
    expect(dialog).to_contain_text(modifier["id"])
    expect(dialog).to_contain_text(f"epoch {epoch + 1} begins")
    console.screenshot(path=artifacts / "admin-reset-dialog-1280.png")
    console.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(console.locator("#state-status")).to_have_text("Running")

    console.locator("#reset-button").click()
    console.locator("#reset-confirm").click()

    expect(dialog).to_be_hidden()
    expect(console.locator("#state-status")).to_have_text("Baseline")
    expect(console.locator("#state-epoch")).to_have_text(str(epoch + 1))
    expect(console.locator("#state-streams")).to_contain_text("No stream is being modified")


def test_the_clock_speed_control_changes_the_speed(console: Page, api: Api):
    console.locator('[data-speed="60"]').click()
    expect(console.locator("#state-speed")).to_have_text(f"60{TIMES}")
    assert api.get("/api/simulation/clock")["speed"] == 60

    refusal = api.refusal("/api/simulation/clock", {"speed": 0})
    speed = console.get_by_label("Speed", exact=True)
    speed.fill("0")
    console.locator("#clock-form button[type=submit]").click()
    expect(speed).to_have_attribute("aria-invalid", "true")
    expect(speed).to_have_accessible_description(re.compile(re.escape(refusal)))
    assert api.get("/api/simulation/clock")["speed"] == 60


def test_an_injected_event_appears_in_the_panel(console: Page, api: Api):
    _open_advanced(console)
    form = console.locator("#inject-form")
    form.get_by_label("Title").fill("Office flood")
    form.get_by_label("Type").select_option("operational")
    form.get_by_label("Severity").select_option("critical")
    form.get_by_label("Stream 1", exact=True).select_option("support.chat.started")
    form.get_by_label("Direction of stream 1").select_option("decrease")
    form.get_by_label("Magnitude of stream 1").select_option("high")
    form.get_by_label("Duration (hours)").fill("3")
    expect(console.locator("#inject-preview")).to_contain_text("Office flood")
    expect(console.locator("#inject-preview")).to_contain_text("support.chat.started ↓ high")
    _mark_page(console)

    form.get_by_role("button", name="Inject event").click()

    expect(console.locator("#inject-message")).to_contain_text("Injected evt-")
    event = console.locator("#state-events .event-item", has_text="Office flood")
    expect(event).to_be_visible()
    expect(event).to_contain_text("critical")
    expect(event).to_contain_text("support.chat.started ↓ high")
    assert _not_reloaded(console)
    titles = [e["title"] for e in api.get("/api/simulation/state")["activeEvents"]]
    assert "Office flood" in titles


def test_the_template_list_offers_the_whole_library_and_previews_a_template(
    console: Page, api: Api
):
    library = api.get("/api/events/templates")["templates"]
    outage = next(t for t in library if t["template"] == "aws-outage")
    _open_advanced(console)
    options = console.locator("#template-list option")
    expect(options).to_have_count(len(library))
    form = console.locator("#inject-form")

    form.locator("#inject-template").fill("aws-outage")

    preview = console.locator("#inject-preview")
    expect(preview).to_contain_text(f"{outage['title']} ({outage['severity']})")
    expect(preview).to_contain_text(outage["expectedImpact"]["streams"][0])
    form.get_by_role("button", name="Inject event").click()
    expect(console.locator("#inject-message")).to_contain_text("Injected evt-")
    titles = [e["title"] for e in api.get("/api/simulation/state")["activeEvents"]]
    assert outage["title"] in titles


def test_a_rejected_injection_shows_the_api_error_at_its_field(console: Page, api: Api):
    _open_advanced(console)
    form = console.locator("#inject-form")
    form.get_by_label("Type").select_option("operational")
    no_title = json.loads(console.locator("#inject-body").text_content())
    form.get_by_role("button", name="Inject event").click()

    # No title: the API names the field, and its message sits at the title's control.
    title = form.get_by_label("Title")
    expect(title).to_have_attribute("aria-invalid", "true")
    refusal = api.refusal("/api/events", no_title)
    expect(title).to_have_accessible_description(re.compile(re.escape(refusal)))
    expect(form.locator(".field-error")).to_have_count(1)
    expect(title).to_be_focused()

    title.fill("Far future")
    time_input = form.get_by_label("Time (simulated, UTC)")
    time_input.fill("2099-01-01T00:00")
    far_future = json.loads(console.locator("#inject-body").text_content())
    form.get_by_role("button", name="Inject event").click()
    expect(time_input).to_have_attribute("aria-invalid", "true")
    refusal = api.refusal("/api/events", far_future)
    expect(time_input).to_have_accessible_description(re.compile(re.escape(refusal)))
    expect(form.locator(".field-error")).to_have_count(1)
    expect(title).not_to_have_attribute("aria-invalid", "true")
    assert api.get("/api/simulation/state")["activeEvents"] == []


def test_a_stream_modifier_with_preview_reaches_the_panel(console: Page, api: Api):
    _open_advanced(console)
    form = console.locator("#modifier-form")
    form.get_by_label("Stream").select_option("customer.app.opened")
    form.get_by_label("Change").select_option("multiplier")
    form.get_by_label("Value").fill("4")
    form.get_by_label("Duration (hours)").fill("2")
    expect(console.locator("#modifier-preview")).to_contain_text("Baseline mean")
    expect(console.locator("#modifier-preview")).to_contain_text(f"{TIMES}4 for 2 h")

    form.get_by_role("button", name="Apply modifier").click()

    expect(console.locator("#modifier-message")).to_contain_text("Applied mod-")
    expect(console.locator("#state-streams")).to_contain_text("customer.app.opened")
    expect(console.locator("#state-streams")).to_contain_text(f"{TIMES}4")


@pytest.mark.parametrize(
    ("stream", "kind", "value", "hours", "says"),
    [
        ("customer.app.opened", "spike", "5", "0.25", f"spikes to {TIMES}5"),
        ("customer.app.opened", "trend", "3", "12", f"drifts from {TIMES}1 to {TIMES}3"),
        ("customer.app.opened", "missing", "", "1", "stops (nothing arrives)"),
        ("system.queue.depth", "missing", "", "1", "stops (nothing arrives)"),
        ("system.api.latency", "variance", "3", "2", f"noise {TIMES}3"),
        ("system.queue.depth", "flatline", "", "1", "holds its last sample"),
        ("customer.app.opened", "seasonality", "1", "24", "loses its daily shape"),
        ("session.scheduled", "correlation-break", "", "6", "stops following its causes"),
        ("session.cancelled", "late", "30", "2", "arrives 30 min late"),
        ("system.api.latency", "out-of-order", "10", "2", "arrives up to 10 min late, out of"),
        ("customer.app.opened", "duplicate", "0.1", "1", "has 10% of its events delivered"),
        ("support.chat.started", "clock-skew", "-5", "1", "is stamped 5 min behind"),
    ],
)
def test_the_form_applies_each_shaped_anomaly_and_the_panel_says_what_it_does(
    console: Page, api: Api, stream: str, kind: str, value: str, hours: str, says: str
):
    _open_advanced(console)
    form = console.locator("#modifier-form")
    form.get_by_label("Stream").select_option(stream)
    form.get_by_label("Change").select_option(kind)
    if value:
        form.get_by_label("Value").fill(value)
    else:
        expect(form.get_by_label("Value")).to_be_disabled()
    form.get_by_label("Duration (hours)").fill(hours)
    expect(console.locator("#modifier-preview")).to_contain_text(says)

    form.get_by_role("button", name="Apply modifier").click()

    expect(console.locator("#modifier-message")).to_contain_text("Applied mod-")
    expect(console.locator("#state-streams")).to_contain_text(says)
    (applied,) = api.get("/api/simulation/state")["activeModifiers"]
    assert (applied["type"], applied["kind"]) == (kind, kind)


def test_the_form_gives_a_spike_in_the_streams_deviations_and_the_panel_shows_both(
    console: Page, api: Api
):
    _open_advanced(console)
    form = console.locator("#modifier-form")
    form.get_by_label("Stream").select_option("customer.app.opened")
    form.get_by_label("Change").select_option("spike")
    form.get_by_label("Value", exact=True).fill("5")
    form.get_by_label("Given in").select_option("sigma")
    form.get_by_label("Duration (hours)").fill("0.25")
    preview = console.locator("#modifier-preview")
    expect(preview).to_contain_text(f"spikes by +5{SIGMA} at that hour")

    form.get_by_role("button", name="Apply modifier").click()

    expect(console.locator("#modifier-message")).to_contain_text("Applied mod-")
    expect(console.locator("#state-streams")).to_contain_text(f"(+5{SIGMA})")
    (applied,) = api.get("/api/simulation/state")["activeModifiers"]
    assert applied["sigma"] == 5.0 and applied["value"] > 1


def test_a_modifier_ended_from_the_panel_leaves_it_and_is_recorded(console: Page, api: Api):
    modifier = api.post(
        "/api/simulation/modifiers",
        {"stream": "support.chat.started", "type": "multiplier", "value": 3, "duration": "PT4H"},
    )["modifier"]
    streams = console.locator("#state-streams")
    expect(streams).to_contain_text(modifier["id"])

    streams.get_by_role("button", name=f"End {modifier['id']} on support.chat.started now").click()

    expect(console.locator("#modifier-end-message")).to_contain_text(f"Ended {modifier['id']}")
    expect(streams).to_contain_text("No stream is being modified.")
    assert api.get("/api/simulation/state")["activeModifiers"] == []


def test_saved_scenarios_save_export_import_and_apply(console: Page, api: Api, tmp_path: Path):
    api.post(
        "/api/simulation/modifiers",
        {"stream": "support.chat.started", "type": "multiplier", "value": 2, "duration": "PT1H"},
    )
    console.reload()
    expect(console.locator("#state-streams")).to_contain_text("support.chat.started")
    _open_advanced(console)
    console.get_by_label("Name", exact=True).fill("busy support")
    console.get_by_role("button", name="Save current").click()
    expect(console.locator("#saved-message")).to_contain_text("1 modifier")

    with console.expect_download() as download:
        console.get_by_role("button", name="Export busy support").click()
    exported = tmp_path / "exported.json"
    download.value.save_as(exported)
    body = json.loads(exported.read_text())
    assert body["scenarios"][0]["modifiers"][0]["stream"] == "support.chat.started"

    console.get_by_role("button", name="Delete busy support").click()
    expect(console.locator("#saved-list")).to_contain_text("Nothing saved")
    console.get_by_label("Import JSON").set_input_files(exported)
    expect(console.locator("#saved-message")).to_contain_text("Imported 1 saved scenario")

    api.post("/api/simulation/reset")
    expect(console.locator("#state-streams")).to_contain_text("No stream is being modified")
    console.get_by_role("button", name="Apply busy support").click()
    expect(console.locator("#saved-message")).to_contain_text("1 of 1 requests succeeded")
    expect(console.locator("#state-streams")).to_contain_text(re.compile(r"support\.chat\.started"))
