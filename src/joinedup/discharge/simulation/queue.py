"""The vectorised kernel: one queue, many replications and many capacities at once.

A queue has ``c`` places (beds, care-home places, home-care slots). Patients arrive in
a Poisson stream and each holds a place for a length of stay. In the delay system a
patient finding every place taken waits (in hospital) first come, first served; in the
loss system (``loss=True``) the patient is lost. Waiting is computed with the
Kiefer-Wolfowitz recursion: keep each place's next free time; an arrival takes the
place that frees first, starts at ``max(arrival, free)`` and frees it ``stay`` later.

All replications *and* all candidate capacities advance together as rows of one
(rows x c_max) array, so the per-arrival Python step is amortised over thousands of
patients; places beyond a row's capacity are set to +inf and never chosen. Arrivals
and stays are drawn per replication from named streams (``streams``) and shared by
every capacity: capacities are compared on the same patients.

Warm start: the census gives the patients in service now (remaining stays, given or
drawn from the steady-state residual distribution) and those already waiting (they
queue at time 0, longest-waiting first). With more patients in service than places,
a place becomes free only when occupancy drops below capacity, so the places start
with the ``c`` longest remaining stays.

Statistics cover patients arriving in [warmup, horizon); each such patient's wait is
known exactly even if it ends after the horizon (FCFS: later arrivals cannot change
it). This module is pure: arrays and dataclasses in and out, no I/O, no Django.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from joinedup.discharge.simulation.stats import (
    BAND_EDGES,
    BAND_LABELS,
    Estimate,
    estimate,
    ratio,
)
from joinedup.discharge.simulation.stays import StayDistribution
from joinedup.discharge.simulation.streams import streams
from joinedup.errors import InvalidInput

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
Progress = Callable[[str, int, int], None]

CHUNK_CELLS = 1 << 18  # arrivals x rows per block, for cache-friendly totals
MIN_CHUNK = 256  # amortises the per-replication draws of a block
MAX_CHUNK = 4096
N_BANDS = len(BAND_LABELS)
# Band of a delay by its whole days 0..21 (21 stands for 21 and more).
_LAST_DAY = float(BAND_EDGES[-1])
_BAND_OF_DAY = np.searchsorted(BAND_EDGES, np.arange(_LAST_DAY + 1), side="right") - 1


@dataclass(frozen=True)
class Census:
    """Today's position of one queue: who is in service and who is waiting."""

    remaining_stay_days: tuple[float, ...] = ()
    occupied: int = 0  # more patients in service, remaining stays drawn (steady state)
    waiting_days: tuple[float, ...] = ()  # one per patient waiting: days waited so far

    def __post_init__(self) -> None:
        if self.occupied < 0:
            raise InvalidInput("the census cannot have a negative occupancy", where="occupied")
        values = (*self.remaining_stay_days, *self.waiting_days)
        if any(not math.isfinite(v) or v < 0 for v in values):
            raise InvalidInput("census days must be finite and not negative", where="census")

    @property
    def in_service(self) -> int:
        return len(self.remaining_stay_days) + self.occupied

    @property
    def waiting(self) -> int:
        return len(self.waiting_days)


@dataclass(frozen=True)
class Queue:
    """One queue: Poisson arrivals, a stay distribution, today's census, delay or loss."""

    arrivals_per_day: float
    stay: StayDistribution
    census: Census = field(default_factory=Census)
    loss: bool = False
    key: str = "queue"  # names the random streams; same key, same patients

    def __post_init__(self) -> None:
        if not (math.isfinite(self.arrivals_per_day) and self.arrivals_per_day > 0):
            raise InvalidInput("arrivals per day must be a positive number", where=self.key)
        if self.loss and self.census.waiting:
            raise InvalidInput("a loss system has no one waiting", where=self.key)


@dataclass(frozen=True)
class Run:
    """How long, how often, from which seed. Statistics cover [warmup_days, horizon_days)."""

    horizon_days: float
    replications: int
    seed: int
    warmup_days: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.horizon_days) and self.horizon_days > 0):
            raise InvalidInput("the horizon must be a positive number of days", where="horizon")
        if not 0 <= self.warmup_days < self.horizon_days:
            raise InvalidInput("the warm-up must be shorter than the horizon", where="warmup")
        if self.replications < 2:
            raise InvalidInput("need at least 2 replications for an interval", where="runs")

    @property
    def window_days(self) -> float:
        return self.horizon_days - self.warmup_days


@dataclass(frozen=True)
class QueueRuns:
    """Per-capacity, per-replication totals (arrays shaped (capacities, replications)).

    Window totals (arrivals in [warmup, horizon)): ``arrivals``, ``wait_days`` (sum of
    their waits), ``delayed`` (wait > 0), ``lost``, ``bands`` (counts per delay band,
    shape (capacities, replications, 7)); time integrals over the window: ``busy_days``
    (places occupied), ``waiting_days`` (patients waiting). Census waiters: their number
    and ``census_wait_days`` (further wait). Flow over [0, horizon]: ``arrived``,
    ``departed``, ``in_service_end``, ``waiting_end``, ``lost_total``.
    """

    capacities: IntArray
    window_days: float
    census_in_service: int
    census_waiting: int
    arrivals: FloatArray
    wait_days: FloatArray
    delayed: FloatArray
    lost: FloatArray
    bands: FloatArray
    busy_days: FloatArray
    waiting_days: FloatArray
    census_wait_days: FloatArray
    arrived: FloatArray
    departed: FloatArray
    in_service_end: FloatArray
    waiting_end: FloatArray
    lost_total: FloatArray


@dataclass(frozen=True)
class QueueSummary:
    """Estimates across replications for one capacity."""

    capacity: int
    mean_wait_days: Estimate
    share_delayed: Estimate
    blocked_share: Estimate
    band_shares: tuple[Estimate, ...]
    mean_waiting: Estimate  # patients waiting at an average moment (hospital beds)
    wait_days_per_year: Estimate  # bed-days spent waiting, per 365 days
    utilisation: Estimate  # share of places occupied
    census_mean_wait_days: Estimate  # further wait of those waiting at the start
    patients_per_replication: float


def simulate_queue(
    queue: Queue, capacities: Sequence[int], run: Run, *, progress: Progress | None = None
) -> QueueRuns:
    """Simulate ``run.replications`` replications of ``queue`` at every capacity.

    ``progress(stage, done, total)`` is told the simulated days reached after each block.
    """
    caps = _capacities(capacities)
    reps = run.replications
    remaining = _census_remaining(queue, run)
    free = _initial_free(remaining, caps)
    totals = _Totals(rows=caps.size * reps, window=(run.warmup_days, run.horizon_days))
    totals.census(remaining, caps, run.horizon_days)
    if queue.census.waiting:
        arrivals, stays, real = _census_queue(queue, run)
        chunk = _tile(arrivals, stays, real, caps.size)
        starts = _advance(free, chunk[0], chunk[1], loss=False)
        totals.add(*chunk, starts, census=True, loss=False)
    for arrivals, stays, real in _arrival_chunks(queue, run, _chunk_size(caps.size * reps)):
        chunk = _tile(arrivals, stays, real, caps.size)
        starts = _advance(free, chunk[0], chunk[1], loss=queue.loss)
        totals.add(*chunk, starts, census=False, loss=queue.loss)
        if progress is not None:
            reached = min(float(arrivals[-1].min()), run.horizon_days)
            progress(queue.key, int(reached), math.ceil(run.horizon_days))
    totals.end_state(free, run.horizon_days)
    return totals.runs(caps, run, queue.census)


def summarise(runs: QueueRuns, index: int = 0) -> QueueSummary:
    """Means and 95% intervals across replications for capacity ``runs.capacities[index]``."""
    n = runs.arrivals[index]
    per_year = 365.0 / runs.window_days
    capacity = int(runs.capacities[index])
    return QueueSummary(
        capacity=capacity,
        mean_wait_days=estimate(ratio(runs.wait_days[index], n)),
        share_delayed=estimate(ratio(runs.delayed[index], n)),
        blocked_share=estimate(ratio(runs.lost[index], n)),
        band_shares=tuple(estimate(ratio(runs.bands[index, :, b], n)) for b in range(N_BANDS)),
        mean_waiting=estimate(runs.waiting_days[index] / runs.window_days),
        wait_days_per_year=estimate(runs.wait_days[index] * per_year),
        utilisation=estimate(runs.busy_days[index] / (capacity * runs.window_days)),
        census_mean_wait_days=estimate(
            runs.census_wait_days[index] / runs.census_waiting
            if runs.census_waiting
            else np.full(n.shape, np.nan)
        ),
        patients_per_replication=float(n.mean()),
    )


# ---- the step: advance every row over a block of arrivals ------------------------------


def _advance(
    free: FloatArray, arrivals: FloatArray, stays: FloatArray, *, loss: bool
) -> FloatArray:
    """Serve a block of arrivals (shape (k, rows), time-major); return their start times.

    ``free`` (rows x c_max) is updated in place. A lost patient's start is +inf.
    """
    return _advance_loss(free, arrivals, stays) if loss else _advance_delay(free, arrivals, stays)


def _advance_delay(free: FloatArray, arrivals: FloatArray, stays: FloatArray) -> FloatArray:
    rows, places = free.shape
    flat = free.reshape(-1)  # a view: free is C-contiguous
    offsets = np.arange(rows, dtype=np.intp) * places
    starts = np.empty_like(arrivals)
    for arrival, stay, start in zip(arrivals, stays, starts, strict=True):
        place = free.argmin(axis=1)
        place += offsets
        np.maximum(arrival, flat.take(place), out=start)
        flat.put(place, start + stay)
    return starts


def _advance_loss(free: FloatArray, arrivals: FloatArray, stays: FloatArray) -> FloatArray:
    rows, places = free.shape
    flat = free.reshape(-1)
    offsets = np.arange(rows, dtype=np.intp) * places
    starts = np.empty_like(arrivals)
    for arrival, stay, start in zip(arrivals, stays, starts, strict=True):
        place = free.argmin(axis=1)
        place += offsets
        earliest = flat.take(place)
        admitted = earliest <= arrival
        flat.put(place, np.where(admitted, arrival + stay, earliest))
        np.copyto(start, np.where(admitted, arrival, np.inf))
    return starts


# ---- inputs: census, arrivals, stays ---------------------------------------------------


def _capacities(capacities: Sequence[int]) -> IntArray:
    caps = np.asarray(capacities, dtype=np.int64).reshape(-1)
    if caps.size == 0 or int(caps.min()) < 1:
        raise InvalidInput("every capacity must be at least one place", where="capacity")
    return caps


def _census_remaining(queue: Queue, run: Run) -> FloatArray:
    """Remaining stays of the census in service, (replications, in service), ascending."""
    census = queue.census
    given = np.asarray(census.remaining_stay_days, dtype=np.float64)
    out = np.empty((run.replications, census.in_service))
    for r, gen in enumerate(
        streams(run.seed, purpose="census", key=queue.key, replications=run.replications)
    ):
        drawn = queue.stay.remaining(gen.random(census.occupied), gen.random(census.occupied))
        out[r] = np.concatenate([given, drawn])
    out.sort(axis=1)
    return out


def _census_queue(queue: Queue, run: Run) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Those already waiting: arrivals at time 0, longest-waiting first; stays drawn."""
    census = queue.census
    stays = np.empty((census.waiting, run.replications))
    for r, gen in enumerate(
        streams(run.seed, purpose="census", key=queue.key, replications=run.replications)
    ):
        gen.random(2 * census.occupied)  # skip the draws used for those in service
        stays[:, r] = queue.stay.quantile(gen.random(census.waiting))
    arrivals = np.zeros_like(stays)
    return arrivals, stays, np.ones(stays.shape, dtype=np.bool_)


def _initial_free(remaining: FloatArray, caps: IntArray) -> FloatArray:
    """Each row's places' next free times: the c longest remaining stays, else 0; +inf pads."""
    reps, in_service = remaining.shape
    free = np.full((caps.size, reps, int(caps.max())), np.inf)
    for i, c in enumerate(caps.tolist()):
        kept = remaining[:, max(0, in_service - c) :]
        free[i, :, : kept.shape[1]] = kept
        free[i, :, kept.shape[1] : c] = 0.0
    return free.reshape(caps.size * reps, -1)


def _chunk_size(rows: int) -> int:
    return max(MIN_CHUNK, min(MAX_CHUNK, CHUNK_CELLS // rows))


def _arrival_chunks(
    queue: Queue, run: Run, size: int
) -> Iterator[tuple[FloatArray, FloatArray, BoolArray]]:
    """Blocks of ``size`` arrivals per replication (time-major) until all pass the horizon.

    Past its horizon a replication is padded with arrivals at the horizon with zero
    stays (``real`` False): they change no statistic and no place busy at the horizon.
    """
    reps, horizon = run.replications, run.horizon_days
    arrival_streams = streams(run.seed, purpose="arrivals", key=queue.key, replications=reps)
    stay_streams = streams(run.seed, purpose="stays", key=queue.key, replications=reps)
    last = np.zeros(reps)
    while bool((last < horizon).any()):
        arrivals = np.full((reps, size), horizon, dtype=np.float64)
        stays = np.zeros((reps, size))
        for r in np.flatnonzero(last < horizon).tolist():
            gaps = arrival_streams[r].standard_exponential(size)
            gaps /= queue.arrivals_per_day
            gaps[0] += last[r]
            np.cumsum(gaps, out=arrivals[r])
            stays[r] = queue.stay.quantile(stay_streams[r].random(size))
            last[r] = arrivals[r, -1]
        real = arrivals < horizon
        arrivals[~real] = horizon
        stays[~real] = 0.0
        arrivals, stays, real = arrivals.T.copy(), stays.T.copy(), real.T.copy()
        yield arrivals, stays, real


def _tile(
    arrivals: FloatArray, stays: FloatArray, real: BoolArray, copies: int
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Repeat replication columns once per capacity: row i*R + r is capacity i, rep r."""
    return np.tile(arrivals, (1, copies)), np.tile(stays, (1, copies)), np.tile(real, (1, copies))


# ---- totals ----------------------------------------------------------------------------


_TOTALS = (
    "arrivals",
    "wait_days",
    "delayed",
    "lost",
    "busy_days",
    "waiting_days",
    "census_wait_days",
    "arrived",
    "departed",
    "in_service_end",
    "waiting_end",
    "lost_total",
)


class _Totals:
    """Running per-row totals, updated once per block of arrivals."""

    def __init__(self, *, rows: int, window: tuple[float, float]) -> None:
        self.rows = rows
        self.start, self.end = window
        self.sums: dict[str, FloatArray] = {name: np.zeros(rows) for name in _TOTALS}
        self.bands = np.zeros(rows * N_BANDS)
        self._row = np.arange(rows, dtype=np.intp)

    def census(self, remaining: FloatArray, caps: IntArray, horizon: float) -> None:
        """Busy time and departures of the patients in service at the start."""
        busy = np.clip(np.minimum(remaining, self.end) - self.start, 0.0, None).sum(axis=1)
        self.sums["busy_days"] += np.tile(busy, caps.size)
        self.sums["departed"] += np.tile((remaining <= horizon).sum(axis=1), caps.size)
        self._remaining, self._caps = remaining, caps

    def add(
        self,
        arrivals: FloatArray,
        stays: FloatArray,
        real: BoolArray,
        starts: FloatArray,
        *,
        census: bool,
        loss: bool,
    ) -> None:
        """Fold one block of served arrivals into the totals.

        Padding (arrival at the horizon, zero stay) adds nothing to either time integral.
        """
        s = self.sums
        admitted = real & np.isfinite(starts) if loss else real
        departs = starts + stays
        s["busy_days"] += self._overlap(starts, departs)
        s["departed"] += (admitted & (departs <= self.end)).sum(axis=0)
        waits = np.zeros_like(starts) if loss else starts - arrivals
        if not loss:
            s["waiting_days"] += self._overlap(arrivals, starts)
            s["waiting_end"] += (real & (starts > self.end)).sum(axis=0)
        if census:
            s["census_wait_days"] += np.where(real, waits, 0.0).sum(axis=0)
            return
        s["arrived"] += real.sum(axis=0)
        counted = real & (arrivals >= self.start) if self.start > 0 else real
        s["arrivals"] += counted.sum(axis=0)
        if loss:
            lost = (real & ~admitted).sum(axis=0)
            s["lost_total"] += lost
            s["lost"] += (counted & ~admitted).sum(axis=0) if self.start > 0 else lost
        else:
            s["wait_days"] += np.where(counted, waits, 0.0).sum(axis=0)
            s["delayed"] += (counted & (waits > 0)).sum(axis=0)
        self._count_bands(waits, counted & admitted if loss else counted)

    def _overlap(self, begin: FloatArray, finish: FloatArray) -> FloatArray:
        """Per row, total length of [begin, finish) inside the window (empty if finish < begin)."""
        inside = np.minimum(finish, self.end)
        inside -= np.maximum(begin, self.start) if self.start > 0 else begin
        np.maximum(inside, 0.0, out=inside)
        return inside.sum(axis=0)  # type: ignore[no-any-return]

    def _count_bands(self, waits: FloatArray, counted: BoolArray) -> None:
        """Add each counted patient to its row's delay band (others go to a spare bin)."""
        band = _BAND_OF_DAY.take(np.minimum(waits, _LAST_DAY).astype(np.intp))
        cells = np.where(counted, band, N_BANDS) + (N_BANDS + 1) * self._row
        counts = np.bincount(cells.ravel(), minlength=self.rows * (N_BANDS + 1))
        self.bands += counts.reshape(self.rows, N_BANDS + 1)[:, :N_BANDS].ravel()

    def end_state(self, free: FloatArray, horizon: float) -> None:
        """Places busy at the horizon, from the places' free times (plus census overflow)."""
        busy = (np.isfinite(free) & (free > horizon)).sum(axis=1)
        in_service = self._remaining.shape[1]
        overflow = [
            (self._remaining[:, : max(0, in_service - c)] > horizon).sum(axis=1)
            for c in self._caps.tolist()
        ]
        self.sums["in_service_end"] += busy + np.concatenate(overflow)

    def runs(self, caps: IntArray, run: Run, census: Census) -> QueueRuns:
        shape = (caps.size, run.replications)
        arrays = {name: values.reshape(shape) for name, values in self.sums.items()}
        return QueueRuns(
            capacities=caps,
            window_days=run.window_days,
            census_in_service=census.in_service,
            census_waiting=census.waiting,
            bands=self.bands.reshape(*shape, N_BANDS),
            **arrays,
        )
