"""Topics: parsing, normalization, and which events each kind of topic matches."""

from __future__ import annotations

import pytest

from app.domain.events import is_anomalous
from app.ws.topics import (
    Subscription,
    TopicCatalog,
    UnknownTopics,
    only_new,
    resolve_topics,
)

CATALOG = TopicCatalog.build(
    {
        "customer.tutor.search": ("customer", "high"),
        "customer.booking.requested": ("customer", "medium"),
        "tutor.payout.sent": ("tutor", "low"),
        "session.started": ("session", "high"),
    },
    {"high": "high-frequency", "medium": "medium-frequency", "low": "low-frequency"},
)


def sub(*topics: str) -> Subscription:
    return Subscription.of(resolve_topics(topics, CATALOG), CATALOG)


def stream(name: str, anomalous: bool = False) -> tuple[str, str, bool]:
    return ("stream", name, anomalous)


def test_star_matches_every_stream_event_and_every_notice():
    everything = sub("*")
    assert everything.matches(*stream("tutor.payout.sent"))
    assert everything.matches(*stream("not.in.the.catalog"))
    assert everything.matches("scenario", None, None)


def test_a_domain_matches_only_the_streams_of_that_domain():
    customers = sub("customer.*")
    assert customers.matches(*stream("customer.tutor.search"))
    assert customers.matches(*stream("customer.booking.requested"))
    assert not customers.matches(*stream("session.started"))


def test_a_frequency_group_matches_the_streams_of_its_cadence():
    high = sub("high-frequency")
    assert high.matches(*stream("customer.tutor.search"))
    assert high.matches(*stream("session.started"))
    assert not high.matches(*stream("customer.booking.requested"))
    assert sub("low-frequency").matches(*stream("tutor.payout.sent"))


def test_a_stream_name_matches_that_stream_alone():
    one = sub("customer.booking.requested")
    assert one.matches(*stream("customer.booking.requested"))
    assert not one.matches(*stream("customer.tutor.search"))


def test_anomalies_match_anomalous_events_of_any_stream():
    anomalies = sub("anomalies")
    assert anomalies.matches(*stream("session.started", anomalous=True))
    assert anomalies.matches(*stream("tutor.payout.sent", anomalous=True))
    assert not anomalies.matches(*stream("session.started"))


def test_an_event_is_anomalous_when_nothing_explains_it_or_a_recorded_cause_moved_it():
    assert is_anomalous("normal", "warning", None), "nothing known explains it"
    assert is_anomalous("critical", "normal", 42), "a scenario moved it out of its range"
    assert not is_anomalous("critical", "normal", None), "the season, or the month's events"
    assert not is_anomalous("normal", "normal", 42), "moved, but within its usual range"
    assert not is_anomalous("warning", None, None), "recorded before expectations"


def test_notices_reach_every_non_empty_subscription_and_an_empty_one_matches_nothing():
    assert sub("tutor.payout.sent").matches("external", None, None, "external.outage")
    assert sub("anomalies").matches("control", None, None, "control.reset")
    assert sub("anomalies").matches("control", None, None, "control.clock")
    assert not Subscription().matches("scenario", None, None, "scenario.activated")
    assert not Subscription().matches(*stream("session.started"))


def test_the_simulators_bookkeeping_events_are_never_sent():
    everything = sub("*")
    assert not everything.matches("control", None, None, "control.tick")
    assert not everything.matches("control", None, None, "control.scheduled")


def test_topics_are_normalized_and_repeats_dropped():
    assert resolve_topics(
        ["  Customer.*", "HIGH-FREQUENCY", "customer.*", " Anomalies "], CATALOG
    ) == ("customer.*", "high-frequency", "anomalies")


def test_every_unknown_topic_is_named_as_the_client_wrote_it():
    with pytest.raises(UnknownTopics) as raised:
        resolve_topics(["customer.*", "Nope.*", "customer", "session.start"], CATALOG)
    assert raised.value.topics == ("Nope.*", "customer", "session.start")
    assert "Nope.*" in str(raised.value)


def test_plus_and_minus_change_topics_and_what_they_match():
    both = sub("customer.*").plus(["session.started"], CATALOG)
    assert both.topics == ("customer.*", "session.started")
    assert both.matches(*stream("session.started"))
    fewer = both.minus(["customer.*"], CATALOG)
    assert fewer.topics == ("session.started",)
    assert not fewer.matches(*stream("customer.tutor.search"))


def test_only_new_matches_what_the_added_topics_bring_and_no_notices_twice():
    old = sub("customer.*")
    new = old.plus(["high-frequency"], CATALOG)
    fresh = only_new(old, new)
    assert fresh(*stream("session.started"))
    assert not fresh(*stream("customer.tutor.search"))  # already delivered under customer.*
    assert not fresh("scenario", None, None)  # notices already went out live
    assert only_new(Subscription(), old)("scenario", None, None)


def test_snapshot_streams_are_the_covered_streams_in_catalog_order():
    assert sub("high-frequency", "tutor.payout.sent").snapshot_streams(CATALOG) == (
        "customer.tutor.search",
        "tutor.payout.sent",
        "session.started",
    )
    assert sub("*").snapshot_streams(CATALOG) == CATALOG.streams
    assert sub("anomalies").snapshot_streams(CATALOG) == ()


def test_the_real_catalog_gives_every_domain_and_frequency_group_a_topic():
    from app.domain.catalog import load_catalog
    from app.settings import PROJECT_ROOT

    catalog = TopicCatalog.from_catalog(load_catalog(PROJECT_ROOT / "config"))
    assert set(catalog.by_group_topic) == {"high-frequency", "medium-frequency", "low-frequency"}
    assert set(catalog.by_domain) == {
        "customer",
        "tutor",
        "session",
        "support",
        "marketing",
        "system",
    }
    grouped = sum(len(streams) for streams in catalog.by_group_topic.values())
    assert grouped == len(catalog.streams)
