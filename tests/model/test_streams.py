"""The worlds' random streams: SplitMix64's published outputs, uniformity, independence."""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.model.streams import GAMMA, Streams, address_hash, mix64, run_seeds


def test_mix64_gives_splitmix64s_published_outputs_for_state_zero():
    # SplitMix64 seeded with 0 (Steele, Lea & Flood 2014; Vigna's splitmix64.c): the n-th output
    # is mix64(n * GAMMA)
    states = np.array([(n * GAMMA) % 2**64 for n in range(1, 5)], dtype=np.uint64)
    assert [int(x) for x in mix64(states)] == [
        0xE220A8397B1DCDAF,
        0x6E789E6AA1B965F4,
        0x06C45D188009454F,
        0xF88BB8A8724C81EC,
    ]


def test_run_seeds_of_any_slice_are_those_of_the_whole_ensemble():
    whole = run_seeds(20240116, 0, 1000)
    assert np.array_equal(run_seeds(20240116, 250, 600), whole[250:600])
    assert len(set(whole.tolist())) == 1000
    assert (whole >= 0).all()
    assert not np.array_equal(run_seeds(1, 0, 10), run_seeds(2, 0, 10))


def test_a_worlds_draw_depends_on_its_seed_and_the_address_alone():
    seeds = run_seeds(7, 0, 100)
    together = Streams(seeds).uniform((3, 14, 1))
    alone = [Streams(seeds[i : i + 1]).uniform((3, 14, 1))[0] for i in range(100)]
    assert np.array_equal(together, np.array(alone))
    rows = np.array([5, 17, 99])
    assert np.array_equal(Streams(seeds).uniform((3, 14, 1), rows), together[rows])


def test_draws_are_uniform_and_independent_across_addresses_and_worlds():
    streams = Streams(run_seeds(11, 0, 100_000))
    first, second = streams.uniform((1, 2)), streams.uniform((1, 3))
    assert 0.0 <= first.min() and first.max() < 1.0
    # a chi-square test of 20 equal bins; with this fixed seed p is far from the 0.001 cut
    counts = np.histogram(first, bins=20, range=(0, 1))[0]
    assert stats.chisquare(counts).pvalue > 0.001
    # neighbouring addresses and neighbouring worlds are uncorrelated (|r| < 4 / sqrt(n))
    assert abs(np.corrcoef(first, second)[0, 1]) < 4 / np.sqrt(first.size)
    assert abs(np.corrcoef(first[:-1], first[1:])[0, 1]) < 4 / np.sqrt(first.size)


def test_addresses_of_different_parts_hash_apart():
    hashes = {address_hash((a, b, c)) for a in range(8) for b in range(8) for c in range(8)}
    assert len(hashes) == 512
    assert address_hash((1, 2)) != address_hash((2, 1))
