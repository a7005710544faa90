"""The compiled marketplace model: what it derives from the catalog once."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.model import MarketModel

ANCHOR = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_cause_keeps_only_the_fields_its_effects_inherit_or_are_decided_on(catalog):
    model = MarketModel(catalog, ANCHOR)
    rating = model.index["session.rating.submitted"]
    data = {
        "sessionId": "se_0001",
        "studentId": "st_0042",
        "tutorId": "tu_0007",
        "score": 2,
        "hasComment": True,
    }

    kept = model.causing_data(rating, data)

    # a low rating opens a ticket and flags the student (studentId) and the tutor (tutorId),
    # each when `score` <= 2; nothing it causes reads the session or the comment
    assert kept == {"score": 2, "studentId": "st_0042", "tutorId": "tu_0007"}


def test_a_cause_whose_effects_read_nothing_of_its_data_keeps_none(catalog):
    model = MarketModel(catalog, ANCHOR)
    readless = [s for s in range(model.stream_count) if not model.cause_fields.get(s)]

    assert readless, "some streams cause nothing or effects that inherit nothing"
    assert all(model.causing_data(s, {"anything": 1}) is None for s in readless)


def test_every_field_an_effect_inherits_is_kept_by_each_of_its_causes(catalog):
    model = MarketModel(catalog, ANCHOR)
    for rule in model.rules:
        inherited = catalog.stream(model.names[rule.target]).inherited_fields()
        assert set(inherited) <= set(model.cause_fields[rule.source]), rule.rule_id
