"""A small typed wrapper over HiGHS (highspy) for the panel-selection kernel.

Two shapes only: a one-off LP (the column-generation master, solved by the interior-point
method without crossover when strictly complementary duals are needed, see ADR 0008) and
a reusable integer program whose objective changes between solves (the pricing problem).
Nothing else in the package imports highspy, so its missing type stubs stop here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import highspy
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
INF = float(highspy.kHighsInf)


@dataclass(frozen=True, slots=True)
class SparseRows:
    """A constraint matrix in compressed-column form (HiGHS's native layout)."""

    num_rows: int
    starts: IntArray
    indices: IntArray
    values: FloatArray

    @classmethod
    def from_dense(cls, dense: FloatArray) -> SparseRows:
        """Column-compress a dense matrix (rows x columns)."""
        starts = [0]
        indices: list[int] = []
        values: list[float] = []
        for col in dense.T:
            nz = np.flatnonzero(col)
            indices.extend(nz.tolist())
            values.extend(col[nz].tolist())
            starts.append(len(indices))
        return cls(
            dense.shape[0],
            np.asarray(starts, dtype=np.int64),
            np.asarray(indices, dtype=np.int64),
            np.asarray(values, dtype=np.float64),
        )


@dataclass(frozen=True, slots=True)
class LpResult:
    """What a solve returns: status, primal values, row duals and the objective."""

    optimal: bool
    status: str
    x: FloatArray
    row_dual: FloatArray
    objective: float


def _new_highs(threads: int = 1) -> Any:
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", threads)
    h.setOptionValue("random_seed", 0)
    return h


def _lp(
    cost: FloatArray,
    matrix: SparseRows,
    bounds: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    *,
    maximize: bool,
    integer: bool,
) -> Any:
    col_lo, col_hi, row_lo, row_hi = bounds
    lp = highspy.HighsLp()
    lp.num_col_ = len(cost)
    lp.num_row_ = matrix.num_rows
    lp.col_cost_ = cost
    lp.col_lower_ = col_lo
    lp.col_upper_ = col_hi
    lp.row_lower_ = row_lo
    lp.row_upper_ = row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.starts
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.values
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * len(cost)
    return lp


def solve_lp(
    cost: FloatArray,
    matrix: SparseRows,
    bounds: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    *,
    maximize: bool,
    method: Literal["ipm", "simplex"] = "ipm",
) -> LpResult:
    """Solve an LP; with ``ipm`` crossover is off, so the point is interior to the optimal face.

    ``bounds`` is (column lower, column upper, row lower, row upper).
    """
    h = _new_highs()
    if method == "ipm":
        h.setOptionValue("solver", "ipm")
        h.setOptionValue("run_crossover", "off")
        h.setOptionValue("ipm_optimality_tolerance", 1e-9)
        h.setOptionValue("primal_feasibility_tolerance", 1e-9)
        h.setOptionValue("dual_feasibility_tolerance", 1e-9)
    else:
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("presolve", "off")
    h.passModel(_lp(cost, matrix, bounds, maximize=maximize, integer=False))
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    sol = h.getSolution()
    return LpResult(
        optimal=status == "Optimal",
        status=str(status),
        x=np.asarray(sol.col_value, dtype=np.float64),
        row_dual=np.asarray(sol.row_dual, dtype=np.float64),
        objective=float(h.getInfo().objective_function_value),
    )


class LpModel:
    """A minimisation LP kept in HiGHS between solves, so columns can be added and the
    simplex method warm-starts; ``solve("ipm")`` runs the interior-point method without
    crossover (for strictly complementary duals)."""

    def __init__(
        self,
        cost: FloatArray,
        matrix: SparseRows,
        bounds: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    ) -> None:
        self._h = _new_highs()
        self._h.passModel(_lp(cost, matrix, bounds, maximize=False, integer=False))
        self._saved_basis: Any = None

    def _restore(self) -> None:
        """Put back the last simplex basis, which an IPM solve without crossover discards."""
        if self._saved_basis is not None:
            self._h.setBasis(self._saved_basis)
            self._saved_basis = None

    def add_columns(
        self, cost: FloatArray, lower: FloatArray, upper: FloatArray, matrix: SparseRows
    ) -> None:
        """Append columns (given column-compressed over the existing rows)."""
        self._restore()
        self._h.addCols(
            len(cost),
            cost,
            lower,
            upper,
            len(matrix.values),
            matrix.starts[:-1].astype(np.int32),
            matrix.indices.astype(np.int32),
            matrix.values,
        )

    def set_coefficient(self, row: int, col: int, value: float) -> None:
        self._restore()
        self._h.changeCoeff(row, col, value)

    def set_row_bounds(self, row: int, lower: float, upper: float) -> None:
        self._restore()
        self._h.changeRowBounds(row, lower, upper)

    def solve(self, method: Literal["ipm", "simplex"]) -> LpResult:
        """Solve by dual simplex (warm) or by IPM without crossover."""
        h = self._h
        self._restore()
        if method == "ipm":
            basis = h.getBasis()
            self._saved_basis = basis if basis.valid else None
            h.setOptionValue("solver", "ipm")
            h.setOptionValue("run_crossover", "off")
            h.setOptionValue("ipm_optimality_tolerance", 1e-9)
        else:
            h.setOptionValue("solver", "simplex")
            h.setOptionValue("presolve", "off")  # presolve would discard the warm basis
            # New columns leave the basis primal feasible: the primal simplex continues.
            h.setOptionValue("simplex_strategy", 4)
        h.run()
        h.setOptionValue("presolve", "choose")
        status = str(h.modelStatusToString(h.getModelStatus()))
        sol = h.getSolution()
        return LpResult(
            optimal=status == "Optimal",
            status=status,
            x=np.asarray(sol.col_value, dtype=np.float64),
            row_dual=np.asarray(sol.row_dual, dtype=np.float64),
            objective=float(h.getInfo().objective_function_value),
        )


@dataclass(frozen=True, slots=True)
class MipResult:
    """An integer solve: feasible?, best value, proven bound on the best value, the point."""

    feasible: bool
    status: str
    value: float
    bound: float
    x: FloatArray


class IntegerProgram:
    """An all-integer program built once and re-solved with new objectives (maximisation)."""

    def __init__(
        self,
        matrix: SparseRows,
        bounds: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
        *,
        gap: float = 1e-7,
        time_limit: float = 600.0,
    ) -> None:
        self.num_cols = len(bounds[0])
        self._h = _new_highs()
        self._h.setOptionValue("mip_rel_gap", gap)
        self._h.setOptionValue("mip_abs_gap", 1e-9)
        self._h.setOptionValue("time_limit", time_limit)
        cost = np.zeros(self.num_cols)
        self._h.passModel(_lp(cost, matrix, bounds, maximize=True, integer=True))

    def set_column_bounds(self, lower: FloatArray, upper: FloatArray) -> None:
        """Change every column's bounds (e.g. to forbid a volunteer)."""
        idx = np.arange(self.num_cols, dtype=np.int32)
        self._h.changeColsBounds(self.num_cols, idx, lower, upper)

    def set_row_bounds(self, rows: IntArray, lower: FloatArray, upper: FloatArray) -> None:
        """Change the bounds of the given rows."""
        self._h.changeRowsBounds(len(rows), rows.astype(np.int32), lower, upper)

    def maximize(self, cost: FloatArray) -> MipResult:
        """Maximise ``cost @ x`` over the integer points; the bound proves optimality."""
        idx = np.arange(self.num_cols, dtype=np.int32)
        self._h.changeColsCost(self.num_cols, idx, np.asarray(cost, dtype=np.float64))
        self._h.run()
        status = str(self._h.modelStatusToString(self._h.getModelStatus()))
        info = self._h.getInfo()
        feasible = status in {"Optimal", "Time limit reached"} and info.primal_solution_status == 2
        x = np.asarray(self._h.getSolution().col_value, dtype=np.float64)
        return MipResult(
            feasible=feasible,
            status=status,
            value=float(info.objective_function_value) if feasible else -INF,
            bound=float(info.mip_dual_bound) if feasible else -INF,
            x=np.rint(x) if feasible else x,
        )
