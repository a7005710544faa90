"""The data inspector in a real browser: timelines drawn from the history API with the
normal band, anomalies and external-event markers, an event's measured impact, the 30-day
window, statistics, the live tail and the relationship views."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Api

EDGE = timedelta(hours=2)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _history(api: Api, domain: str, range_words: str) -> dict:
    return api.get(f"/api/simulation/history?streams={domain}.*&range={quote(range_words)}")


def _truth_class(event: dict) -> str:
    """A scenario's own events are recorded with actualImpact false (its modifiers carry the
    effect): they are marked as such, not as red herrings."""
    if event["actualImpact"]:
        return "causal"
    source = event["source"]
    return "scenario-event" if source["kind"] == "scenario" else "red-herring"


def _expected_markers(history: dict) -> list[tuple[str, str, str]]:
    """(stream, event id, causal) for each event a chart must mark, leaving out events within
    two hours of the window's edges (the page asks a moment later; the window may move)."""
    start = _time(history["timeRange"]["start"]) + EDGE
    end = _time(history["timeRange"]["end"]) - EDGE
    return [
        (stream, event["id"], _truth_class(event))
        for event in history["events"]
        if start <= _time(event["timestamp"]) <= end
        for stream in event["expectedImpact"]["streams"]
        if stream in history["streams"]
    ]


def _assert_markers(page: Page, history: dict) -> None:
    expected = _expected_markers(history)
    assert expected, "the window holds no external event to mark"
    for stream, event_id, truth in expected:
        marker = page.locator(f'.chart-card[data-stream="{stream}"] [data-event-id="{event_id}"]')
        expect(marker).to_have_count(1)
        expect(marker).to_have_class(re.compile(rf"\b{truth}\b"))


def test_timelines_show_the_band_anomalies_and_causal_and_red_herring_markers(
    inspector: Page, server_api: Api
):
    history = _history(server_api, "customer", "past 7 days")
    cards = inspector.locator(".chart-card")
    expect(cards).to_have_count(len(history["streams"]))
    for name, points in history["streams"].items():
        card = inspector.locator(f'.chart-card[data-stream="{name}"]')
        expect(card.locator("rect.band")).to_have_count(1)
        expect(card.locator("path.line")).to_have_count(1)
        critical = sum(1 for p in points if p["flag"] == "critical" and not p.get("partial"))
        if critical:
            expect(card.locator('circle[data-flag="critical"]')).not_to_have_count(0)
    _assert_markers(inspector, history)
    for truth in {truth for _, _, truth in _expected_markers(history)}:
        expect(inspector.locator(f".marker.{truth}").first).to_be_visible()


def test_an_event_marker_opens_the_events_measured_impact_by_keyboard(
    inspector: Page, server_api: Api
):
    marker = inspector.locator(".marker").first
    event_id = marker.get_attribute("data-event-id")
    event = server_api.get(f"/api/events/{event_id}/impact")
    marker.focus()
    inspector.keyboard.press("Enter")

    title = inspector.locator("#impact-title")
    expect(title).to_have_text(event["event"]["title"])
    expect(title).to_be_focused()
    truth = {"causal": "causal", "red-herring": "red herring", "scenario-event": "scenario"}
    expect(inspector.locator("#impact")).to_contain_text(truth[_truth_class(event["event"])])
    for row in event["streams"][:3]:
        expect(inspector.locator("#impact table")).to_contain_text(row["stream"])


def test_the_30_day_window_is_drawn_on_demand(inspector: Page, server_api: Api):
    inspector.get_by_label("Window").select_option("30")
    expect(inspector.locator("#timeline-title")).to_contain_text("past 30 days")
    history = _history(server_api, "customer", "past 30 days")
    _assert_markers(inspector, history)


def test_a_streams_statistics_and_live_tail(inspector: Page, server_api: Api):
    stream = "customer.app.opened"
    inspector.locator("#stream-nav").get_by_role("button", name=stream, exact=True).click()
    expect(inspector.locator("#stats-stream")).to_have_text(stream)
    mean = server_api.get(f"/api/baseline/statistics?streams={stream}")["streams"][stream]["mean"]
    shown = inspector.locator("#stats tr", has_text="Mean (").locator("td")
    expect(shown).to_have_text(re.compile(r"^[\d,]+(\.\d+)?$"))
    # the browser rounds 6,141.825 up where Python's float rounds it down: compare numbers
    assert float(shown.inner_text().replace(",", "")) == pytest.approx(mean, abs=0.006)
    expect(inspector.locator("#stats svg rect")).to_have_count(24)

    expect(inspector.locator("#tail-topic-name")).to_have_text(stream)
    rows = inspector.locator("#tail-rows tr[data-position]")
    expect(rows.first).to_be_visible(timeout=30_000)
    expect(rows.first).to_contain_text(stream)


def test_the_relationship_views_compare_requests_with_outcomes_and_completions_with_ratings(
    inspector: Page,
):
    bookings = inspector.locator("#rel-bookings")
    for stream in (
        "customer.booking.requested",
        "customer.booking.confirmed",
        "customer.booking.declined",
        "customer.booking.expired",
    ):
        expect(bookings.locator("table")).to_contain_text(stream)
    expect(bookings.locator("svg path")).to_have_count(4)
    ratings = inspector.locator("#rel-ratings")
    expect(ratings.locator("table")).to_contain_text("session.rating.submitted")
    expect(ratings.locator("table")).to_contain_text("%")
    expect(ratings.locator("svg path")).to_have_count(2)


def _wait_for_window(api: Api, stream: str, modifier: str, timeout: float = 600) -> None:
    """Until the ground truth has a window of `modifier` on `stream`: a change that starts in
    the last minutes of an hour moves that hour too little for a window, and the next hour is
    in the range only once it has begun (at 1x, up to a few minutes' wait)."""
    path = f"/api/ground-truth?streams={stream}&range={quote('past 7 days')}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(w["id"].startswith(f"{modifier}:") for w in api.get(path)["windows"]):
            return
        time.sleep(2)
    raise AssertionError(f"no ground-truth window of {modifier} on {stream} in {timeout:g} s")


@pytest.mark.parametrize(
    ("stream", "body", "kind"),
    [
        ("customer.app.opened", {"type": "spike", "value": 3, "duration": "PT1H"}, "spike"),
        ("customer.app.opened", {"type": "multiplier", "value": 2}, "level-shift"),
        ("customer.app.opened", {"type": "trend", "value": 3}, "trend"),
        ("customer.app.opened", {"type": "missing"}, "missing"),
        ("system.api.latency", {"type": "variance", "value": 3}, "variance"),
        ("system.queue.depth", {"type": "flatline"}, "flatline"),
        ("session.scheduled", {"type": "correlation-break"}, "correlation-break"),
        ("session.cancelled", {"type": "late", "value": 30}, "late"),
        ("system.api.latency", {"type": "out-of-order", "value": 10}, "out-of-order"),
        ("customer.app.opened", {"type": "duplicate", "value": 0.2}, "duplicate"),
        ("support.chat.started", {"type": "clock-skew", "value": -5}, "clock-skew"),
    ],
)  # fmt: skip
def test_a_modifiers_ground_truth_window_is_marked_on_its_timeline(
    inspector: Page, api: Api, stream: str, body: dict, kind: str
):
    """Each kind but `seasonality`, whose window at this hour of the day may take hours to
    come (flattening the profile moves nothing at an hour near the day's mean)."""
    applied = api.post("/api/simulation/modifiers", {"stream": stream, "duration": "PT2H", **body})
    modifier = applied["modifier"]["id"]
    _wait_for_window(api, stream, modifier)

    domain = stream.split(".")[0]
    inspector.locator(f'details[data-domain="{domain}"]').evaluate("d => { d.open = true; }")
    inspector.locator(f'[data-show-domain="{domain}"]').click()

    card = inspector.locator(f'.chart-card[data-stream="{stream}"]')
    window = card.locator(f'.truth-window[data-window-id^="{modifier}:"]')
    expect(window).to_have_count(1, timeout=60_000)
    expect(window).to_have_attribute("data-kind", kind)
    expect(window.locator("title")).to_contain_text(f"{kind} ({modifier})")


def test_a_scenarios_shape_is_marked_on_its_streams_timeline_with_its_kind(
    inspector: Page, api: Api
):
    """The payment outage widens the job queue's noise: the shape's window is the run's."""
    activated = api.post("/api/simulation/scenario", {"scenarioId": "payment-outage"})
    shape = f"{activated['scenario']['id']}:shape-1"
    _wait_for_window(api, "system.queue.depth", shape)

    inspector.locator('details[data-domain="system"]').evaluate("d => { d.open = true; }")
    inspector.locator('[data-show-domain="system"]').click()

    card = inspector.locator('.chart-card[data-stream="system.queue.depth"]')
    window = card.locator(f'.truth-window[data-window-id^="{shape}:"]')
    expect(window).to_have_count(1, timeout=60_000)
    expect(window).to_have_attribute("data-kind", "variance")
    expect(window.locator("title")).to_contain_text(f"variance ({activated['scenario']['id']})")
