"""What the domain turns down, in its own terms.

A refusal says why in a stable `code` (clients branch on it) and in words; `options` lists
what would have been accepted, where there is a short list. The domain knows nothing of HTTP:
the API maps each kind of refusal to its status and each code to a hint, once
(`app/api/errors.py`).
"""

from __future__ import annotations

from collections.abc import Sequence


class Refused(Exception):
    """A command or a question the domain cannot answer as asked."""

    def __init__(self, code: str, message: str, options: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.options = tuple(options)


class Unknown(Refused):
    """It names something that does not exist (a scenario, a modifier, an event)."""


class NotNow(Refused):
    """The state does not allow it now (a scenario is already active, a modifier has ended)."""
