"""Delay distributions of chains and cascades, as the generators use them.

The same distribution serves both generators: the live one samples a delay per event; the
hourly baseline turns it into a kernel over whole-hour offsets (where in the hour the cause
happened is uniform), so counts can be spread without sampling each event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from app.domain.catalog import Delay
from app.domain.randomness import normal_quantile

HOUR_SECONDS = 3600.0
Z90, Z99 = (float(z) for z in normal_quantile(np.array([0.90, 0.99])))
"""The standard normal's 90th and 99th percentiles, from the same quantile function that draws
the delays, so a lognormal's configured p90 is its quantile at 0.9."""
_KERNEL_SAMPLES = 4096
_POSITIONS_IN_HOUR = 16


@dataclass(frozen=True)
class DelayModel:
    """A delay distribution in seconds, clamped to [low, high]."""

    dist: str
    low: float
    high: float
    mu: float = 0.0
    sigma: float = 0.0
    scale: float = 0.0

    @classmethod
    def of(cls, delay: Delay, rate_hours: Mapping[str, float]) -> DelayModel:
        """The model of a configured delay; `rate_hours` resolves medians read from rates."""
        low, high = delay.min.total_seconds(), delay.max.total_seconds()
        if delay.dist == "uniform":
            return cls("uniform", low, high)
        median = _seconds(delay.resolve("median", rate_hours))
        if delay.dist == "exponential":
            return cls("exponential", low, high, scale=max(median - low, 1.0) / np.log(2))
        p90 = delay.resolve("p90", rate_hours)
        if p90 is not None:
            sigma = np.log(_seconds(p90) / median) / Z90
        else:
            sigma = np.log(max(high, median * 1.0001) / median) / Z99
        return cls("lognormal", low, high, mu=float(np.log(median)), sigma=float(sigma))

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Delays (seconds) at probabilities `u` in (0, 1): the inverse CDF, clamped."""
        if self.dist == "uniform":
            values = self.low + u * (self.high - self.low)
        elif self.dist == "exponential":
            values = self.low - self.scale * np.log1p(-u)
        else:
            values = self._lognormal(normal_quantile(u))
        return np.clip(values, self.low, self.high)

    def _lognormal(self, standard_normal: np.ndarray) -> np.ndarray:
        return np.exp(self.mu + self.sigma * standard_normal)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """`size` delays in seconds."""
        if self.dist == "uniform":
            values = rng.uniform(self.low, self.high, size)
        elif self.dist == "exponential":
            values = self.low + rng.exponential(self.scale, size)
        else:
            values = self._lognormal(rng.standard_normal(size))
        return np.clip(values, self.low, self.high)

    def hour_kernel(self) -> np.ndarray:
        """P(the caused event lands k whole hours after the cause's hour), k = 0, 1, ...

        Deterministic: evaluated on a grid of quantiles and positions within the hour."""
        u = (np.arange(_KERNEL_SAMPLES) + 0.5) / _KERNEL_SAMPLES
        delays_h = self.quantile(u) / HOUR_SECONDS
        positions = (np.arange(_POSITIONS_IN_HOUR) + 0.5) / _POSITIONS_IN_HOUR
        offsets = np.floor(positions[:, None] + delays_h[None, :]).astype(np.int64).ravel()
        kernel = np.bincount(offsets).astype(float)
        return kernel / kernel.sum()


def _seconds(value: timedelta | None) -> float:
    if value is None:
        raise ValueError("this delay needs a median (or its rate is missing)")
    return max(value.total_seconds(), 1.0)
