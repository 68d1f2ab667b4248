"""Exact queueing formulas (joinedup.discharge.simulation.theory): the simulator's truth."""

from __future__ import annotations

import math

import pytest

from joinedup.discharge.simulation.theory import (
    erlang_b,
    erlang_c,
    mmc_mean_wait,
    mmc_smallest_servers,
    mmc_wait_exceeds,
)
from joinedup.errors import InvalidInput


def test_erlang_c_mean_wait_matches_the_published_case() -> None:
    assert mmc_mean_wait(100, 9.5, 10.0) == pytest.approx(1.01291, abs=5e-6)


def test_erlang_b_matches_the_published_case() -> None:
    assert erlang_b(100, 95.0) == pytest.approx(0.0488042, abs=5e-8)


def test_smallest_servers_for_a_one_day_mean_wait_is_101() -> None:
    assert mmc_smallest_servers(9.5, 10.0, 1.0) == 101
    assert mmc_mean_wait(100, 9.5, 10.0) >= 1.0 > mmc_mean_wait(101, 9.5, 10.0)


def test_erlang_b_recursion_matches_the_direct_formula() -> None:
    c, a = 12, 9.0
    direct = (a**c / math.factorial(c)) / sum(a**k / math.factorial(k) for k in range(c + 1))
    assert erlang_b(c, a) == pytest.approx(direct, rel=1e-12)


def test_erlang_c_single_server_is_the_utilisation() -> None:
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert mmc_mean_wait(1, 0.7, 1.0) == pytest.approx(0.7 / 0.3)  # M/M/1: rho/(mu - lambda)


def test_wait_tail_starts_at_erlang_c_and_decays() -> None:
    assert mmc_wait_exceeds(100, 9.5, 10.0, 0.0) == pytest.approx(erlang_c(100, 95.0))
    assert mmc_wait_exceeds(100, 9.5, 10.0, 2.0) < mmc_wait_exceeds(100, 9.5, 10.0, 1.0)


def test_unstable_queue_waits_forever() -> None:
    assert math.isinf(mmc_mean_wait(90, 9.5, 10.0))
    assert erlang_c(90, 95.0) == 1.0


def test_theory_rejects_nonsense() -> None:
    with pytest.raises(InvalidInput):
        erlang_b(0, 1.0)
    with pytest.raises(InvalidInput):
        erlang_b(3, -1.0)
    with pytest.raises(InvalidInput):
        mmc_smallest_servers(9.5, 10.0, 0.0)
