"""Feed topics: what a client may subscribe to, and which events a subscription matches.

Topics, after normalization (surrounding spaces removed, lower case):

- `*`: every event;
- a domain, written `customer.*` (any of the catalog's domains);
- a frequency group: `high-frequency`, `medium-frequency`, `low-frequency` (the cadence
  groups' `topic` in config/stream-cadences.json);
- a stream name from the catalog, e.g. `customer.booking.requested`;
- `anomalies`: stream events that nothing known explains (flagged against their
  expectation), or that a scenario, modifier or injected event moved out of their usual range
  (`app.domain.events.is_anomalous`), whatever their stream.

Domains and frequency groups expand to the catalog's streams once, at subscribe time, so
matching an event is a set lookup. Scenario and external events, a reset and a clock change
are notices: every subscription with at least one topic receives them. The other control
events are the simulator's bookkeeping (generator ticks, externals scheduled for later) and
are not sent at all.

Pure: stdlib and the catalog's plain data; no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

ALL = "*"
ANOMALIES = "anomalies"
STREAM_KIND = "stream"
PUBLIC_CONTROL_TYPES = frozenset({"control.reset", "control.clock"})
"""The control events a client must know about: a new epoch, a new clock speed."""

T = TypeVar("T")


class UnknownTopics(ValueError):
    """Some topics name nothing the feed knows; `topics` lists them as the client wrote them."""

    def __init__(self, topics: Iterable[str]) -> None:
        self.topics = tuple(topics)
        super().__init__(f"unknown topic(s): {', '.join(self.topics)}")


@dataclass(frozen=True)
class TopicCatalog:
    """The part of the catalog that topics are resolved against."""

    streams: tuple[str, ...]
    """Every stream name, in catalog order."""
    by_domain: Mapping[str, tuple[str, ...]]
    by_group_topic: Mapping[str, tuple[str, ...]]
    """`high-frequency` -> the streams of that cadence group."""
    known: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(
        cls, streams: Mapping[str, tuple[str, str]], group_topics: Mapping[str, str]
    ) -> TopicCatalog:
        """From `{stream: (domain, cadence)}` and `{cadence: topic}`, in the given order."""
        by_domain: dict[str, list[str]] = {}
        by_cadence: dict[str, list[str]] = {}
        for name, (domain, cadence) in streams.items():
            by_domain.setdefault(domain, []).append(name)
            by_cadence.setdefault(cadence, []).append(name)
        return cls(
            streams=tuple(streams),
            by_domain={domain: tuple(names) for domain, names in by_domain.items()},
            by_group_topic={
                topic: tuple(by_cadence.get(cadence, ())) for cadence, topic in group_topics.items()
            },
            known=frozenset(streams),
        )

    @classmethod
    def from_catalog(cls, catalog) -> TopicCatalog:
        """From an `app.domain.catalog.Catalog`."""
        return cls.build(
            {name: (s.domain, s.cadence) for name, s in catalog.streams.items()},
            {cadence: group.topic for cadence, group in catalog.cadences.items()},
        )

    def streams_of(self, topic: str) -> tuple[str, ...] | None:
        """The streams a normalized topic covers; None when the topic is unknown.

        `*` and `anomalies` are not resolved here (they are not lists of streams).
        """
        if topic.endswith(".*"):
            return self.by_domain.get(topic[:-2])
        if topic in self.by_group_topic:
            return self.by_group_topic[topic]
        if topic in self.known:
            return (topic,)
        return None


def normalize_topic(raw: str) -> str:
    """Topics are matched without surrounding spaces and without regard to case."""
    return raw.strip().lower()


def resolve_topics(raw_topics: Iterable[str], catalog: TopicCatalog) -> tuple[str, ...]:
    """Normalize topics, keep their first-seen order, drop repeats.

    Raises UnknownTopics naming every topic that resolves to nothing (as the client wrote it).
    """
    chosen: list[str] = []
    unknown: list[str] = []
    for raw in raw_topics:
        topic = normalize_topic(raw)
        known = topic in (ALL, ANOMALIES) or catalog.streams_of(topic) is not None
        if not known:
            unknown.append(raw)
        elif topic not in chosen:
            chosen.append(topic)
    if unknown:
        raise UnknownTopics(unknown)
    return tuple(chosen)


@dataclass(frozen=True)
class Subscription:
    """A set of topics and what they match, expanded once.

    `matches` is the single definition of what a client receives; SQL filters are only a
    superset that saves reading rows, and every event read is checked here.
    """

    topics: tuple[str, ...] = ()
    all_streams: bool = False
    streams: frozenset[str] = field(default_factory=frozenset)
    anomalies: bool = False

    @classmethod
    def of(cls, topics: Iterable[str], catalog: TopicCatalog) -> Subscription:
        """A subscription to already-resolved topics (see `resolve_topics`)."""
        topics = tuple(dict.fromkeys(topics))
        streams: set[str] = set()
        for topic in topics:
            if topic not in (ALL, ANOMALIES):
                streams.update(catalog.streams_of(topic) or ())
        return cls(
            topics=topics,
            all_streams=ALL in topics,
            streams=frozenset(streams),
            anomalies=ANOMALIES in topics,
        )

    def plus(self, topics: Iterable[str], catalog: TopicCatalog) -> Subscription:
        return Subscription.of((*self.topics, *topics), catalog)

    def minus(self, topics: Iterable[str], catalog: TopicCatalog) -> Subscription:
        removed = set(topics)
        return Subscription.of((t for t in self.topics if t not in removed), catalog)

    @property
    def empty(self) -> bool:
        return not self.topics

    def matches(self, kind: str, stream: str | None, anomalous: bool, type_: str = "") -> bool:
        """Whether an event of this kind and stream, anomalous or not (and of this type, for
        control events), belongs to the subscription."""
        if not self.topics:
            return False
        if kind != STREAM_KIND:
            return is_public_notice(kind, type_)
        if self.all_streams or stream in self.streams:
            return True
        return self.anomalies and anomalous

    def select_stream_events(self, events: Sequence[T]) -> Sequence[T]:
        """The matching ones among stream events (anything with `.stream` and `.anomalous`):
        the per-batch fast path of `matches`, for batches without notices."""
        if not self.topics:
            return ()
        if self.all_streams:
            return events
        streams = self.streams
        if self.anomalies:
            return [e for e in events if e.stream in streams or e.anomalous]
        return [e for e in events if e.stream in streams]

    def snapshot_streams(self, catalog: TopicCatalog) -> tuple[str, ...]:
        """The streams whose latest events make this subscription's snapshot, catalog order."""
        if self.all_streams:
            return catalog.streams
        return tuple(s for s in catalog.streams if s in self.streams)


def is_public_notice(kind: str, type_: str) -> bool:
    """Whether a scenario, external or control event is sent to clients (see the module)."""
    return kind != "control" or type_ in PUBLIC_CONTROL_TYPES


def only_new(old: Subscription, new: Subscription):
    """A predicate for events that `new` matches and `old` did not: what a subscribe that adds
    topics owes the client, since `old`'s events were already delivered live."""

    def matches(kind: str, stream: str | None, anomalous: bool, type_: str = "") -> bool:
        return new.matches(kind, stream, anomalous, type_) and not old.matches(
            kind, stream, anomalous, type_
        )

    return matches
