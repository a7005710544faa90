"""Counter-based randomness: uniform numbers as a pure function of a seed and integer keys.

The live generator decides a caused event (does the rating come, when) from the seed, the
cause's log position and the rule, not from a random stream's state. So after a crash the
decisions still pending can be computed again from the log alone, and come out the same.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer: a bijection of uint64 that scatters nearby inputs."""
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def uniforms(seed: int, *keys: int | np.ndarray) -> np.ndarray:
    """Uniform numbers in (0, 1), one per element of the broadcast keys, reproducible."""
    with np.errstate(over="ignore"):
        state = _splitmix(np.asarray(seed % 2**64, dtype=np.uint64))
        for key in keys:
            state = _splitmix(state ^ np.asarray(key, dtype=np.int64).astype(np.uint64))
    return ((state >> np.uint64(11)).astype(np.float64) + 0.5) / float(2**53)


# Acklam's rational approximation of the standard normal quantile (|relative error| < 1.2e-9).
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)  # fmt: skip
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_LOW = 0.02425


def normal_quantile(u: np.ndarray) -> np.ndarray:
    """The standard normal's inverse CDF at probabilities `u` in (0, 1), vectorized."""
    u = np.asarray(u, dtype=float)
    result = np.empty_like(u)
    low, high = u < _LOW, u > 1 - _LOW
    mid = ~(low | high)
    q = u[mid] - 0.5
    r = q * q
    numerator = ((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]
    denominator = ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1
    result[mid] = q * numerator / denominator
    for mask, sign, p in ((low, 1.0, u[low]), (high, -1.0, 1 - u[high])):
        if not p.size:
            continue
        q = np.sqrt(-2 * np.log(p))
        numerator = ((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]
        denominator = (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1
        result[mask] = sign * numerator / denominator
    return result
