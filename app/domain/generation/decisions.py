"""Caused events' decisions: when a round of events is in the log, each is decided once by the
rules from its stream. An exclusive chain picks one outcome (its probabilities within the
capacity its outcome needs), a cascade fires or not (testing its condition on the cause's data),
and a delay is drawn from the rule's distribution (with a landing profile, the likeliest of a
few candidate times by that profile's weight). The random numbers are counter-based
(`app.domain.randomness`): a function of the seed, the cause's position and the rule, so a
restart decides the same."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from app.domain.generation.in_force import InForce
from app.domain.generation.logged import LoggedEffects
from app.domain.generation.records import CausingEvent, Pending
from app.domain.generation.records import moment as moment_of
from app.domain.generation.records import seconds as seconds_of
from app.domain.hourly import exclusive_probabilities
from app.domain.model import ChainGroup, MarketModel, Rule
from app.domain.randomness import uniforms

LANDING_TRIES = 4
_OUTCOME_KEY = 1_000_003


class RuleDecisions:
    """Decides the effects of logged causes by the model's chains and cascades."""

    def __init__(self, model: MarketModel, seed: int, in_force: InForce) -> None:
        self.model = model
        self.seed = seed
        self.in_force = in_force

    def decide(
        self, causes: Iterable[CausingEvent], logged: LoggedEffects | None = None
    ) -> list[Pending]:
        """The caused events of each cause, by its rules; those already in the log (`logged`,
        on a restore) are left out. An exclusive chain with any outcome logged is done."""
        by_stream: dict[int, list[CausingEvent]] = defaultdict(list)
        for cause in causes:
            by_stream[cause.stream].append(cause)
        logged = logged or LoggedEffects()
        decided: list[Pending] = []
        for stream, group in by_stream.items():
            chains, cascades = self.model.chains_from[stream], self.model.cascades_from[stream]
            if not chains and not cascades:
                continue
            batch = _Batch.of(group, self.in_force)
            for chain in chains:
                targets = {self.model.rules[i].target for i in chain.rules}
                done = logged.any_of(batch.positions, targets).tolist()
                decided.extend(self._chain(chain, batch, done))
            for rule in cascades:
                done = logged.has(batch.positions, rule.target).tolist()
                decided.extend(self._cascade(rule, batch, done))
        return decided

    def _chain(self, chain: ChainGroup, batch: _Batch, done: list[bool]) -> list[Pending]:
        rules = [self.model.rules[i] for i in chain.rules]
        base = np.array([self.model.rates[r.rate] for r in rules])
        draws = uniforms(self.seed, batch.positions, _OUTCOME_KEY, rules[0].index)
        chosen: list[tuple[Rule, int]] = []
        for moment, members in batch.stretches:
            effective = np.array([[self.in_force.rule_probability(r, moment)] for r in rules])
            rates = np.array([[self.in_force.rate(r.rate, moment)] for r in rules])
            fixed = ~np.isclose(rates, base[:, None])
            probabilities = exclusive_probabilities(base, effective, chain.has_remainder, fixed)
            probabilities = self.in_force.within_capacity(chain, probabilities, moment)
            cumulative = np.cumsum(probabilities)
            picks = np.searchsorted(cumulative, draws[members], side="right").tolist()
            for i, pick in zip(members, picks, strict=True):
                if pick < len(rules) and not done[i]:
                    chosen.append((rules[pick], i))
        return self._with_delays(chosen, batch)

    def _cascade(self, rule: Rule, batch: _Batch, done: list[bool]) -> list[Pending]:
        condition = getattr(self.model.catalog.rule(rule.rule_id), "condition", None)
        draws = uniforms(self.seed, batch.positions, rule.index, 0)
        chosen: list[tuple[Rule, int]] = []
        for moment, members in batch.stretches:
            p = self.in_force.rule_probability(rule, moment)
            fired = np.asarray(members)[draws[members] < p].tolist()
            for i in fired:
                if done[i]:
                    continue
                if condition is None or condition.holds(batch.causes[i].data.get(condition.field)):
                    chosen.append((rule, i))
        return self._with_delays(chosen, batch)

    def _with_delays(self, chosen: list[tuple[Rule, int]], batch: _Batch) -> list[Pending]:
        """The chosen effects (a rule and its cause's index in the batch) with their delays,
        drawn a rule and a stretch at a time."""
        by_rule: dict[tuple[int, float], list[int]] = defaultdict(list)
        for rule, i in chosen:
            by_rule[(rule.index, batch.starts[i])].append(i)
        pending = []
        for (index, _), members in by_rule.items():
            rule = self.model.rules[index]
            causes = [batch.causes[i] for i in members]
            delays = self._delays(rule, causes, batch.positions[members], batch.seconds[members])
            pending.extend(
                Pending(c.occurred_at + timedelta(seconds=d), index, c)
                for c, d in zip(causes, delays.tolist(), strict=True)
            )
        return pending

    def _delays(
        self,
        rule: Rule,
        causes: Sequence[CausingEvent],
        positions: np.ndarray,
        starts: np.ndarray,
    ) -> np.ndarray:
        """Delays in seconds; with a landing profile, the likeliest of a few candidates by the
        profile's weight at the hour each would land in."""
        delay = self.in_force.delay_model(rule, causes[0].occurred_at)
        if rule.landing_profile is None:
            return delay.quantile(uniforms(self.seed, positions, rule.index, 1))
        candidates = np.vstack([
            delay.quantile(uniforms(self.seed, positions, rule.index, 1 + k))
            for k in range(LANDING_TRIES)
        ])  # fmt: skip
        landing = starts[None, :] + candidates
        weights = np.vstack([
            self._profile_weights(rule.landing_profile, landing[k]) for k in range(LANDING_TRIES)
        ])  # fmt: skip
        cumulative = np.cumsum(weights, axis=0) / weights.sum(axis=0)
        pick_u = uniforms(self.seed, positions, rule.index, 99)
        picks = np.minimum((cumulative < pick_u[None, :]).sum(axis=0), LANDING_TRIES - 1)
        return candidates[picks, np.arange(positions.size)]

    def _profile_weights(self, profile: str, seconds: np.ndarray) -> np.ndarray:
        hours = (seconds // 3600).astype("int64").astype("datetime64[h]")
        return self.model.profile_curve(profile, hours)


@dataclass(frozen=True)
class _Batch:
    """One stream's causes, as their rules read them: positions, POSIX seconds, the start
    of each one's stretch of constant effects, and the stretches with their members (worked
    out once per stream, however many rules it has)."""

    causes: list[CausingEvent]
    positions: np.ndarray
    seconds: np.ndarray
    starts: list[float]
    stretches: list[tuple[datetime, list[int]]]

    @classmethod
    def of(cls, causes: list[CausingEvent], in_force: InForce) -> _Batch:
        seconds = np.array([seconds_of(cause.occurred_at) for cause in causes])
        starts = in_force.stretch_starts(seconds).tolist()
        members: dict[float, list[int]] = defaultdict(list)
        for i, start in enumerate(starts):
            members[start].append(i)
        return cls(
            causes,
            np.array([cause.position for cause in causes], dtype=np.int64),
            seconds,
            starts,
            [(moment_of(start), indexes) for start, indexes in members.items()],
        )
