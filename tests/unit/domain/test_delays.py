"""Known answers of the delay distributions: configured medians and p90s come back as the
model's quantiles, the clamps hold, and the hourly kernel of simple delays is what a hand
computation gives."""

from __future__ import annotations

import numpy as np
import pytest

from app.domain.catalog import Delay
from app.domain.delays import Z90, Z99, DelayModel

HOUR = 3600.0


def model_of(rate_hours: dict[str, float] | None = None, **fields: object) -> DelayModel:
    return DelayModel.of(Delay.model_validate(fields), rate_hours or {})


def test_the_z_constants_are_the_normal_90th_and_99th_percentiles():
    assert abs(Z90 - 1.281551565544601) < 1e-6
    assert abs(Z99 - 2.326347874040841) < 1e-6


def test_a_lognormal_delay_has_the_configured_median_and_p90():
    delay = model_of(min="PT1H", max="P1D", dist="lognormal", median="PT5H", p90="PT10H")

    median, p90 = delay.quantile(np.array([0.5, 0.9]))

    assert median == pytest.approx(5 * HOUR, rel=1e-12)
    assert p90 == pytest.approx(10 * HOUR, rel=1e-12)


def test_a_lognormal_delay_without_p90_reaches_its_max_at_the_99th_percentile():
    delay = model_of(min="PT1H", max="PT20H", dist="lognormal", median="PT5H")

    assert delay.sigma == pytest.approx(np.log(4) / 2.326347874040841, rel=1e-6)
    assert delay.quantile(np.array([0.99]))[0] == pytest.approx(20 * HOUR, rel=1e-12)
    assert delay.quantile(np.array([0.98]))[0] < 20 * HOUR


def test_lognormal_quantiles_stay_within_min_and_max():
    delay = model_of(min="PT2H", max="PT12H", dist="lognormal", median="PT5H", p90="PT10H")

    values = delay.quantile(np.array([1e-12, 0.001, 0.5, 0.999, 1 - 1e-12]))

    assert values[0] == values[1] == 2 * HOUR
    assert values[-2] == values[-1] == 12 * HOUR
    assert np.all(np.diff(values) >= 0)


def test_a_median_read_from_a_rate_in_hours_is_that_many_hours():
    delay = model_of(
        {"resolution_hours": 6.0},
        min="PT0S",
        max="P2D",
        dist="lognormal",
        median={"rate": "resolution_hours"},
        p90="PT12H",
    )

    assert delay.quantile(np.array([0.5]))[0] == pytest.approx(6 * HOUR, rel=1e-12)


def test_a_lognormal_delay_whose_rate_is_missing_is_refused():
    with pytest.raises(ValueError, match="needs a median"):
        model_of(min="PT0S", max="P1D", dist="lognormal", median={"rate": "unknown_hours"})


def test_an_exponential_delay_has_the_configured_median_and_the_memoryless_quartile():
    delay = model_of(min="PT1H", max="P10D", dist="exponential", median="PT3H")

    median, q3 = delay.quantile(np.array([0.5, 0.75]))

    assert median == pytest.approx(3 * HOUR, rel=1e-12)
    # Past the minimum, the third quartile of an exponential is twice its median.
    assert q3 - HOUR == pytest.approx(2 * (median - HOUR), rel=1e-12)


def test_an_exponential_delay_is_clamped_to_its_max():
    delay = model_of(min="PT0S", max="PT4H", dist="exponential", median="PT2H")

    median, p99 = delay.quantile(np.array([0.5, 0.99]))

    assert median == pytest.approx(2 * HOUR, rel=1e-12)
    # Unclamped, the 99th percentile would be 2 h x log2(100) = 13.3 h.
    assert p99 == 4 * HOUR


def test_a_uniform_delay_runs_linearly_from_min_to_max():
    delay = model_of(min="PT1H", max="PT5H", dist="uniform")

    values = delay.quantile(np.array([0.0, 0.25, 0.5, 1.0]))

    assert values == pytest.approx([1 * HOUR, 2 * HOUR, 3 * HOUR, 5 * HOUR], rel=1e-12)


def test_a_fixed_two_hour_delay_lands_two_hours_on():
    delay = model_of(min="PT2H", max="PT2H", dist="uniform")

    assert delay.hour_kernel() == pytest.approx([0.0, 0.0, 1.0])


def test_a_delay_uniform_over_an_hour_lands_half_in_the_same_hour_half_in_the_next():
    # A cause uniform in its hour plus a delay uniform over [0, 1 h]: their sum passes the
    # hour's end with probability 1/2.
    delay = model_of(min="PT0S", max="PT1H", dist="uniform")

    assert delay.hour_kernel() == pytest.approx([0.5, 0.5], abs=1e-3)


def test_the_hour_kernel_is_a_distribution_with_the_lognormal_median_in_its_middle_hours():
    delay = model_of(min="PT1H", max="P1D", dist="lognormal", median="PT5H", p90="PT10H")

    kernel = delay.hour_kernel()

    assert kernel.sum() == pytest.approx(1.0, abs=1e-12)
    assert kernel[:1].sum() == 0.0
    assert kernel.size == 25
    # Half the delays are under 5 h: landing at most 5 whole hours on takes at least half.
    assert kernel[:6].sum() >= 0.5 >= kernel[:5].sum()
