"""Predictions remembered: a state's two-level prediction of an answer is worked out once per
distinct situation, and recalled when it comes round again (``StateAgent._predict``).

Speed only, no number: each row's result depends on that row alone, so a recalled result is,
bit for bit, what a fresh computation would give.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.model import streams

FloatArray = NDArray[np.float64]


def unique_rows(rows: FloatArray) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The first index of each distinct row, and for every row the number of its group.

    Rows are grouped by a 64-bit hash of their bytes (numpy's ``unique(axis=0)`` sorts whole
    rows and is many times slower): a sum of the columns' bits, each times its own odd
    multiplier, then mixed. The grouping is then checked row by row, and on the rare hash
    collision the exact ``unique(axis=0)`` is used instead, so the result is always exact.
    """
    bits = np.ascontiguousarray(rows).view(np.uint64)
    multipliers = streams.mix64(np.arange(1, bits.shape[1] + 1, dtype=np.uint64)) | np.uint64(1)
    h = streams.mix64((bits * multipliers).sum(axis=1, dtype=np.uint64))
    _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    if not np.array_equal(rows[first][inverse], rows):
        _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


class RowMemo:
    """Results already computed for distinct key rows, kept from call to call.

    A state's prediction of its answer depends on a few numbers that differ between worlds
    (the key) and on what is fixed for the run; the same situations recur day after day and
    world after world (in a chunk of the baseline, about 4,000 distinct ones against 95,000
    computed call by call), so each is worked out once. Each row's result depends on that row
    alone (see ``choice_probabilities``), so a remembered result is, bit for bit, what a new
    computation would give. At most ``budget`` bytes of results are kept: past it, the memo
    starts again empty.
    """

    def __init__(self, budget: int = 8 * 1024 * 1024) -> None:
        self.budget = budget
        self._slots: dict[bytes, int] = {}
        self._store: list[FloatArray] = []
        self._size = 0

    @staticmethod
    def _rows(keys: FloatArray) -> list[bytes]:
        width = keys.shape[1] * keys.itemsize
        raw = np.ascontiguousarray(keys).tobytes()
        return [raw[i : i + width] for i in range(0, len(raw), width)]

    def recall(self, keys: FloatArray) -> NDArray[np.intp]:
        """The slot of each key row's result, -1 for a row not yet remembered."""
        get = self._slots.get
        return np.array([get(row, -1) for row in self._rows(keys)], dtype=np.intp)

    def results(self, slots: NDArray[np.intp]) -> tuple[FloatArray, ...]:
        """The remembered results at ``slots`` (all found by ``recall``)."""
        return tuple(store[slots] for store in self._store)

    def remember(self, keys: FloatArray, results: tuple[FloatArray, ...]) -> None:
        """Keep ``results`` (arrays whose first axis runs along ``keys``) for later calls."""
        n = keys.shape[0]
        row_bytes = sum(r[0].nbytes for r in results) if n else 0
        if (self._size + n) * row_bytes > self.budget:
            self._slots.clear()
            self._store = []
            self._size = 0
            if n * row_bytes > self.budget:
                return
        if not self._store:
            self._store = [np.empty((max(n, 64), *r.shape[1:]), dtype=r.dtype) for r in results]
        capacity = self._store[0].shape[0]
        if self._size + n > capacity:
            grown = max(2 * capacity, self._size + n)
            self._store = [
                np.concatenate(
                    [
                        store[: self._size],
                        np.empty((grown - self._size, *store.shape[1:]), store.dtype),
                    ]
                )
                for store in self._store
            ]
        for store, result in zip(self._store, results, strict=True):
            store[self._size : self._size + n] = result
        for slot, row in enumerate(self._rows(keys), start=self._size):
            self._slots[row] = slot
        self._size += n
