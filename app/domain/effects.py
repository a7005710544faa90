"""Effects in force at a moment: what scenarios and external events do to the streams.

The live generator asks an `EffectsSource` at each moment it generates; sources combine
(scenario modifiers, causal external events) by multiplying.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Effects:
    """What active scenarios and external events do at an hour: multipliers per stream (root
    rate, gauge value, or the probability of the rules producing a chain stream) and per
    named rate. The default is no effect."""

    stream_factor: Mapping[int, float] = field(default_factory=dict)
    rate_factor: Mapping[str, float] = field(default_factory=dict)


class EffectsSource:
    """Where the generator asks for the effects in force at a moment (scenarios plug in)."""

    def at(self, moment: datetime) -> Effects:
        return Effects()


class CombinedEffects(EffectsSource):
    """Several sources at once: their multipliers multiply."""

    def __init__(self, *sources: EffectsSource) -> None:
        self.sources = sources

    def at(self, moment: datetime) -> Effects:
        stream: dict[int, float] = {}
        rate: dict[str, float] = {}
        for source in self.sources:
            effects = source.at(moment)
            for key, value in effects.stream_factor.items():
                stream[key] = stream.get(key, 1.0) * value
            for key, value in effects.rate_factor.items():
                rate[key] = rate.get(key, 1.0) * value
        return Effects(stream_factor=stream, rate_factor=rate)
