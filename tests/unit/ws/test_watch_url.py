"""`marketsim watch --url` takes the feed's URL or the service's, and refuses anything else."""

from __future__ import annotations

import argparse

import pytest

from app.ws.watch import feed_url


@pytest.mark.parametrize(
    ("given", "feed"),
    [
        ("ws://127.0.0.1:8000/ws", "ws://127.0.0.1:8000/ws"),
        ("http://127.0.0.1:8000", "ws://127.0.0.1:8000/ws"),
        ("http://127.0.0.1:8000/", "ws://127.0.0.1:8000/ws"),
        ("https://sim.example.org", "wss://sim.example.org/ws"),
        ("WSS://sim.example.org/ws?token=x", "wss://sim.example.org/ws?token=x"),
    ],
)
def test_the_feed_url_comes_from_the_feeds_own_url_or_the_services(given, feed):
    assert feed_url(given) == feed


@pytest.mark.parametrize("given", ["127.0.0.1:8000", "ftp://host/ws", "http://", "ws"])
def test_anything_else_is_refused_saying_what_to_give(given):
    with pytest.raises(argparse.ArgumentTypeError, match="ws://host:port/ws"):
        feed_url(given)


def test_a_bad_marketsim_url_stops_watch_with_a_message_not_a_traceback(monkeypatch, capsys):
    from types import SimpleNamespace

    from app.ws.watch import cmd_watch

    monkeypatch.setenv("MARKETSIM_URL", "localhost:8000")
    args = SimpleNamespace(topics=["*"], url=None, since=None, limit=1, json=False)

    assert cmd_watch(args, SimpleNamespace(port=8000)) == 2
    assert "MARKETSIM_URL: 'localhost:8000' is not a feed URL" in capsys.readouterr().err
