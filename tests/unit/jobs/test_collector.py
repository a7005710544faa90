"""The cyclic collector is paused while a chunk of generation runs, and only then."""

from __future__ import annotations

import gc

import pytest

from jobs.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_enabled():
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_paused_inside_and_runs_again_after():
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_runs_again_after_a_chunk_that_failed():
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("chunk failed")
    assert gc.isenabled()


def test_a_collector_paused_by_someone_else_is_left_paused():
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()
