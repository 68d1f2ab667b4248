"""The alignment planner's kernel: each care home to one GP practice, solved exactly.

The problem (docs/carehomes.md and ADR 0011 explain the choices):

    minimise    sum_ij d_ij x_ij  +  w * sum_j u_j
    subject to  sum_j x_ij = 1                      every home has exactly one practice
                lo <= sum_i x_ij <= hi              homes per practice as near one-to-one
                                                    as the numbers allow (floor/ceil of
                                                    homes / practices unless told)
                u_j >= |sum_i b_i x_ij - f_j|       beds away from the practice's fair share
                x_ij in {0, 1},  u_j >= 0

where d_ij is the straight-line distance in km from practice j to home i, b_i the home's
beds, f_j = (all beds) * (practice j's registered patients) / (all registered patients)
the practice's fair share of beds, and w the travel (km) one bed away from fair share is
worth. Minimising the beds away from fair share is the same as minimising the
patient-weighted distance of each practice's beds per 1,000 patients from the borough's.

It is a transportation problem with a balance term; HiGHS's branch and bound (through
SciPy's ``milp``) solves it to proven optimality (relative gap 0).

Pure: numpy arrays and dataclasses in and out. It must never import Django.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]  # no scipy-stubs in the lock yet
from scipy.optimize import (  # type: ignore[import-untyped]
    Bounds,
    LinearConstraint,
    linprog,
    milp,
)

from joinedup.carehomes.errors import AlignmentInfeasible

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)
DEFAULT_BALANCE_WEIGHT = 0.1
# Above this many (practice, set of homes) patterns the direct model is solved instead.
MAX_PATTERNS = 300_000
STARTING_COLUMNS = 20
UNALIGNED = -1

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Sites:
    """Care homes (size = beds) or practices (size = registered patients), in one order."""

    codes: tuple[str, ...]
    latitude: Floats
    longitude: Floats
    size: Floats

    def __post_init__(self) -> None:
        n = len(self.codes)
        for name in ("latitude", "longitude", "size"):
            if np.shape(getattr(self, name)) != (n,):
                raise ValueError(f"{name} must have one value for each of the {n} sites")

    @classmethod
    def of(
        cls,
        codes: list[str] | tuple[str, ...],
        latitude: list[float],
        longitude: list[float],
        size: list[float],
    ) -> Sites:
        return cls(
            tuple(codes),
            np.asarray(latitude, dtype=np.float64),
            np.asarray(longitude, dtype=np.float64),
            np.asarray(size, dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.codes)


@dataclass(frozen=True)
class Rules:
    """What the planner may do. None for a bound means floor / ceil of homes / practices."""

    balance_weight: float = DEFAULT_BALANCE_WEIGHT  # km of travel worth one bed off fair share
    min_homes: int | None = None
    max_homes: int | None = None

    def bounds(self, homes: int, practices: int) -> tuple[int, int]:
        low = homes // practices if self.min_homes is None else self.min_homes
        high = math.ceil(homes / practices) if self.max_homes is None else self.max_homes
        return low, high


@dataclass(frozen=True)
class Summary:
    """How an alignment looks: travel, and beds and homes by practice."""

    travel_km: float
    beds: Floats  # per practice
    homes: Ints  # per practice
    beds_per_1000: Floats  # per practice: beds per 1,000 registered patients
    fair_beds: Floats  # per practice: its share of all beds by registered patients
    borough_beds_per_1000: float
    unaligned: int

    @property
    def off_fair_share(self) -> float:
        """Beds away from the practices' fair shares, summed over practices."""
        return float(np.abs(self.beds - self.fair_beds).sum())

    @property
    def most_homes(self) -> int:
        return int(self.homes.max()) if self.homes.size else 0


@dataclass(frozen=True)
class Plan:
    practice_of: Ints  # per home, the index of its practice
    distance_km: Floats  # per home, to its practice
    summary: Summary
    objective: float
    min_homes: int
    max_homes: int
    seconds: float
    rules: Rules = field(default_factory=Rules)


def distances_km(homes: Sites, practices: Sites) -> Floats:
    """Great-circle distance from every home (rows) to every practice (columns), in km."""
    lat1 = np.radians(homes.latitude)[:, None]
    lat2 = np.radians(practices.latitude)[None, :]
    dlat = lat2 - lat1
    dlon = np.radians(practices.longitude)[None, :] - np.radians(homes.longitude)[:, None]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
    out: Floats = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return out


def summarise(
    homes: Sites, practices: Sites, practice_of: Ints, distances: Floats | None = None
) -> Summary:
    """Travel and balance of any alignment (UNALIGNED homes count for no practice)."""
    d = distances_km(homes, practices) if distances is None else distances
    aligned = practice_of != UNALIGNED
    rows = np.flatnonzero(aligned)
    cols = practice_of[aligned]
    beds = np.bincount(cols, weights=homes.size[rows], minlength=len(practices)).astype(np.float64)
    count = np.bincount(cols, minlength=len(practices)).astype(np.int64)
    patients = practices.size
    total_patients = float(patients.sum())
    total_beds = float(homes.size.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(patients > 0, beds * 1000.0 / patients, np.nan)
    return Summary(
        travel_km=float(d[rows, cols].sum()),
        beds=beds,
        homes=count,
        beds_per_1000=rate,
        fair_beds=_fair_beds(homes, practices),
        borough_beds_per_1000=total_beds * 1000.0 / total_patients if total_patients else math.nan,
        unaligned=int((~aligned).sum()),
    )


def _fair_beds(homes: Sites, practices: Sites) -> Floats:
    total = float(practices.size.sum())
    share: Floats = float(homes.size.sum()) * practices.size / total
    return share


def _check(homes: Sites, practices: Sites, rules: Rules) -> tuple[int, int]:
    if len(homes) == 0 or len(practices) == 0:
        raise AlignmentInfeasible("there must be at least one care home and one practice")
    for what, sites in (("care home", homes), ("practice", practices)):
        coordinates = np.r_[sites.latitude, sites.longitude]
        if not np.all(np.isfinite(coordinates)):
            raise AlignmentInfeasible(f"every {what} needs a location", where=what)
        if not np.all(sites.size > 0):
            kind = "beds" if what == "care home" else "registered patients"
            raise AlignmentInfeasible(f"every {what} needs a number of {kind} above 0", where=what)
    if not (math.isfinite(rules.balance_weight) and rules.balance_weight >= 0):
        raise AlignmentInfeasible("the balance weight must be 0 or more", where="balance_weight")
    low, high = rules.bounds(len(homes), len(practices))
    if low < 0 or high < 1 or low > high:
        raise AlignmentInfeasible(
            f"homes per practice must be between 0 and a number of at least 1 "
            f"(got {low} to {high})",
            where="homes per practice",
        )
    if low * len(practices) > len(homes) or high * len(practices) < len(homes):
        raise AlignmentInfeasible(
            f"{len(homes)} homes cannot go to {len(practices)} practices with "
            f"{low} to {high} homes each",
            where="homes per practice",
        )
    return low, high


def solve(homes: Sites, practices: Sites, rules: Rules | None = None) -> Plan:
    """The optimal alignment under ``rules`` (see the module docstring for the model)."""
    rules = rules or Rules()
    low, high = _check(homes, practices, rules)
    started = time.perf_counter()
    d = distances_km(homes, practices)
    if _pattern_count(len(homes), len(practices), low, high) <= MAX_PATTERNS:
        practice_of = _solve_patterns(homes, practices, d, rules.balance_weight, low, high)
    else:
        practice_of = _solve_compact(homes, practices, d, rules.balance_weight, low, high)
    summary = summarise(homes, practices, practice_of, d)
    return Plan(
        practice_of=practice_of,
        distance_km=d[np.arange(len(homes)), practice_of],
        summary=summary,
        objective=summary.travel_km + rules.balance_weight * summary.off_fair_share,
        min_homes=low,
        max_homes=high,
        seconds=time.perf_counter() - started,
        rules=rules,
    )


def _pattern_count(n: int, m: int, low: int, high: int) -> int:
    return m * sum(math.comb(n, k) for k in range(low, high + 1))


def _patterns(
    homes: Sites, d: Floats, fair: Floats, weight: float, low: int, high: int
) -> tuple[Floats, sparse.csc_matrix, Ints, list[Ints]]:
    """Every (practice, set of homes) it could take: its cost, and which rows it covers.

    Row i < n is home i (covered once); row n + j is practice j (one set each).
    """
    n, m = d.shape
    costs: list[Floats] = []
    rows: list[Ints] = []
    cols: list[Ints] = []
    owner: list[Ints] = []
    members: list[Ints] = []
    start = 0
    for k in range(low, high + 1):
        sets = np.array(list(itertools.combinations(range(n), k)), dtype=np.int64).reshape(
            math.comb(n, k), k
        )
        s = sets.shape[0]
        beds = homes.size[sets].sum(axis=1)
        travel = d[sets].sum(axis=1)  # (s, m)
        costs.append((travel + weight * np.abs(beds[:, None] - fair[None, :])).ravel())
        index = start + np.arange(s * m)
        for q in range(k):
            rows.append(np.repeat(sets[:, q], m))
            cols.append(index)
        rows.append(n + np.tile(np.arange(m), s))
        cols.append(index)
        owner.append(np.tile(np.arange(m), s))
        members.extend(np.repeat(sets, m, axis=0))
        start += s * m
    r, c = np.concatenate(rows), np.concatenate(cols)
    a = sparse.csc_matrix((np.ones(r.size), (r, c)), shape=(n + m, start))
    return np.concatenate(costs), a, np.concatenate(owner), members


def _solve_patterns(
    homes: Sites, practices: Sites, d: Floats, weight: float, low: int, high: int
) -> Ints:
    """Set partitioning over every (practice, set of homes), solved exactly.

    Its linear relaxation is tight, so: solve the relaxation (a lower bound LB and each
    pattern's reduced cost rc >= 0), then solve the integer problem over the patterns
    with rc <= g. Any alignment costs LB + (sum of its patterns' rc), so if that
    restricted optimum is within g of LB no left-out pattern can beat it; otherwise
    widen g to the gap found and solve again.
    """
    n, m = len(homes), len(practices)
    cost, a, owner, members = _patterns(homes, d, _fair_beds(homes, practices), weight, low, high)
    bound, duals = _relaxation(cost, a, _starting_columns(cost, owner, members, m))
    reduced = cost - a.T @ duals
    ones = np.ones(n + m)
    gap = max(1e-6, 0.002 * abs(bound))
    while True:
        keep = np.flatnonzero(reduced <= gap + 1e-9)
        result = milp(
            cost[keep],
            constraints=LinearConstraint(a[:, keep], ones, ones),
            integrality=np.ones(keep.size),
            bounds=Bounds(0, 1),
            options={"mip_rel_gap": 0.0},
        )
        if result.status == 0 and result.fun - bound <= gap + 1e-7:
            break
        if keep.size == cost.size:
            raise AlignmentInfeasible(f"the solver found no alignment: {result.message}")
        gap = max(float(result.fun) - bound, 4 * gap) if result.status == 0 else 4 * gap
    practice_of = np.full(n, UNALIGNED, dtype=np.int64)
    for column in keep[result.x > 0.5]:
        practice_of[members[column]] = owner[column]
    return practice_of


def _starting_columns(cost: Floats, owner: Ints, members: list[Ints], m: int) -> Ints:
    """The cheapest few patterns of each size for each practice: where pricing starts."""
    size = np.array([len(x) for x in members])
    picked = []
    for j in range(m):
        for k in np.unique(size):
            mine = np.flatnonzero((owner == j) & (size == k))
            take = min(STARTING_COLUMNS, mine.size)
            picked.append(mine[np.argpartition(cost[mine], take - 1)[:take]])
    return np.unique(np.concatenate(picked))


def _relaxation(cost: Floats, a: sparse.csc_matrix, active: Ints) -> tuple[float, Floats]:
    """The linear relaxation by column generation: solve over some patterns, add those
    with negative reduced cost, repeat. Costly artificial columns keep every restricted
    problem feasible; they are all zero at the end when the full problem is feasible."""
    rows = a.shape[0]
    penalty = float(cost.max()) * rows + 1.0
    ones = np.ones(rows)
    while True:
        restricted = sparse.hstack([a[:, active], sparse.eye(rows, format="csc")]).tocsc()
        relaxed = linprog(
            np.r_[cost[active], np.full(rows, penalty)],
            A_eq=restricted,
            b_eq=ones,
            bounds=(0, None),
            method="highs",
        )
        if relaxed.status != 0:
            raise AlignmentInfeasible(f"the solver found no alignment: {relaxed.message}")
        duals = relaxed.eqlin.marginals
        reduced = cost - a.T @ duals
        reduced[active] = 0.0
        entering = np.flatnonzero(reduced < -1e-9)
        if entering.size == 0:
            if relaxed.x[active.size :].sum() > 1e-6:
                raise AlignmentInfeasible("no alignment meets the rules")
            return float(relaxed.fun), duals
        take = min(entering.size, 5 * rows)
        best = entering[np.argpartition(reduced[entering], take - 1)[:take]]
        active = np.union1d(active, best)


def _solve_compact(
    homes: Sites, practices: Sites, d: Floats, weight: float, low: int, high: int
) -> Ints:
    """The direct model (x_ij and u_j) when there are too many patterns to list."""
    n, m = len(homes), len(practices)
    fair = _fair_beds(homes, practices)
    x_count = n * m
    cost = np.r_[d.ravel(), np.full(m, weight)]
    home_rows = sparse.kron(sparse.eye(n), np.ones((1, m)))
    practice_rows = sparse.kron(np.ones((1, n)), sparse.eye(m))
    bed_rows = sparse.kron(homes.size[None, :], sparse.eye(m))
    ident = sparse.eye(m)
    a = sparse.vstack(
        [
            sparse.hstack([home_rows, sparse.csr_matrix((n, m))]),
            sparse.hstack([practice_rows, sparse.csr_matrix((m, m))]),
            sparse.hstack([bed_rows, -ident]),  # beds_j - u_j <= f_j
            sparse.hstack([bed_rows, ident]),  # beds_j + u_j >= f_j
        ]
    ).tocsr()
    lower = np.r_[np.ones(n), np.full(m, low), np.full(m, -np.inf), fair]
    upper = np.r_[np.ones(n), np.full(m, high), fair, np.full(m, np.inf)]
    result = milp(
        cost,
        constraints=LinearConstraint(a, lower, upper),
        integrality=np.r_[np.ones(x_count), np.zeros(m)],
        bounds=Bounds(np.zeros(x_count + m), np.r_[np.ones(x_count), np.full(m, np.inf)]),
        options={"mip_rel_gap": 0.0},
    )
    if result.status != 0 or result.x is None:
        raise AlignmentInfeasible(f"the solver found no alignment: {result.message}")
    practice_of: Ints = result.x[:x_count].reshape(n, m).argmax(axis=1).astype(np.int64)
    return practice_of


def objective_of(homes: Sites, practices: Sites, practice_of: Ints, rules: Rules) -> float:
    """The planner's objective for any complete alignment (to compare with the optimum)."""
    s = summarise(homes, practices, practice_of)
    return s.travel_km + rules.balance_weight * s.off_fair_share
