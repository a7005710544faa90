import numpy as np

from app.domain.generation.logged import LoggedEffects

INDEX = {"session.scheduled": 3, "session.started": 7}


def test_a_logged_effect_is_found_by_its_cause_position_and_stream():
    logged = LoggedEffects.from_rows(
        INDEX, [[(10, "session.scheduled"), (12, "session.started")], [(11, "session.started")]]
    )

    assert logged.has(np.array([10, 11, 12, 13]), 3).tolist() == [True, False, False, False]
    assert logged.has(np.array([10, 11, 12, 13]), 7).tolist() == [False, True, True, False]
    assert len(logged) == 3


def test_an_effect_on_any_of_several_streams_counts_for_an_exclusive_chain():
    logged = LoggedEffects.from_rows(INDEX, [[(10, "session.scheduled"), (11, "session.started")]])

    assert logged.any_of(np.array([9, 10, 11]), {3, 7}).tolist() == [False, True, True]


def test_nothing_logged_finds_nothing_and_unknown_streams_are_left_out():
    assert LoggedEffects().has(np.array([1, 2]), 3).tolist() == [False, False]
    assert len(LoggedEffects.from_rows(INDEX, [[(10, "no.such.stream")], []])) == 0


def test_positions_past_the_largest_key_are_not_found():
    logged = LoggedEffects.from_rows(INDEX, [[(5, "session.started")]])

    assert logged.has(np.array([5, 6_000_000_000]), 7).tolist() == [True, False]
