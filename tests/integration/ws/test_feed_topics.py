"""Each kind of topic receives exactly its events, live, over a real socket."""

from __future__ import annotations

from app.domain.events import is_anomalous
from tests.integration.ws.feedclient import (
    HIGH_CUSTOMER,
    HIGH_SESSION,
    LOW_CUSTOMER,
    LOW_SYSTEM,
    MEDIUM_CUSTOMER,
    MEDIUM_TUTOR,
    notice,
    positions,
    stream_event,
)

CADENCE = {
    HIGH_CUSTOMER: "high",
    HIGH_SESSION: "high",
    MEDIUM_CUSTOMER: "medium",
    MEDIUM_TUTOR: "medium",
    LOW_CUSTOMER: "low",
    LOW_SYSTEM: "low",
}


def mixed_events():
    """Stream events of every kind of flagging: usual; unusual for the slot but explained
    (the season); unusual and moved by a recorded cause (position 1); unexplained."""
    streams = list(CADENCE)
    events = []
    for i in range(24):
        flag = ("normal", "normal", "warning", "normal", "critical")[i % 5]
        moved = 1 if i % 5 == 4 else None
        unexplained = "warning" if i % 7 == 3 else "normal"
        events.append(stream_event(streams[i % len(streams)], i, flag=flag,
                                   expected_flag=unexplained, correlation_id=moved))  # fmt: skip
        if i == 10:
            events.append(notice("scenario", "scenario.activated", i))
        if i == 17:
            events.append(notice("external", "external.outage", i))
    return events


def expected(appended, first_position, keep) -> list[int]:
    return [
        first_position + i
        for i, event in enumerate(appended)
        if event.kind != "stream" or keep(event)
    ]


def test_each_topic_kind_receives_exactly_its_events_and_every_notice(feed_server, store):
    server = feed_server()
    topics = {
        "*": lambda e: True,
        "customer.*": lambda e: e.stream.startswith("customer."),
        "high-frequency": lambda e: CADENCE[e.stream] == "high",
        "low-frequency": lambda e: CADENCE[e.stream] == "low",
        MEDIUM_TUTOR: lambda e: e.stream == MEDIUM_TUTOR,
        "anomalies": lambda e: is_anomalous(e.flag, e.expected_flag, e.correlation_id),
    }
    clients = {}
    for topic in topics:
        clients[topic] = server.connect()
        clients[topic].subscribe(topic)
        clients[topic].next("snapshot")

    appended = mixed_events()
    batch = store.log.append(appended)

    for topic, keep in topics.items():
        got = clients[topic].events_through(batch.last_position)
        assert positions(got) == expected(appended, batch.first_position, keep), topic


def test_several_topics_in_one_subscribe_receive_their_union_once(feed_server, store):
    server = feed_server()
    client = server.connect()
    frame = client.subscribe(" Customer.* ", "anomalies", "customer.tutor.search")
    assert frame["topics"] == ["customer.*", "anomalies", "customer.tutor.search"]
    client.next("snapshot")

    appended = mixed_events()
    batch = store.log.append(appended)

    got = client.events_through(batch.last_position)
    keep = lambda e: (  # noqa: E731
        e.stream.startswith("customer.") or is_anomalous(e.flag, e.expected_flag, e.correlation_id)
    )
    assert positions(got) == expected(appended, batch.first_position, keep)


def test_notices_arrive_in_log_order_between_stream_events(feed_server, store):
    server = feed_server()
    client = server.connect()
    client.subscribe("*")
    client.next("snapshot")

    batch = store.log.append(mixed_events())

    client.events_through(batch.last_position)
    kinds = [
        (frame["type"], frame.get("position"))
        for frame in client.frames
        if frame["type"] in ("events", "scenario", "external")
    ]
    scenario_at = batch.first_position + 11
    external_at = batch.first_position + 19
    assert ("scenario", scenario_at) in kinds
    assert ("external", external_at) in kinds
    received = positions(
        event
        for frame in client.frames
        for event in (frame.get("events") or ([frame["event"]] if "event" in frame else []))
    )
    assert received == sorted(received)


def test_unsubscribe_stops_those_events_and_keeps_the_others(feed_server, store):
    server = feed_server()
    client = server.connect()
    client.subscribe(HIGH_CUSTOMER, MEDIUM_TUTOR)
    client.next("snapshot")
    client.send(type="unsubscribe", topics=[HIGH_CUSTOMER], id=4)
    reply = client.next("unsubscribed")
    assert reply["topics"] == [MEDIUM_TUTOR]
    assert reply["removed"] == [HIGH_CUSTOMER]
    assert reply["id"] == 4

    batch = store.log.append([stream_event(HIGH_CUSTOMER, 1), stream_event(MEDIUM_TUTOR, 2)])

    got = client.events_through(batch.last_position)
    assert positions(got) == [batch.last_position]


def test_clients_sharing_a_batch_each_get_exactly_their_selection(feed_server, store):
    server = feed_server()
    topics = ["customer.*", "customer.*", "high-frequency", "*", MEDIUM_TUTOR, "customer.*"]
    keep = {
        "customer.*": lambda e: e.stream.startswith("customer."),
        "high-frequency": lambda e: CADENCE[e.stream] == "high",
        "*": lambda e: True,
        MEDIUM_TUTOR: lambda e: e.stream == MEDIUM_TUTOR,
    }
    clients = []
    for topic in topics:
        client = server.connect()
        client.subscribe(topic)
        client.next("snapshot")
        clients.append((topic, client))

    appended = []
    last = 0
    for round_ in range(5):  # stream events only: the frames are encoded once per topic set
        events = [stream_event(s, 6 * round_ + i) for i, s in enumerate(CADENCE)]
        batch = store.log.append(events)
        appended.extend(zip(batch.positions, events, strict=True))
        last = batch.last_position

    for topic, client in clients:
        wanted = [position for position, event in appended if keep[topic](event)]
        assert positions(client.events_through(last)) == wanted, topic


def test_the_generators_ticks_are_not_sent_and_positions_still_move_past_them(feed_server, store):
    server = feed_server()
    client = server.connect()
    client.subscribe("*")
    client.next("snapshot")

    batch = store.log.append(
        [
            stream_event(HIGH_CUSTOMER, 0),
            notice("control", "control.tick", 1),
            notice("control", "control.clock", 2),
            stream_event(HIGH_CUSTOMER, 3),
            notice("control", "control.tick", 4),
        ]
    )

    client.events_through(batch.last_position - 1)
    store.log.append([stream_event(HIGH_CUSTOMER, 5)])
    got = client.events_through(batch.last_position + 1)
    assert [(e["position"], e["type"]) for e in got] == [
        (1, HIGH_CUSTOMER),
        (3, "control.clock"),
        (4, HIGH_CUSTOMER),
        (6, HIGH_CUSTOMER),
    ]
    assert not any(f["type"] == "control" and "tick" in f["event"]["type"] for f in client.frames)
