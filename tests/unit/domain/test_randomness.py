"""Known answers of the counter-based randomness: the uniforms and the normal quantile."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from app.domain.randomness import normal_quantile, uniforms

# The standard normal's quantiles as printed in the usual tables (to 15 digits).
TEXTBOOK_QUANTILES = {
    0.5: 0.0,
    0.8413447460685429: 1.0,  # Phi(1)
    0.9: 1.281551565544601,
    0.975: 1.959963984540054,
    0.99: 2.326347874040841,
    0.999: 3.090232306167813,
    0.025: -1.959963984540054,
    0.001: -3.090232306167813,
    1e-6: -4.753424308822899,
}


@pytest.mark.parametrize(("u", "z"), TEXTBOOK_QUANTILES.items())
def test_the_normal_quantile_matches_the_textbook_figure_to_1e_6(u, z):
    assert normal_quantile(np.array([u]))[0] == pytest.approx(z, abs=1e-6)


def test_the_normal_quantile_keeps_acklams_relative_error_across_all_three_regions():
    # 0.02425 and 0.97575 are where the central rational function hands over to the tails.
    u = np.concatenate([
        np.geomspace(1e-12, 0.02425, 200),
        np.linspace(0.02425, 0.97575, 2001),
        1 - np.geomspace(1e-12, 0.02425, 200),
    ])  # fmt: skip
    exact = np.array([NormalDist().inv_cdf(float(p)) for p in u])
    computed = normal_quantile(u)

    away_from_zero = np.abs(exact) > 1e-3
    relative = np.abs(computed - exact)[away_from_zero] / np.abs(exact[away_from_zero])
    assert relative.max() < 1.2e-9
    assert np.abs(computed - exact).max() < 1e-8


def test_the_normal_quantile_is_odd_about_one_half():
    u = np.linspace(0.001, 0.499, 499)

    assert normal_quantile(1 - u) == pytest.approx(-normal_quantile(u), abs=1e-12)


def test_the_normal_quantile_rises_with_the_probability():
    u = np.linspace(1e-9, 1 - 1e-9, 100_001)

    assert np.all(np.diff(normal_quantile(u)) > 0)


def test_the_normal_quantile_keeps_the_shape_of_its_input():
    u = np.full((3, 4), 0.5)

    assert normal_quantile(u).shape == (3, 4)


def test_a_seed_without_keys_is_one_splitmix64_step_from_it():
    # splitmix64 seeded with 0 first returns 0xE220A8397B1DCDAF (Steele, Lea & Flood 2014;
    # Vigna's reference C); its top 53 bits, centred in their interval, are the uniform.
    expected = ((0xE220A8397B1DCDAF >> 11) + 0.5) / 2**53

    assert uniforms(0) == expected == pytest.approx(0.8833108082136427, abs=1e-16)


def test_the_seed_is_taken_modulo_two_to_the_64():
    assert uniforms(2**64) == uniforms(0)
    assert uniforms(-1) == uniforms(2**64 - 1)


def test_the_same_seed_and_keys_give_the_same_numbers_every_time():
    keys = np.arange(1000)

    assert np.array_equal(uniforms(20261125, keys, 3, 1), uniforms(20261125, keys, 3, 1))


def test_a_number_depends_on_its_own_keys_only_not_on_the_batch_it_is_drawn_in():
    # The generator decides a caused event from the cause's position: a restart that meets
    # the position in another batch decides the same.
    batch = uniforms(7, np.arange(100, 200), 5, 1)

    assert uniforms(7, 150, 5, 1) == batch[50]
    assert uniforms(7, np.array([150, 3]), 5, 1)[0] == batch[50]


def test_keys_broadcast_against_each_other():
    grid = uniforms(7, np.arange(3)[:, None], np.arange(4))

    assert grid.shape == (3, 4)
    assert grid[2, 1] == uniforms(7, 2, 1)


def test_the_seed_each_key_and_the_order_of_the_keys_all_change_the_number():
    base = uniforms(7, 1, 2)

    assert uniforms(8, 1, 2) != base
    assert uniforms(7, 1, 3) != base
    assert uniforms(7, 2, 1) != base


def test_uniforms_stay_strictly_inside_zero_and_one():
    values = uniforms(1, np.arange(200_000))

    # The extremes possible are half a step of 2**-53 from either end.
    assert values.min() >= 2**-54 and values.max() <= 1 - 2**-54


def test_uniforms_fill_each_tenth_of_the_interval_evenly():
    values = uniforms(20261125, np.arange(100_000))

    counts = np.bincount((values * 10).astype(int), minlength=10)

    # Each tenth expects 10,000 with a binomial spread of 95: within 4 spreads.
    assert np.all(np.abs(counts - 10_000) < 380)
    assert values.mean() == pytest.approx(0.5, abs=0.003)


def test_numbers_under_different_last_keys_are_uncorrelated():
    # The generator draws "does it happen" and "when" under the same position with another key.
    positions = np.arange(100_000)
    first, second = uniforms(3, positions, 4, 1), uniforms(3, positions, 4, 2)

    # The sample correlation of independent uniforms has a spread of 1/sqrt(n) ~ 0.0032.
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.013
    # Neighbouring positions too (splitmix scatters nearby inputs).
    assert abs(np.corrcoef(first[:-1], first[1:])[0, 1]) < 0.013
