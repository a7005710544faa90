"""Scoring a detector against labelled windows: known answers on a small, hand-made truth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.scoring import Detection, DetectionError, read_detections, score

T0 = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)
START, END = T0, T0 + 100 * H
STREAMS = ("a.x", "b.y")


def window(wid, stream, first, last, *, kind="external", causal=True, clear=True, confounded=False):
    cause = wid.split(":")[0]
    return {
        "id": wid,
        "stream": stream,
        "start": (T0 + first * H).isoformat(),
        "end": (T0 + last * H).isoformat(),
        "label": kind,
        "causal": causal,
        "source": {"kind": kind, "id": cause},
        "detectability": ("clear" if clear else "subtle") if causal else "none",
        "confounded": confounded,
    }


WINDOWS = [
    window("e1:a.x:1", "a.x", 10, 20),
    window("e1:b.y:1", "b.y", 12, 30, clear=False),
    window("an1:a.x:1", "a.x", 50, 53, kind="anomaly", clear=False),
    window("cal:a.x:1", "a.x", 60, 90, kind="calendar"),
    window("rh:b.y:1", "b.y", 70, 80, causal=False),
]


def at(stream, hour) -> Detection:
    return Detection(stream, T0 + hour * H)


def test_a_detector_that_flags_each_window_at_its_start_scores_100():
    found = [at("a.x", 10), at("b.y", 12), at("a.x", 50)]

    report = score(WINDOWS, found, START, END, STREAMS)

    assert report["windows"]["recall"] == 1.0 and report["windows"]["clear"]["recall"] == 1.0
    assert report["causes"]["detected"] == report["causes"]["count"] == 2
    assert report["precision"] == 1.0 and report["falseAlarms"]["total"] == 0
    assert report["nab"]["score"] == pytest.approx(100.0)


def test_no_detections_score_0_and_find_nothing():
    report = score(WINDOWS, [], START, END, STREAMS)

    assert report["nab"]["score"] == 0.0
    assert report["windows"]["recall"] == 0.0
    assert report["missedClear"] == ["e1:a.x:1"]
    assert report["precision"] is None


def test_alarms_outside_every_window_are_false_alarms_per_quiet_stream_hour():
    found = [at("a.x", 0), at("a.x", 40), at("b.y", 95)]

    report = score(WINDOWS, found, START, END, STREAMS)
    alarms = report["falseAlarms"]

    assert alarms["total"] == 3 and report["precision"] == 0.0
    # a.x: 100 h minus 10 (e1) + 3 (anomaly) + 30 (calendar, expected) = 57 quiet hours
    assert alarms["byStream"]["a.x"] == {"alarms": 2, "hours": 57.0, "rate": round(2 / 57, 4)}
    assert alarms["byStream"]["b.y"]["hours"] == 82.0
    assert report["nab"]["score"] < 0


def test_the_calendar_is_expected_behaviour_unless_asked_to_be_a_target():
    found = [at("a.x", 65)]

    expected = score(WINDOWS, found, START, END, STREAMS)
    target = score(WINDOWS, found, START, END, STREAMS, calendar="anomaly")

    assert expected["detections"]["falseAlarms"] == 0
    assert expected["detections"]["inCausalWindows"] == 0
    assert "calendar" not in expected["windows"]["byKind"]
    assert target["windows"]["byKind"]["calendar"]["detected"] == 1
    assert target["precision"] == 1.0


def test_red_herrings_are_compared_with_the_detectors_background_rate():
    found = [at("b.y", 72)] + [at("b.y", h) for h in (0, 2, 4, 6)]

    herrings = score(WINDOWS, found, START, END, STREAMS)["redHerrings"]

    assert (herrings["unconfounded"], herrings["flagged"], herrings["flaggedShare"]) == (1, 1, 1.0)
    # four alarms in the 72 hours of b.y outside every window: 1 - (1 - 4/72) ** 10
    assert herrings["baseRate"] == pytest.approx(1 - (1 - 4 / 72) ** 10, abs=1e-4)
    assert herrings["ratioToBase"] == pytest.approx(1.0 / herrings["baseRate"], abs=0.01)


def test_only_the_first_detection_in_a_window_earns_and_earlier_earns_more():
    early = score(WINDOWS, [at("a.x", 10)], START, END, ("a.x",))["nab"]["raw"]
    late = score(WINDOWS, [at("a.x", 19)], START, END, ("a.x",))["nab"]["raw"]
    twice = score(WINDOWS, [at("a.x", 10), at("a.x", 11)], START, END, ("a.x",))["nab"]["raw"]

    assert early > late and twice == early


def test_detections_out_of_range_or_on_other_streams_are_ignored():
    found = [at("a.x", 150), at("c.z", 10)]

    report = score(WINDOWS, found, START, END, STREAMS)

    assert report["detections"] | {} == {
        "total": 2, "scored": 0, "ignored": 2, "inCausalWindows": 0, "falseAlarms": 0
    }  # fmt: skip


def test_detections_are_read_from_a_list_or_an_object_and_refused_clearly():
    rows = [{"stream": "a.x", "timestamp": "2026-11-02T10:00:00", "score": 0.9},
            {"stream": "a.x", "timestamp": "2026-11-02T11:00:00Z", "score": 0.1}]  # fmt: skip

    assert read_detections(rows) == read_detections({"detections": rows})
    assert read_detections(rows)[0].at == T0 + 10 * H, "no offset means UTC"
    assert len(read_detections(rows, min_score=0.5)) == 1
    with pytest.raises(DetectionError, match="detection 1: bad timestamp"):
        read_detections([rows[0], {"stream": "a.x", "timestamp": "yesterday"}])
    with pytest.raises(DetectionError, match="needs 'stream' and 'timestamp'"):
        read_detections([{"stream": "a.x"}])
    with pytest.raises(DetectionError, match="a list of detections"):
        read_detections({"findings": []})


def test_a_red_herring_is_judged_only_on_its_hours_outside_the_expected_calendar():
    windows = [
        window("cal:b.y:1", "b.y", 0, 75, kind="calendar"),
        window("rh:b.y:1", "b.y", 70, 80, causal=False),
    ]

    in_calendar = score(windows, [at("b.y", 72)], START, END, ("b.y",))["redHerrings"]
    after_it = score(windows, [at("b.y", 77)], START, END, ("b.y",))["redHerrings"]
    as_targets = score(windows, [at("b.y", 72)], START, END, ("b.y",), calendar="anomaly")

    assert (in_calendar["unconfounded"], in_calendar["flagged"]) == (1, 0)
    assert (after_it["unconfounded"], after_it["flagged"]) == (1, 1)
    assert as_targets["redHerrings"]["unconfounded"] == 0, "a target window confounds it"


def test_recall_is_reported_for_clear_visible_and_subtle_windows_apart():
    visible = {**window("e2:a.x:1", "a.x", 30, 40), "detectability": "visible"}

    report = score([*WINDOWS, visible], [at("a.x", 31)], START, END, STREAMS)

    assert report["windows"]["visible"] == {"count": 1, "detected": 1, "recall": 1.0}
    assert report["windows"]["clear"] == {"count": 1, "detected": 0, "recall": 0.0}
    assert (report["windows"]["subtle"]["count"], report["windows"]["subtle"]["detected"]) == (2, 0)


def test_recall_is_reported_per_anomaly_shape_with_how_hard_each_was():
    spike = window("mod-1:a.x:1", "a.x", 30, 31, kind="modifier") | {"kind": "spike"}
    trend = window("mod-2:b.y:1", "b.y", 40, 46, kind="modifier", clear=False) | {"kind": "trend"}
    missing = window("mod-3:a.x:1", "a.x", 60, 62, kind="modifier") | {"kind": "missing"}

    report = score([*WINDOWS, spike, trend, missing], [at("a.x", 30)], START, END, STREAMS)

    shapes = report["windows"]["byShape"]
    assert list(shapes) == ["missing", "spike", "trend"]
    assert (shapes["spike"]["detected"], shapes["spike"]["clear"]["count"]) == (1, 1)
    assert (shapes["trend"]["recall"], shapes["trend"]["subtle"]["count"]) == (0.0, 1)
    assert shapes["missing"]["count"] == 1 and shapes["missing"]["detected"] == 0
