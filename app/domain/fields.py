"""The `data` body of generated events, drawn field by field from the stream's catalog entry.

Ids come from the population pools (`st_004211`), are minted (`bk_3f9a01c2d4e7`) or inherited
from the causing event; enums, numbers and flags follow their distributions, and fields marked
`inherit` copy the cause's value, so a confirmed booking keeps its request's subject.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.domain.catalog import (
    BooleanField,
    EnumField,
    IdField,
    NumberField,
    Population,
    Stream,
    StringField,
)

ID_PREFIXES = {
    "student": "st",
    "tutor": "tu",
    "booking": "bk",
    "session": "se",
    "payment": "pm",
    "ticket": "tk",
    "chat": "ch",
    "campaign": "cp",
    "subscription": "sb",
    "payout": "po",
    "application": "ap",
    "search": "sr",
    "referral": "rf",
    "refund": "rd",
    "deploy": "dp",
}

Data = dict[str, Any]


class DataMaker:
    """Draws the data bodies of one stream's events."""

    def __init__(self, stream: Stream, population: Population) -> None:
        self.stream = stream
        self.population = population
        self._inherits = frozenset(stream.inherited_fields())

    def make(
        self,
        rng: np.random.Generator,
        count: int,
        parents: Sequence[Mapping[str, Any] | None] | None = None,
        fixed: Sequence[Mapping[str, Any] | None] | None = None,
    ) -> list[Data]:
        """`count` data bodies; `parents[i]` is the cause's data, `fixed[i]` values a rule sets
        (a ticket opened after a failed payment is a billing ticket)."""
        parents = parents if parents is not None else [None] * count
        columns = {
            name: self._column(rng, name, spec, count, parents)
            for name, spec in self.stream.fields.items()
        }
        names = list(columns)
        rows = (
            [
                dict(zip(names, values, strict=True))
                for values in zip(*columns.values(), strict=True)
            ]
            if names
            else [{} for _ in range(count)]
        )
        if fixed is not None:
            for row, values in zip(rows, fixed, strict=True):
                if values:
                    row.update(values)
        return rows

    def _column(self, rng, name: str, spec, count: int, parents) -> list[Any]:
        inherited = self._inherited(name, parents)
        if isinstance(spec, IdField):
            drawn = self._ids(rng, spec, count)
        elif isinstance(spec, EnumField):
            weights = np.array(spec.weights) / sum(spec.weights) if spec.weights else None
            picks = rng.choice(len(spec.values), size=count, p=weights)
            drawn = [spec.values[i] for i in picks.tolist()]
        elif isinstance(spec, NumberField):
            drawn = _numbers(rng, spec, count)
        elif isinstance(spec, BooleanField):
            drawn = (rng.random(count) < spec.probability).tolist()
        elif isinstance(spec, StringField):
            drawn = (
                [spec.examples[i] for i in rng.integers(len(spec.examples), size=count).tolist()]
                if (spec.examples)
                else [""] * count
            )
        else:
            raise TypeError(f"no generator for field {name!r} of {self.stream.name}")
        if inherited is None:
            return drawn
        return [own if own is not None else new for own, new in zip(inherited, drawn, strict=True)]

    def _inherited(self, name: str, parents) -> list[Any] | None:
        """The cause's values of this field, where the field inherits (ids from `parent`)."""
        if name not in self._inherits:
            return None
        return [parent.get(name) if parent else None for parent in parents]

    def _ids(self, rng, spec: IdField, count: int) -> list[str]:
        """Ids of the entity's pool, or minted. An id its cause should give (`parent`) is
        drawn from the pool when the cause has none: a chain that began before the log (the
        baseline's work in flight) names people of the marketplace, not strangers."""
        prefix = ID_PREFIXES.get(spec.entity, spec.entity[:2])
        pool = self.population.pool_size(spec.entity)
        if spec.source in ("population", "parent") and pool:
            pattern = f"{prefix}_%0{len(str(pool))}d"
            return [pattern % i for i in rng.integers(pool, size=count).tolist()]
        pattern = f"{prefix}_%012x"
        return [pattern % i for i in rng.integers(2**48, size=count).tolist()]


def _numbers(rng: np.random.Generator, spec: NumberField, count: int) -> list[float | int]:
    spread = spec.sd if spec.sd is not None else (spec.max - spec.min) / 6
    if spec.dist == "uniform":
        values = rng.uniform(spec.min, spec.max, count)
    elif spec.dist == "normal":
        values = rng.normal(spec.mean, spread, count)
    else:
        mean = spec.mean if spec.mean is not None else (spec.min + spec.max) / 2
        sigma2 = np.log(1 + (spread / mean) ** 2)
        values = rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), count)
    values = np.clip(values, spec.min, spec.max)
    if spec.type == "integer":
        return [int(v) for v in np.rint(values).tolist()]
    return [round(v, 2) for v in values.tolist()]
