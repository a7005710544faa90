"""The feed's wire format: client messages in, JSON text frames out.

Client messages are parsed into small frozen objects, or refused with a `ProtocolError` that
becomes an `error` frame (the connection stays up). Events are encoded to JSON once, when the
process first reads them, and every frame that carries them splices the same text, so the
cost per client is a join, not an encode. API.md ("The WebSocket feed") documents every field.

Pure: stdlib and the domain's event type; no Flask, no database.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from app.domain.events import EventRow, RecordedEvent, is_anomalous, reported_at
from app.domain.timerange import from_iso

MAX_TOPICS = 200
MAX_TOPIC_LENGTH = 200
MAX_ID_LENGTH = 100


class ErrorCode:
    """The `code` of an `error` frame."""

    MESSAGE_TOO_LARGE = "message_too_large"
    INVALID_JSON = "invalid_json"
    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_TOPIC = "unknown_topic"
    RATE_LIMITED = "rate_limited"
    PONG_TIMEOUT = "pong_timeout"
    STALE = "stale"
    UNAVAILABLE = "unavailable"
    INTERNAL_ERROR = "internal_error"


class ProtocolError(ValueError):
    """A client message the feed refuses; it is answered with an `error` frame."""

    def __init__(self, code: str, message: str, request_id: str | int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


# Client messages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscribe:
    topics: tuple[str, ...]
    last_event_id: int | None = None
    last_timestamp: datetime | None = None
    id: str | int | None = None

    @property
    def resumes(self) -> bool:
        return self.last_event_id is not None or self.last_timestamp is not None


@dataclass(frozen=True)
class Unsubscribe:
    topics: tuple[str, ...]
    id: str | int | None = None


@dataclass(frozen=True)
class Ping:
    id: str | int | None = None


@dataclass(frozen=True)
class Pong:
    id: str | int | None = None


ClientMessage = Subscribe | Unsubscribe | Ping | Pong


def message_size(raw: str | bytes) -> int:
    """The size of a message in bytes, as the limit counts it (UTF-8 for text)."""
    return len(raw) if isinstance(raw, bytes | bytearray) else len(raw.encode("utf-8"))


def parse_message(raw: str | bytes, max_bytes: int) -> ClientMessage:
    """One client frame -> a message; ProtocolError says what is wrong with it."""
    size = message_size(raw)
    if size > max_bytes:
        raise ProtocolError(
            ErrorCode.MESSAGE_TOO_LARGE,
            f"message of {size} bytes refused: the limit is {max_bytes} bytes",
        )
    if isinstance(raw, bytes | bytearray):
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "send JSON text frames, not binary")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ProtocolError(ErrorCode.INVALID_JSON, f"not JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError(
            ErrorCode.INVALID_JSON, "not JSON this server reads: nested too deeply"
        ) from None
    if not isinstance(body, dict):
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "a message is a JSON object with a type")
    request_id = _request_id(body)
    kind = body.get("type")
    parse = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parse is None:
        raise ProtocolError(
            ErrorCode.UNKNOWN_TYPE,
            f"unknown message type {kind!r}: expected one of {', '.join(_PARSERS)}",
            request_id,
        )
    try:
        return parse(body, request_id)
    except ProtocolError as exc:
        exc.request_id = request_id
        raise


def _request_id(body: dict[str, Any]) -> str | int | None:
    value = body.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "'id' must be a string or an integer")
    if isinstance(value, str) and len(value) > MAX_ID_LENGTH:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"'id' is longer than {MAX_ID_LENGTH}")
    return value


def _topics(body: dict[str, Any]) -> tuple[str, ...]:
    raw = body.get("topics")
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise ProtocolError(
            ErrorCode.INVALID_MESSAGE, "'topics' must be a non-empty list of topic strings"
        )
    if len(raw) > MAX_TOPICS:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"at most {MAX_TOPICS} topics at once")
    for topic in raw:
        if not isinstance(topic, str) or not topic.strip() or len(topic) > MAX_TOPIC_LENGTH:
            raise ProtocolError(
                ErrorCode.INVALID_MESSAGE,
                f"topic {topic!r} is not a topic: each is a non-empty string "
                f"of at most {MAX_TOPIC_LENGTH} characters",
            )
    return tuple(raw)


def _last_event_id(body: dict[str, Any]) -> int | None:
    value = body.get("lastEventId")
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProtocolError(
            ErrorCode.INVALID_MESSAGE,
            f"'lastEventId' must be a log position (an integer >= 0), got {value!r}",
        )
    return value


def _last_timestamp(body: dict[str, Any]) -> datetime | None:
    value = body.get("lastTimestamp")
    if value is None:
        return None
    problem = (
        f"'lastTimestamp' must be an ISO-8601 time such as 2026-11-25T20:26:31Z, got {value!r}"
    )
    if not isinstance(value, str):
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, problem)
    try:
        return from_iso(value)
    except ValueError:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, problem) from None


def _subscribe(body: dict[str, Any], request_id: str | int | None) -> Subscribe:
    topics = _topics(body)
    last_event_id = _last_event_id(body)
    last_timestamp = _last_timestamp(body)
    if last_event_id is not None and last_timestamp is not None:
        raise ProtocolError(
            ErrorCode.INVALID_MESSAGE, "send 'lastEventId' or 'lastTimestamp', not both"
        )
    return Subscribe(topics, last_event_id, last_timestamp, request_id)


def _unsubscribe(body: dict[str, Any], request_id: str | int | None) -> Unsubscribe:
    return Unsubscribe(_topics(body), request_id)


_PARSERS = {
    "subscribe": _subscribe,
    "unsubscribe": _unsubscribe,
    "ping": lambda body, request_id: Ping(request_id),
    "pong": lambda body, request_id: Pong(request_id),
}


# Events on the wire ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WireEvent:
    """A logged event with its JSON text, encoded once per process."""

    position: int
    epoch: int
    kind: str
    type: str
    stream: str | None
    anomalous: bool
    """Whether the `anomalies` topic shows it (`app.domain.events.is_anomalous`)."""
    json: str

    @classmethod
    def of(cls, event: RecordedEvent | EventRow) -> WireEvent:
        """Encoded with orjson; an `EventRow`'s data goes out as the log's own JSON text. An
        event stamped by a skewed clock says it occurred when that clock said
        (`app.domain.events.reported_at`): the feed shows what a pipeline receives."""
        if isinstance(event, EventRow):
            data = event.data_json.encode()
        else:
            data = orjson.dumps(event.data, option=orjson.OPT_NON_STR_KEYS)
        head = orjson.dumps(
            {
                "position": event.position,
                "kind": event.kind,
                "type": event.type,
                "stream": event.stream,
                "occurredAt": reported_at(event.occurred_at, event.delivery).astimezone(UTC),
                "recordedAt": event.recorded_at.astimezone(UTC),
            },
            option=orjson.OPT_UTC_Z,  # as `iso` writes it, several times faster
        )
        tail = orjson.dumps(
            {
                "value": event.value,
                "normalized": event.normalized,
                "flag": event.flag,
                "expected": event.expected,
                "expectedFlag": event.expected_flag,
                "causationId": event.causation_id,
                "correlationId": event.correlation_id,
            }
        )
        return cls(
            position=event.position,
            epoch=event.epoch,
            kind=event.kind,
            type=event.type,
            stream=event.stream,
            anomalous=is_anomalous(event.flag, event.expected_flag, event.correlation_id),
            json=b"".join((head[:-1], b',"data":', data, b",", tail[1:])).decode(),
        )

    @property
    def is_notice(self) -> bool:
        """Scenario, external and control events go out on their own, to every subscriber."""
        return self.kind != "stream"


NOTICE_FRAME_TYPES = {"scenario": "scenario", "external": "external", "control": "control"}


# Server frames -----------------------------------------------------------------------------


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), default=str)


def frame(kind: str, epoch: int, **fields: Any) -> str:
    """A server frame: `type`, `epoch`, then the fields given (None values are kept)."""
    return _dumps({"type": kind, "epoch": epoch, **fields})


def events_frame(
    kind: str, epoch: int, position: int, events: Sequence[WireEvent], **fields: Any
) -> str:
    """`snapshot`, `catchup` or `events`: the header, then the events' pre-encoded JSON."""
    body = ",".join([e.json for e in events])
    if not fields:  # live frames, sent hundreds of times a batch: no encoder for the header
        return f'{{"type":"{kind}","epoch":{epoch:d},"position":{position:d},"events":[{body}]}}'
    header = _dumps({"type": kind, "epoch": epoch, "position": position, **fields})
    return f'{header[:-1]},"events":[{body}]}}'


def notice_frame(event: WireEvent) -> str:
    """A `scenario`, `external` or `control` frame carrying one event."""
    kind = NOTICE_FRAME_TYPES.get(event.kind, event.kind)
    header = _dumps({"type": kind, "epoch": event.epoch, "position": event.position})
    return f'{header[:-1]},"event":{event.json}}}'


def error_frame(
    epoch: int, code: str, message: str, request_id: str | int | None = None, **fields: Any
) -> str:
    body: dict[str, Any] = {"code": code, "message": message}
    if request_id is not None:
        body["id"] = request_id
    return frame("error", epoch, **body, **fields)


def chunks(events: Sequence[WireEvent], size: int) -> Iterable[Sequence[WireEvent]]:
    """Events in slices of at most `size`, so no frame grows without bound."""
    for start in range(0, len(events), size):
        yield events[start : start + size]


def text_frame(text: str) -> bytes:
    """A whole, unmasked WebSocket text frame (RFC 6455 5.2) carrying `text`.

    The feed writes its frames itself rather than through wsproto: the same bytes, without
    its per-frame bookkeeping, which is most of the cost of a send with hundreds of clients.
    Always uncompressed, which permessage-deflate allows (RFC 7692: RSV1 marks a compressed
    message, and a sender may send any message uncompressed).
    """
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload
