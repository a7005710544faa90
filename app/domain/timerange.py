"""Times as text: the one parser of the times that come in (`from_iso`), the one format of
the times that go out (`iso`), relative ranges in words ("last week", "past 3 days",
"yesterday", "3 weeks ago") resolved against the simulated now, and durations.

The parser and the format live here rather than in `calendar` because this module needs
nothing but the standard library: the command-line client and the feed's protocol use them
without loading numpy, as the client already uses the ranges and durations.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta


def utc(value: datetime) -> datetime:
    """`value` in UTC; a naive datetime is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(moment: datetime) -> str:
    """The one format of the times that go out (the API's JSON, the feed's frames, the command
    line, log messages, and the times in the log's event data): RFC 3339 in UTC with `Z`, to
    the second, or to the microsecond when the time has a fraction. It is lossless, so a time
    a client read and sends back compares exactly. A naive datetime is taken to be UTC."""
    moment = utc(moment).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds") + "Z"


def from_iso(text: str) -> datetime:
    """The one parser of the times that come in (query parameters and bodies, the feed's
    `lastTimestamp`, the command line, exports, and times in the log's event data, which
    older rows hold as `+00:00` and newer ones as `Z`): ISO-8601 / RFC 3339 with `Z` or an
    offset, none meaning UTC, a date alone meaning its midnight; spaces around it ignored.
    In UTC; ValueError when `text` is not a time, for each caller to say so its own way."""
    return utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))


UNITS = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=30),
}
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fourteen": 14, "thirty": 30,
}  # fmt: skip

_UNIT = r"(minute|hour|day|week|month)s?"
_COUNT = r"(\d+|" + "|".join(NUMBER_WORDS) + r")"
_LAST_N = re.compile(rf"^(?:last|past|previous)\s+{_COUNT}\s+{_UNIT}$")
_LAST_UNIT = re.compile(rf"^(?:last|past|previous)\s+{_UNIT}$")
_AGO = re.compile(rf"^{_COUNT}\s+{_UNIT}\s+ago$")

_SOME = r"([1-9]\d*|" + "|".join(NUMBER_WORDS) + r")"
RANGE_PATTERN = rf"^(today|yesterday|(last|past|previous) ({_SOME} )?{_UNIT}|{_SOME} {_UNIT} ago)$"
"""The ranges in their plain form (lower case, single spaces), for a schema: the parser also
takes other cases and runs of spaces."""

EXAMPLES = ("today", "yesterday", "last week", "past 3 days", "last 12 hours", "3 weeks ago")


class TimeRangeError(ValueError):
    """The words do not name a time range this parser knows."""


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def _before(now: datetime, count: int, unit: timedelta, text: str) -> datetime:
    """`count` units before `now`; a range reaching past what a time can hold is refused."""
    try:
        return now - count * unit
    except OverflowError:
        raise TimeRangeError(f"{text!r} reaches before the year 1") from None


def parse_range(text: str, now: datetime) -> tuple[datetime, datetime]:
    """The [start, end) range that `text` names, relative to `now`.

    "past 3 days" and "last week" end at now; "yesterday" is the previous UTC calendar day;
    "3 weeks ago" is the week-long range that started three weeks before now.
    """
    words = " ".join(text.lower().split())
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if words == "today":
        return midnight, now
    if words == "yesterday":
        return midnight - timedelta(days=1), midnight
    if match := _LAST_N.match(words):
        count, unit = _count(match[1]), UNITS[match[2]]
        return _before(now, count, unit, text), now
    if match := _LAST_UNIT.match(words):
        return now - UNITS[match[1]], now
    if match := _AGO.match(words):
        count, unit = _count(match[1]), UNITS[match[2]]
        if count < 1:
            raise TimeRangeError(f"{text!r}: the count must be at least 1")
        start = _before(now, count, unit, text)
        return start, start + unit
    raise TimeRangeError(f"{text!r} is not a range I know; try one of: {', '.join(EXAMPLES)}")


_SHORT_DURATION = re.compile(r"(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?")


def iso_duration(text: str) -> str:
    """A duration given as ISO-8601 (`PT2H`, returned as it is) or short (`2h`, `90m`,
    `1h30m`, `1d`, `45s`), as ISO-8601; ValueError for anything else."""
    if text.upper().startswith("P"):
        return text.upper()
    match = _SHORT_DURATION.fullmatch(text.strip().lower())
    if not match or not any(match.groups()):
        raise ValueError(
            f"'{text}' is not a duration: give 2h, 90m, 1h30m, 1d or ISO-8601 such as PT2H"
        )
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "")
