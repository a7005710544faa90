"""Events are plain immutable data; a reset opens a new epoch."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from app.domain.events import NewEvent, assign_epochs

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def event(type_: str = "session.completed", kind: str = "stream") -> NewEvent:
    return NewEvent(kind=kind, type=type_, occurred_at=NOW, stream=type_)


def test_events_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        event().type = "other"  # type: ignore[misc]


def test_epochs_advance_at_each_reset_for_the_reset_and_what_follows():
    reset = event("control.reset", kind="control")

    assert assign_epochs([event(), reset, event(), reset, event()], 3) == [3, 4, 4, 5, 5]


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "weather"},
        {"flag": "alarming"},
        {"occurred_at": datetime(2026, 11, 1)},
    ],
)
def test_invalid_events_are_refused_at_construction(fields):
    base = {"kind": "stream", "type": "x", "occurred_at": NOW}
    with pytest.raises(ValueError):
        NewEvent(**(base | fields))
