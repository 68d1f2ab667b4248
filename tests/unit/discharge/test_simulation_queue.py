"""The vectorised queue kernel against queueing theory, and its laws.

Statistical checks run at a fixed seed and assert the exact value lies within the
simulated 95% interval and within 3 standard errors; the runs are long enough for the
interval to be a few per cent wide.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joinedup.discharge.simulation.queue import (
    Census,
    Queue,
    QueueSummary,
    Run,
    simulate_queue,
    summarise,
)
from joinedup.discharge.simulation.stats import BAND_EDGES, Estimate
from joinedup.discharge.simulation.stays import Empirical, Exponential, Lognormal
from joinedup.discharge.simulation.theory import erlang_b, erlang_c, mmc_wait_exceeds
from joinedup.errors import InvalidInput

MMC = Queue(9.5, Exponential(10.0))
LONG = Run(horizon_days=365 * 12, warmup_days=365, replications=24, seed=11)


def assert_covers(value: Estimate, exact: float, *, interval: bool = True) -> None:
    """The exact value is within 3 standard errors (and, for headline checks, the 95% CI)."""
    assert abs(value.mean - exact) < 3 * value.se, (value, exact)
    if interval:
        assert value.low <= exact <= value.high, (value, exact)


@pytest.fixture(scope="module")
def mmc_summary() -> QueueSummary:
    return summarise(simulate_queue(MMC, [100], LONG))


def test_mmc_mean_wait_matches_erlang_c(mmc_summary: QueueSummary) -> None:
    assert_covers(mmc_summary.mean_wait_days, 1.01291)


def test_mmc_share_delayed_matches_erlang_c(mmc_summary: QueueSummary) -> None:
    assert_covers(mmc_summary.share_delayed, erlang_c(100, 95.0))


def test_mmc_delay_bands_match_the_wait_distribution(mmc_summary: QueueSummary) -> None:
    # Bands holding at least 1% of patients; rarer ones come in a few long episodes, so
    # an interval from a dozen years of simulation says little about them. Four bands
    # checked at once: within 3 standard errors each (a 95% interval would miss one in 5).
    def exceeds(days: float) -> float:
        return 1.0 if days == 0 else mmc_wait_exceeds(100, 9.5, 10.0, days)

    edges = BAND_EDGES.tolist()
    for band, (low, high) in enumerate(itertools.pairwise(edges[:4])):
        share = mmc_summary.band_shares[band]
        assert_covers(share, exceeds(low) - exceeds(high), interval=False)


def test_mmc_utilisation_is_the_load_per_place(mmc_summary: QueueSummary) -> None:
    assert_covers(mmc_summary.utilisation, 0.95)


@pytest.mark.parametrize("stay", [Exponential(10.0), Lognormal(10.0, 2.0)])
def test_loss_blocked_share_matches_erlang_b_whatever_the_stays(stay: object) -> None:
    queue = Queue(9.5, stay, loss=True)  # type: ignore[arg-type]
    summary = summarise(simulate_queue(queue, [100], LONG))
    assert_covers(summary.blocked_share, 0.0488042)
    assert erlang_b(100, 95.0) == pytest.approx(0.0488042, abs=1e-7)
    assert summary.mean_wait_days.mean == 0.0


def test_replication_is_the_same_whatever_else_runs_beside_it() -> None:
    run = Run(horizon_days=200, replications=3, seed=5)
    wider = Run(horizon_days=200, replications=6, seed=5)
    few = simulate_queue(MMC, [97], run)
    many = simulate_queue(MMC, [97, 100, 103], wider)
    np.testing.assert_array_equal(few.wait_days[0], many.wait_days[0, :3])


def test_warm_start_waiter_waits_for_the_place_to_free() -> None:
    queue = Queue(0.001, Empirical((3.0,)), Census(remaining_stay_days=(4.0,), waiting_days=(2.0,)))
    runs = simulate_queue(queue, [1], Run(horizon_days=30, replications=2, seed=1))
    np.testing.assert_allclose(runs.census_wait_days[0], 4.0)


def test_warm_start_over_capacity_waits_until_occupancy_is_below_capacity() -> None:
    census = Census(remaining_stay_days=(2.0, 6.0), waiting_days=(0.0,))
    queue = Queue(0.001, Empirical((3.0,)), census)
    runs = simulate_queue(queue, [1, 2], Run(horizon_days=30, replications=2, seed=1))
    np.testing.assert_allclose(runs.census_wait_days[:, 0], [6.0, 2.0])


def test_steady_state_remaining_stay_has_the_length_biased_mean() -> None:
    stay = Lognormal(10.0, 1.5)
    rng = np.random.default_rng(3)
    remaining = stay.remaining(rng.random(400_000), rng.random(400_000))
    # E[remaining] = E[S^2] / (2 E[S]) = mean (1 + cv^2) / 2
    assert remaining.mean() == pytest.approx(10.0 * (1 + 1.5**2) / 2, rel=0.03)


def test_warm_start_census_at_steady_state_needs_no_warm_up() -> None:
    census = Census(occupied=95)
    queue = Queue(9.5, Exponential(10.0), census)
    summary = summarise(simulate_queue(queue, [200], Run(365, replications=20, seed=2)))
    assert_covers(summary.utilisation, 0.475)


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"arrivals_per_day": 0.0}, "queue"),
        ({"loss": True, "census": Census(waiting_days=(1.0,))}, "queue"),
    ],
)
def test_queue_rejects_nonsense(kwargs: dict[str, object], where: str) -> None:
    args = {"arrivals_per_day": 1.0, "stay": Exponential(1.0), **kwargs}
    with pytest.raises(InvalidInput) as caught:
        Queue(**args)  # type: ignore[arg-type]
    assert caught.value.where == where


def test_run_and_capacity_reject_nonsense() -> None:
    with pytest.raises(InvalidInput):
        Run(horizon_days=10, replications=1, seed=1)
    with pytest.raises(InvalidInput):
        Run(horizon_days=10, warmup_days=10, replications=2, seed=1)
    with pytest.raises(InvalidInput):
        simulate_queue(MMC, [0], Run(horizon_days=10, replications=2, seed=1))


stays = st.one_of(
    st.floats(0.2, 20).map(Exponential),
    st.tuples(st.floats(0.2, 20), st.floats(0.1, 3)).map(lambda t: Lognormal(*t)),
    st.lists(st.floats(0, 15), min_size=1, max_size=6)
    .filter(lambda v: sum(v) > 0)
    .map(lambda v: Empirical(tuple(v))),
)


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(0.05, 6),
    stay=stays,
    capacities=st.lists(st.integers(1, 12), min_size=1, max_size=3),
    horizon=st.floats(1, 120),
    warmup_share=st.floats(0, 0.9),
    remaining=st.lists(st.floats(0, 60), max_size=15),
    occupied=st.integers(0, 10),
    waiting=st.lists(st.floats(0, 10), max_size=6),
    loss=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_flow_is_conserved(
    rate: float,
    stay: object,
    capacities: list[int],
    horizon: float,
    warmup_share: float,
    remaining: list[float],
    occupied: int,
    waiting: list[float],
    loss: bool,
    seed: int,
) -> None:
    census = Census(tuple(remaining), occupied, () if loss else tuple(waiting))
    queue = Queue(rate, stay, census, loss=loss)  # type: ignore[arg-type]
    run = Run(horizon, replications=3, seed=seed, warmup_days=horizon * warmup_share)
    r = simulate_queue(queue, capacities, run)
    came = r.census_in_service + r.census_waiting + r.arrived
    went = r.departed + r.in_service_end + r.waiting_end + r.lost_total
    np.testing.assert_array_equal(came, went)
    assert np.all(r.in_service_end <= np.maximum(np.array(capacities), census.in_service)[:, None])
    assert np.all(r.wait_days >= 0)
    assert np.all(r.bands.sum(axis=2) == r.arrivals - r.lost)
    if loss:
        assert np.all(r.waiting_end == 0)
        assert np.all(r.wait_days == 0)
    else:
        assert np.all(r.lost_total == 0)


@settings(max_examples=30, deadline=None)
@given(
    rate=st.floats(0.5, 5),
    mean=st.floats(0.5, 10),
    capacity=st.integers(1, 15),
    waiting=st.integers(0, 5),
    seed=st.integers(0, 2**32),
)
def test_one_more_place_never_lengthens_a_wait(
    rate: float, mean: float, capacity: int, waiting: int, seed: int
) -> None:
    queue = Queue(
        rate, Lognormal(mean, 1.2), Census(occupied=capacity, waiting_days=(0.0,) * waiting)
    )
    r = simulate_queue(queue, [capacity, capacity + 1], Run(60, replications=3, seed=seed))
    assert np.all(r.wait_days[1] <= r.wait_days[0] + 1e-9)
    assert np.all(r.census_wait_days[1] <= r.census_wait_days[0] + 1e-9)
