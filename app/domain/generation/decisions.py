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
from datetime import timedelta

import numpy as np

from app.domain.generation.in_force import InForce
from app.domain.generation.logged import LoggedEffects
from app.domain.generation.records import CausingEvent, Pending
from app.domain.generation.records import seconds as seconds_of
from app.domain.hourly import exclusive_probabilities
from app.domain.model import MarketModel, Rule
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
            positions = np.array([c.position for c in group], dtype=np.int64)
            for chain in self.model.chains:
                if chain.source == stream:
                    targets = {self.model.rules[i].target for i in chain.rules}
                    done = logged.any_of(positions, targets).tolist()
                    decided.extend(self._chain(chain, group, positions, done))
            for index in self.model.cascades:
                rule = self.model.rules[index]
                if rule.source == stream:
                    done = logged.has(positions, rule.target).tolist()
                    decided.extend(self._cascade(rule, group, positions, done))
        return decided

    def _chain(self, chain, causes, positions, done) -> list[Pending]:
        rules = [self.model.rules[i] for i in chain.rules]
        base = np.array([self.model.rates[r.rate] for r in rules])
        draws = uniforms(self.seed, positions, _OUTCOME_KEY, rules[0].index)
        chosen = []
        for moment, members in self.in_force.stretches(causes):
            effective = np.array([[self.in_force.rule_probability(r, moment)] for r in rules])
            rates = np.array([[self.in_force.rate(r.rate, moment)] for r in rules])
            fixed = ~np.isclose(rates, base[:, None])
            probabilities = exclusive_probabilities(base, effective, chain.has_remainder, fixed)
            probabilities = self.in_force.within_capacity(chain, probabilities, moment)
            cumulative = np.cumsum(probabilities)
            picks = np.searchsorted(cumulative, draws[members], side="right").tolist()
            for i, pick in zip(members, picks, strict=True):
                if pick < len(rules) and not done[i]:
                    chosen.append((rules[pick], causes[i]))
        return self._with_delays(chosen)

    def _cascade(self, rule: Rule, causes, positions, done) -> list[Pending]:
        condition = getattr(self.model.catalog.rule(rule.rule_id), "condition", None)
        draws = uniforms(self.seed, positions, rule.index, 0)
        chosen = []
        for moment, members in self.in_force.stretches(causes):
            p = self.in_force.rule_probability(rule, moment)
            fired = (draws[members] < p).tolist()
            for i, fires in zip(members, fired, strict=True):
                if not fires or done[i]:
                    continue
                cause = causes[i]
                if condition is None or condition.holds(cause.data.get(condition.field)):
                    chosen.append((rule, cause))
        return self._with_delays(chosen)

    def _with_delays(self, chosen: list[tuple[Rule, CausingEvent]]) -> list[Pending]:
        by_rule: dict[tuple[int, float], list[CausingEvent]] = defaultdict(list)
        stretches = self.in_force.stretch_starts(
            np.array([seconds_of(c.occurred_at) for _, c in chosen])
        )
        for (rule, cause), stretch in zip(chosen, stretches.tolist(), strict=True):
            by_rule[(rule.index, stretch)].append(cause)
        pending = []
        for (index, _), causes in by_rule.items():
            rule = self.model.rules[index]
            positions = np.array([c.position for c in causes], dtype=np.int64)
            delays = self._delays(rule, causes, positions)
            pending.extend(
                Pending(c.occurred_at + timedelta(seconds=d), index, c)
                for c, d in zip(causes, delays.tolist(), strict=True)
            )
        return pending

    def _delays(
        self, rule: Rule, causes: Sequence[CausingEvent], positions: np.ndarray
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
        starts = np.array([seconds_of(c.occurred_at) for c in causes])
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
