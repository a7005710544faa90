"""Client messages in, frames out: what is accepted, what is refused and how."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.domain.events import EventRow, RecordedEvent
from app.domain.timerange import iso
from app.ws.protocol import (
    ErrorCode,
    Ping,
    Pong,
    ProtocolError,
    Subscribe,
    Unsubscribe,
    WireEvent,
    error_frame,
    events_frame,
    frame,
    notice_frame,
    parse_message,
)

LIMIT = 16 * 1024


def parse(body) -> object:
    return parse_message(json.dumps(body), LIMIT)


def refused(raw, limit: int = LIMIT) -> ProtocolError:
    with pytest.raises(ProtocolError) as raised:
        parse_message(raw if isinstance(raw, str | bytes) else json.dumps(raw), limit)
    return raised.value


def test_a_subscribe_carries_topics_and_an_optional_resume_token():
    assert parse({"type": "subscribe", "topics": ["*"]}) == Subscribe(("*",))
    assert parse({"type": "subscribe", "topics": ["*"], "lastEventId": 42, "id": "a"}) == (
        Subscribe(("*",), last_event_id=42, id="a")
    )
    assert parse({"type": "subscribe", "topics": "customer.*", "lastEventId": "7"}) == (
        Subscribe(("customer.*",), last_event_id=7)
    )


def test_last_timestamp_is_read_as_utc():
    message = parse(
        {"type": "subscribe", "topics": ["*"], "lastTimestamp": "2026-11-25T12:00:01.5Z"}
    )
    assert message.last_timestamp == datetime(2026, 11, 25, 12, 0, 1, 500000, tzinfo=UTC)
    naive = parse({"type": "subscribe", "topics": ["*"], "lastTimestamp": "2026-11-25T12:00"})
    assert naive.last_timestamp == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_unsubscribe_ping_and_pong():
    assert parse({"type": "unsubscribe", "topics": ["anomalies"]}) == Unsubscribe(("anomalies",))
    assert parse({"type": "ping", "id": 3}) == Ping(3)
    assert parse({"type": "pong"}) == Pong()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", ErrorCode.INVALID_JSON),
        ("[" * 5000 + "]" * 5000, ErrorCode.INVALID_JSON),
        ("[1, 2]", ErrorCode.INVALID_MESSAGE),
        ({"topics": ["*"]}, ErrorCode.UNKNOWN_TYPE),
        ({"type": "subscrbe", "topics": ["*"]}, ErrorCode.UNKNOWN_TYPE),
        ({"type": "subscribe"}, ErrorCode.INVALID_MESSAGE),
        ({"type": "subscribe", "topics": []}, ErrorCode.INVALID_MESSAGE),
        ({"type": "subscribe", "topics": [1]}, ErrorCode.INVALID_MESSAGE),
        ({"type": "subscribe", "topics": ["  "]}, ErrorCode.INVALID_MESSAGE),
        ({"type": "subscribe", "topics": ["*"], "lastEventId": -1}, ErrorCode.INVALID_MESSAGE),
        ({"type": "subscribe", "topics": ["*"], "lastEventId": 1.5}, ErrorCode.INVALID_MESSAGE),
        ({"type": "subscribe", "topics": ["*"], "lastEventId": True}, ErrorCode.INVALID_MESSAGE),
        (
            {"type": "subscribe", "topics": ["*"], "lastTimestamp": "soon"},
            ErrorCode.INVALID_MESSAGE,
        ),
        (
            {"type": "subscribe", "topics": ["*"], "lastEventId": 1, "lastTimestamp": "2026-11-25"},
            ErrorCode.INVALID_MESSAGE,
        ),
        ({"type": "ping", "id": {"a": 1}}, ErrorCode.INVALID_MESSAGE),
        (b'{"type": "ping"}', ErrorCode.INVALID_MESSAGE),
    ],
)
def test_malformed_messages_are_refused_with_a_code(raw, code):
    assert refused(raw).code == code


def test_a_refusal_names_what_is_wrong_and_echoes_the_request_id():
    error = refused({"type": "subscribe", "topics": ["*"], "lastEventId": -5, "id": "r1"})
    assert "lastEventId" in error.message
    assert error.request_id == "r1"


def test_the_size_limit_counts_utf8_bytes():
    body = json.dumps({"type": "ping", "id": "é" * 10})
    assert parse_message(body, len(body.encode()))
    error = refused(body, limit=len(body.encode()) - 1)
    assert error.code == ErrorCode.MESSAGE_TOO_LARGE
    assert str(len(body.encode())) in error.message


def recorded(position: int = 7, **changes) -> RecordedEvent:
    fields = dict(
        position=position,
        epoch=2,
        kind="stream",
        type="session.started",
        stream="session.started",
        occurred_at=datetime(2026, 11, 25, 12, 0, 1, 250000, tzinfo=UTC),
        recorded_at=datetime(2026, 11, 25, 12, 0, 2, tzinfo=UTC),
        data={"sessionId": "s1"},
        value=3.0,
        normalized=55.5,
        flag="normal",
        causation_id=5,
        correlation_id=None,
        expected=3.4,
        expected_flag="normal",
    )
    fields.update(changes)
    return RecordedEvent(**fields)


def test_a_wire_event_carries_every_field_a_client_needs():
    body = json.loads(WireEvent.of(recorded()).json)
    assert body == {
        "position": 7,
        "kind": "stream",
        "type": "session.started",
        "stream": "session.started",
        "occurredAt": "2026-11-25T12:00:01.250000Z",
        "recordedAt": "2026-11-25T12:00:02Z",
        "data": {"sessionId": "s1"},
        "value": 3.0,
        "normalized": 55.5,
        "flag": "normal",
        "expected": 3.4,
        "expectedFlag": "normal",
        "causationId": 5,
        "correlationId": None,
    }


OFFSET_ONE_HOUR = timezone(timedelta(hours=1))


def test_a_row_read_for_the_feed_goes_out_as_the_same_event_with_its_data_as_logged():
    event = recorded(occurred_at=datetime(2026, 11, 25, 13, 0, 1, 250000, tzinfo=OFFSET_ONE_HOUR))
    columns = {f.name: getattr(event, f.name) for f in fields(event) if f.name != "data"}
    row = EventRow(**columns, data_json='{"sessionId": "s1"}')  # as Postgres writes jsonb

    assert json.loads(WireEvent.of(row).json) == json.loads(WireEvent.of(event).json)
    assert json.loads(WireEvent.of(row).json)["occurredAt"] == "2026-11-25T12:00:01.250000Z"


@pytest.mark.parametrize("microsecond", [0, 1, 250000])
def test_an_events_times_go_out_as_every_other_time_does(microsecond):
    moment = datetime(2026, 11, 25, 12, 0, 0, microsecond, tzinfo=UTC)
    sent = json.loads(WireEvent.of(recorded(occurred_at=moment)).json)
    assert sent["occurredAt"] == iso(moment)
    assert parse({"type": "subscribe", "topics": ["*"], "lastTimestamp": sent["occurredAt"]}) == (
        Subscribe(("*",), last_timestamp=moment)
    )


def test_every_frame_is_json_and_carries_the_epoch():
    event = WireEvent.of(recorded())
    scenario = WireEvent.of(recorded(8, kind="scenario", type="scenario.activated", stream=None))
    frames = [
        frame("ping", 2, position=7),
        events_frame("events", 2, 9, [event, event]),
        events_frame("catchup", 2, 9, [], recovered=True, done=True),
        notice_frame(scenario),
        error_frame(2, ErrorCode.INVALID_JSON, "not JSON", "x"),
    ]
    decoded = [json.loads(text) for text in frames]
    assert all(body["epoch"] == 2 for body in decoded)
    assert decoded[1]["events"][1]["position"] == 7
    assert decoded[1]["position"] == 9
    assert decoded[2] == {
        "type": "catchup",
        "epoch": 2,
        "position": 9,
        "recovered": True,
        "done": True,
        "events": [],
    }
    assert decoded[3]["type"] == "scenario"
    assert decoded[3]["event"]["type"] == "scenario.activated"
    assert decoded[4] == {
        "type": "error",
        "epoch": 2,
        "code": "invalid_json",
        "message": "not JSON",
        "id": "x",
    }
