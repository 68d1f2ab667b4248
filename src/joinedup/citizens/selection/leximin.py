"""LEXIMIN (and MAXIMIN) selection by column generation on HiGHS.

LEXIMIN maximises the lowest selection probability any volunteer has, then the next
lowest, and so on (Flanigan et al., Nature 596:548, 2021). Each *round* maximises the
lowest probability z among types not yet fixed:

    master LP   max z  s.t.  sum_j lam_j c_jt / m_t >= z       (t unfixed)
                             sum_j lam_j c_jt / m_t >= v_t     (t fixed at v_t)
                             sum_j lam_j = 1, lam >= 0
    pricing IP  max sum_t y_t c_t / m_t over feasible compositions c

where y are the master's row duals (normalised so the unfixed ones sum to 1). For any
such y, ``pricing bound - sum_fixed y_t v_t`` bounds the true optimum from above, so a
round stops when that bound meets z. Types with y_t > 0 are at z in *every* optimal
distribution (complementary slackness) and are fixed. The master is solved by HiGHS's
interior-point method without crossover, whose solution lies in the relative interior of
the optimal face, so the duals are strictly complementary and each round fixes every type
that can be fixed, not just one (docs/adr/0008-leximin-on-highs.md). On large instances,
once most types are fixed, the master goes to the kernel's own interior-point solver
(ipm.py), which handles those degenerate masters many times faster (issue 9).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse  # type: ignore[import-untyped]  # no scipy-stubs in the lock yet

from joinedup.citizens.selection.columns import ColumnSet, distribution_from
from joinedup.citizens.selection.highs import FloatArray, LpModel, SparseRows, solve_lp
from joinedup.citizens.selection.ipm import solve_standard
from joinedup.citizens.selection.model import Distribution

GAP = 1e-7  # a round stops when the proven bound is within this of z
DUAL_FIX = 1e-6  # a normalised dual above this fixes its type
SLACK = 1e-9  # fixed probabilities are enforced to within this
MAX_ITERATIONS = 20_000
TARGETED = 36  # extra local searches per master solve, one per heaviest-dual type ...
TARGETED_FROM = 300  # ... on instances with at least this many types (measured: below it
# the master re-solves are cheap and the extra searches cost more than they save)
OWN_IPM_FROM = 300  # from this many types, masters whose rows are mostly fixed types go to
# ipm.py (measured: HiGHS's simplex needs thousands of degenerate pivots per re-solve there,
# while in the early rounds its warm re-solves are cheaper than an IPM solve)
LOOSE = 1e-6  # ipm.py tolerance while local search still finds panels; the proof uses 1e-9
# (measured on round 7: 1e-4 took 93 solves, 1e-6 12, 1e-8 14)
OWN_TARGETED = 8  # with ipm.py's central duals fewer targeted searches do better (round 7:
# 8 searches 12 solves and 182 panels; 36: 20 solves and 731 panels; 0: 28 solves)

Method = Literal["ipm", "simplex", "own", "own-loose"]


@dataclass(frozen=True)
class LeximinResult:
    """The distribution, each type's guaranteed probability, and how much work it took."""

    distribution: Distribution
    fixed: FloatArray
    rounds: int
    master_solves: int


@dataclass
class _Round:
    z: float
    lam: FloatArray
    y: FloatArray  # normalised duals per type (unfixed and fixed)
    probs: FloatArray


class _Master:
    """The restricted master LP, kept in HiGHS across iterations and rounds.

    Column 0 is z; then one column per panel. One row per active type
    (``a_t . lam - z >= 0`` while unfixed, ``a_t . lam >= v_t`` once fixed) and the
    convexity row. Posed as ``min -z``: HiGHS 1.15 marks a maximising IPM-only solve
    "Unknown".
    """

    def __init__(self, columns: ColumnSet, active: np.ndarray) -> None:
        self.columns = columns
        self.rows = np.flatnonzero(active)
        self.known = 0
        self.blocks: list[scipy.sparse.csc_array] = []  # panel columns over self.rows
        self.level = np.full(len(self.rows), np.nan)  # fixed value per row (nan: unfixed)
        n = len(self.rows)
        dense = np.zeros((n + 1, 1))
        dense[:n, 0] = -1.0
        self.lp = LpModel(
            np.array([-1.0]),
            SparseRows.from_dense(dense),
            (
                np.array([-np.inf]),
                np.array([np.inf]),
                np.r_[np.zeros(n), 1.0],
                np.r_[np.full(n, np.inf), 1.0],
            ),
        )
        self.sync()

    def sync(self) -> None:
        """Add the panels found since the last call."""
        new = self.columns.columns[self.known :]
        if not new:
            return
        inst = self.columns.instance
        a = np.vstack(new).T[self.rows] / inst.multiplicity[self.rows, None]
        dense = np.vstack((a, np.ones((1, len(new)))))
        self.blocks.append(scipy.sparse.csc_array(dense))
        j = len(new)
        self.lp.add_columns(
            np.zeros(j), np.zeros(j), np.full(j, np.inf), SparseRows.from_dense(dense)
        )
        self.known = len(self.columns.columns)

    def fix(self, types: np.ndarray, value: float) -> None:
        """Hold these types at (at least) ``value`` from now on."""
        where = {int(t): r for r, t in enumerate(self.rows)}
        for t in np.flatnonzero(types):
            self.lp.set_coefficient(where[int(t)], 0, 0.0)
            self.lp.set_row_bounds(where[int(t)], value - SLACK, np.inf)
            self.level[where[int(t)]] = value

    def _solve_own(self, tolerance: float) -> tuple[float, FloatArray, FloatArray] | None:
        """(z, lam, row duals) from ipm.py on ``min -z`` in equality form with row slacks;
        None if it stalls short of the tolerance."""
        n = len(self.rows)
        unfixed = np.isnan(self.level)
        z_col = scipy.sparse.csc_array(np.r_[-unfixed.astype(np.float64), 0.0][:, None])
        slacks = scipy.sparse.vstack(
            (-scipy.sparse.eye_array(n, format="csc"), scipy.sparse.csc_array((1, n)))
        )
        a = scipy.sparse.hstack((z_col, *self.blocks, slacks), format="csc")
        b = np.r_[np.where(unfixed, 0.0, self.level - SLACK), 1.0]
        c = np.zeros(a.shape[1])
        c[0] = -1.0
        res = solve_standard(a, b, c, tolerance=tolerance)
        if not res.optimal:
            return None
        return float(res.x[0]), res.x[1 : 1 + self.known], res.y

    def solve(self, method: Method, unfixed: np.ndarray) -> _Round:
        if method in {"own", "own-loose"}:
            own = self._solve_own(LOOSE if method == "own-loose" else 1e-9)
            if own is not None:
                return self._round(*own, unfixed)
            method = "ipm"  # ipm.py stalled (rounding): HiGHS's IPM solves the same master
        res = self.lp.solve("ipm" if method == "ipm" else "simplex")
        if not res.optimal and method == "simplex":
            res = self.lp.solve("ipm")  # a stalled warm simplex: the IPM starts afresh
        if not res.optimal:
            raise RuntimeError(f"LEXIMIN master LP ended {res.status}")
        return self._round(float(res.x[0]), res.x[1:], res.row_dual, unfixed)

    def _round(self, z: float, x: FloatArray, row_dual: FloatArray, unfixed: np.ndarray) -> _Round:
        inst = self.columns.instance
        duals = np.zeros(inst.num_types)
        duals[self.rows] = np.abs(row_dual[:-1])
        duals /= duals[unfixed].sum() or 1.0
        lam = np.clip(x, 0.0, None)
        probs = (self.columns.matrix().T @ lam) / inst.multiplicity
        return _Round(z, lam, duals, probs)


def _solve_round(
    master: _Master, unfixed: np.ndarray, fixed: np.ndarray, values: FloatArray
) -> tuple[_Round, int]:
    """Column generation until the pricing bound proves the round's z optimal.

    While local search still finds better panels: HiGHS's primal simplex (warm), or on
    large instances once types are fixed ipm.py at a loose tolerance. Then an IPM
    without crossover (HiGHS's, or ipm.py at 1e-9) for strictly complementary duals, and
    the exact pricing program.
    """
    columns, inst = master.columns, master.columns.instance
    own = int(fixed.sum()) >= max(int(unfixed.sum()), 1) and inst.num_types >= OWN_IPM_FROM
    targeted = (OWN_TARGETED if own else TARGETED) if inst.num_types >= TARGETED_FROM else 0
    searching: Method = "own-loose" if own else "simplex"
    proving: Method = "own" if own else "ipm"
    method = searching
    for solves in range(1, MAX_ITERATIONS + 1):
        master.sync()
        rnd = master.solve(method, unfixed)
        weights = rnd.y / inst.multiplicity
        mu = float((columns.matrix() @ weights).max())
        if columns.search(weights, mu + GAP, targeted=targeted):
            method = searching
            continue
        if method == searching:
            method = proving
            continue
        best = columns.price(weights)
        bound = best.bound - float(rnd.y[fixed] @ values[fixed])
        if bound - rnd.z <= GAP or not columns.add(best.x):
            return rnd, solves
        method = searching
    raise RuntimeError("LEXIMIN column generation did not converge")


def leximin(
    columns: ColumnSet, reachable: np.ndarray, *, rounds: int | None = None
) -> LeximinResult:
    """Run LEXIMIN over the reachable, not already selected types (MAXIMIN when rounds=1).

    ``columns`` must already contain panels covering every reachable type.
    """
    inst = columns.instance
    unfixed = reachable & ~inst.forced
    master = _Master(columns, unfixed.copy())
    fixed = np.zeros(inst.num_types, dtype=np.bool_)
    values = np.zeros(inst.num_types)
    done = solves = 0
    while unfixed.any() and (rounds is None or done < rounds):
        rnd, n = _solve_round(master, unfixed, fixed, values)
        done, solves = done + 1, solves + n
        fix = unfixed & (rnd.y > DUAL_FIX) & (rnd.probs <= rnd.z + 1e-6)
        if not fix.any():
            fix[np.flatnonzero(unfixed)[np.argmax(rnd.y[unfixed])]] = True
        values[fix] = rnd.z
        master.fix(fix, rnd.z)
        fixed |= fix
        unfixed &= ~fix
    values[unfixed] = _lowest(values, fixed)  # MAXIMIN: the rest only keep the minimum
    dist = _final(columns, fixed | unfixed, values)
    return LeximinResult(dist, values, done, solves)


def _lowest(values: FloatArray, fixed: np.ndarray) -> float:
    return float(values[fixed].min()) if fixed.any() else 0.0


def _final(columns: ColumnSet, active: np.ndarray, values: FloatArray) -> Distribution:
    """A basic (sparse) distribution over the panels found that gives every type its value."""
    inst = columns.instance
    a = columns.matrix().T / inst.multiplicity[:, None]
    rows = np.flatnonzero(active)
    j = a.shape[1]
    dense = np.vstack((a[rows], np.ones((1, j))))
    row_lo = np.concatenate((values[rows] - 2 * SLACK, [1.0]))
    row_hi = np.concatenate((np.full(len(rows), np.inf), [1.0]))
    res = solve_lp(
        np.zeros(j),
        SparseRows.from_dense(dense),
        (np.zeros(j), np.full(j, np.inf), row_lo, row_hi),
        maximize=False,
        method="simplex",
    )
    if not res.optimal:
        raise RuntimeError(f"LEXIMIN final LP ended {res.status}")
    return distribution_from(columns, np.clip(res.x, 0.0, None))
