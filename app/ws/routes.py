"""The `/ws` route: flask-sock hands each WebSocket connection to a `Session`."""

from __future__ import annotations

import logging

from flask import Blueprint
from flask_sock import Sock

from app import extensions
from app.ws.protocol import ErrorCode, error_frame
from app.ws.session import CLOSE_TRY_AGAIN, Session

log = logging.getLogger(__name__)

bp = Blueprint("feed", __name__)
sock = Sock()


@sock.route("/ws", bp=bp)
def feed_socket(ws) -> None:
    """One client, from its handshake to its close (flask-sock closes the socket after)."""
    hub = extensions.feed()
    try:
        hub.start()
    except Exception:
        log.exception("the feed cannot start: the event log cannot be read")
        ws.send(
            error_frame(
                hub.epoch,
                ErrorCode.UNAVAILABLE,
                "the feed cannot read the event log right now; reconnect in a few seconds",
            )
        )
        ws.close(reason=CLOSE_TRY_AGAIN, message="feed unavailable")
        return
    session = Session(ws, hub)
    try:
        session.run()
    except Exception:
        # Flask's error handler would write an HTTP 500 into the upgraded socket: end the
        # WebSocket properly instead; the client reconnects and resumes.
        log.exception("feed session failed")
        session.fail()
