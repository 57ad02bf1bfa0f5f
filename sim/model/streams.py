"""Random numbers for many parallel runs ("worlds") at once, each world on its own stream.

A run's draws must not depend on which other runs share its batch, how many workers ran the
ensemble, or how the runs were cut into chunks: that is what makes any run of an ensemble replay
exactly as a story, and an ensemble byte-identical for any number of workers. So every draw is
*addressed*: the uniform number a world gets for "Pakistan's answer on day 2, round 0" is a
function of the world's seed and of that address alone, never of a generator's position.

numpy offers counter-based generators (Philox) but one key per generator object, so drawing for
thousands of worlds would mean thousands of generator objects per draw. We write the small
counter-based construction ourselves (Salmon et al. 2011, "Parallel random numbers: as easy as
1, 2, 3"): ``output = mix64(key XOR mix64(address))``, with SplitMix64's finaliser (Steele, Lea &
Flood 2014; the seeding generator of the xoshiro family) as the bijective mixing function.
``tests/test_streams.py`` checks it against SplitMix64's published outputs and for uniformity and
independence.

Run seeds come from the scenario seed through ``numpy.random.SeedSequence``: see ``run_seeds``.
"""

from __future__ import annotations

from enum import IntEnum
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

GAMMA = 0x9E3779B97F4A7C15
"""SplitMix64's increment (the golden ratio in 64 bits)."""
_MASK = (1 << 64) - 1
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53

U64Array = NDArray[np.uint64]
FloatArray = NDArray[np.float64]


def mix64(values: U64Array) -> U64Array:
    """SplitMix64's output function on each value (a bijection of 64-bit integers)."""
    z = values ^ (values >> np.uint64(30))
    z *= _C1
    z ^= z >> np.uint64(27)
    z *= _C2
    z ^= z >> np.uint64(31)
    return z


def mix64_int(value: int) -> int:
    """``mix64`` of one Python integer (for addresses, computed once per draw call)."""
    z = value & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def run_seeds(seed: int, start: int, stop: int) -> NDArray[np.int64]:
    """The seeds of runs ``start`` to ``stop - 1`` of an ensemble with ``seed``.

    The root comes from ``SeedSequence(seed)``; run ``i``'s seed is ``mix64(root XOR
    mix64(i + GAMMA))`` cut to 63 bits so it fits runs.csv's integer column. Any slice can be
    computed alone, without a loop, so chunks and workers agree on every run's seed.
    """
    root = int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0])
    index = np.arange(start, stop, dtype=np.uint64)
    hashed = mix64(index + np.uint64(GAMMA))
    return (mix64(hashed ^ np.uint64(root)) >> np.uint64(1)).astype(np.int64)


class Site(IntEnum):
    """What a random draw decides: the first part of every stream address."""

    RESOLVE = 1
    ATTACK = 2
    CLAIM = 3
    BLAME = 4
    MISREAD = 5
    MISREAD_UP = 6
    ANSWER = 7
    REACTION = 8
    REVIEW = 9
    REVIEW_CHOICE = 10
    PLEDGE = 11
    MEDIATION = 12
    AGREEMENT = 13
    OPERATION = 14
    ENGAGEMENT = 15
    MEASURES = 16
    DIRECT_AGREEMENT = 17


class Streams:
    """One random stream per world, keyed by the world's run seed.

    ``uniform(address, rows)`` gives each selected world its uniform number in [0, 1) for that
    address. Addresses are tuples of small non-negative integers naming what the draw is for
    (``Site`` values below and the day, round and actors concerned).
    """

    def __init__(self, seeds: NDArray[np.int64]) -> None:
        self.seeds = np.asarray(seeds, dtype=np.int64)
        self.keys = mix64(self.seeds.astype(np.uint64))

    @property
    def worlds(self) -> int:
        return int(self.keys.shape[0])

    def uniform(self, address: tuple[int, ...], rows: NDArray[np.intp] | None = None) -> FloatArray:
        """Uniform numbers in [0, 1) for ``address``, one per world (or per world in ``rows``)."""
        keys = self.keys if rows is None else self.keys[rows]
        bits = mix64(keys ^ np.uint64(address_hash(address)))
        return (bits >> np.uint64(11)).astype(np.float64) * _TO_UNIT


@lru_cache(maxsize=1 << 16)
def address_hash(address: tuple[int, ...]) -> int:
    """A 64-bit hash of an address tuple: each part folded in with one mixing step."""
    h = 0
    for part in address:
        h = mix64_int(h ^ ((part + GAMMA) & _MASK))
    return h
