"""Exact results of queueing theory: the simulator's independent truth.

Erlang B (the loss system M/G/c/c: an arrival finding every place taken is lost; the
blocked share depends on the stays only through their mean) and Erlang C (the delay
system M/M/c: arrivals wait first come, first served). The load ``a`` is arrivals per
day times mean stay in days (the "offered load", in places). Used by the tests, the
docs and the CLI's ``--json`` output; never by the simulation itself.
"""

from __future__ import annotations

import math

from joinedup.errors import InvalidInput


def erlang_b(servers: int, load: float) -> float:
    """Share of arrivals blocked in an M/G/c/c loss system (stable recursion)."""
    _check(servers, load)
    blocked = 1.0
    for k in range(1, servers + 1):
        blocked = load * blocked / (k + load * blocked)
    return blocked


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (needs load < servers)."""
    _check(servers, load)
    if load >= servers:
        return 1.0
    blocked = erlang_b(servers, load)
    return servers * blocked / (servers - load * (1.0 - blocked))


def mmc_mean_wait(servers: int, arrivals_per_day: float, mean_stay_days: float) -> float:
    """Mean wait in days before service in an M/M/c queue (infinite if unstable)."""
    load = arrivals_per_day * mean_stay_days
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) * mean_stay_days / (servers - load)


def mmc_wait_exceeds(
    servers: int, arrivals_per_day: float, mean_stay_days: float, days: float
) -> float:
    """P(wait > days) in an M/M/c queue: C(c, a) * exp(-(c - a) * days / mean stay)."""
    load = arrivals_per_day * mean_stay_days
    if load >= servers:
        return 1.0
    if days < 0:
        return 1.0
    return erlang_c(servers, load) * math.exp(-(servers - load) * days / mean_stay_days)


def mmc_smallest_servers(
    arrivals_per_day: float, mean_stay_days: float, target_mean_wait_days: float
) -> int:
    """The fewest servers whose M/M/c mean wait is under the target."""
    if target_mean_wait_days <= 0:
        raise InvalidInput("the target mean wait must be positive", where="target")
    servers = max(1, math.floor(arrivals_per_day * mean_stay_days) + 1)
    while mmc_mean_wait(servers, arrivals_per_day, mean_stay_days) >= target_mean_wait_days:
        servers += 1
    return servers


def _check(servers: int, load: float) -> None:
    if servers < 1:
        raise InvalidInput(f"need at least one server, not {servers}", where="servers")
    if not (math.isfinite(load) and load > 0):
        raise InvalidInput(f"the offered load must be positive, not {load!r}", where="load")
