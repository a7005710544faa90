"""The state's reads: the recent critical anomalies of an epoch."""

from __future__ import annotations

from tests.integration.ws.feedclient import stream_event

STREAM = "customer.payment.failed"


def test_recent_anomalies_are_the_unexplained_and_the_moved_by_a_recorded_cause(store):
    store.log.append(
        [
            stream_event(STREAM, 0, flag="critical"),  # exam season: critical for its slot
            stream_event(STREAM, 1, expected_flag="critical"),  # nothing known explains it
            stream_event(STREAM, 2, flag="critical", correlation_id=7),  # a scenario moved it
            stream_event(STREAM, 3, flag="warning", correlation_id=7),  # moved, not critical
            stream_event(STREAM, 4, expected_flag="warning"),  # unexplained, not critical
        ]
    )

    recent = store.state.recent_critical(epoch=1)

    assert [event.position for event in recent] == [3, 2]


def test_recent_anomalies_are_the_newest_first_up_to_the_limit(store):
    store.log.append([stream_event(STREAM, i, expected_flag="critical") for i in range(5)])

    recent = store.state.recent_critical(epoch=1, limit=3)

    assert [event.position for event in recent] == [5, 4, 3]
