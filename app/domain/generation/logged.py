"""The effects a restore finds already in the log, held compactly: after weeks of generation
there are millions, and a set of Python tuples of them took gigabytes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from app.domain.generation.records import EffectRow

_STREAM_SLOTS = 1024
"""Keys are `position * _STREAM_SLOTS + stream index`: room for that many streams."""


class LoggedEffects:
    """Which (cause position, target stream) pairs the log already holds an effect for, as
    one sorted array of integer keys (8 bytes a pair)."""

    def __init__(self, keys: np.ndarray | None = None) -> None:
        self._keys = np.sort(keys) if keys is not None else np.zeros(0, dtype=np.int64)

    @classmethod
    def from_rows(
        cls, index: Mapping[str, int], chunks: Iterable[Sequence[EffectRow]]
    ) -> LoggedEffects:
        """From the store's rows, chunk by chunk; streams the model does not know are left
        out (they cause nothing it decides)."""
        parts = []
        for rows in chunks:
            known = [(position, index[name]) for position, name in rows if name in index]
            if known:
                pairs = np.array(known, dtype=np.int64)
                parts.append(pairs[:, 0] * _STREAM_SLOTS + pairs[:, 1])
        return cls(np.concatenate(parts)) if parts else cls()

    def __len__(self) -> int:
        return int(self._keys.size)

    def has(self, positions: np.ndarray, stream: int) -> np.ndarray:
        """For each cause position, whether its effect on `stream` is logged."""
        if not self._keys.size:
            return np.zeros(positions.size, dtype=bool)
        wanted = positions.astype(np.int64) * _STREAM_SLOTS + stream
        spots = np.searchsorted(self._keys, wanted)
        inside = spots < self._keys.size
        found = np.zeros(positions.size, dtype=bool)
        found[inside] = self._keys[spots[inside]] == wanted[inside]
        return found

    def any_of(self, positions: np.ndarray, streams: Iterable[int]) -> np.ndarray:
        """For each cause position, whether an effect on any of `streams` is logged."""
        found = np.zeros(positions.size, dtype=bool)
        for stream in streams:
            found |= self.has(positions, stream)
        return found
