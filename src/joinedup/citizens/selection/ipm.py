"""A small primal-dual interior-point LP solver for the LEXIMIN master (issue 9 speed).

The LEXIMIN master has one row per type (hundreds) and thousands of panel columns, and
late in a run it is extremely degenerate: hundreds of fixed types are tight at once. The
simplex method then crawls through thousands of degenerate pivots per re-solve, and
HiGHS's interior-point method (IPX, which solves its linear systems iteratively) took
8 times longer than this on the same masters. Here the normal equations ``A D A^T`` are
only as large as the number of rows, so this solver forms them (sparse product),
factorises them densely by Cholesky and runs Mehrotra's predictor-corrector: about 20-30
iterations of 50-100 ms on the 715-row benchmark masters, whatever the degeneracy. The
Cholesky factorisation runs in BLAS: give the process one BLAS thread on a shared machine.

Like HiGHS's IPM without crossover, the point it returns converges to the analytic centre
of the optimal face, so the duals are strictly complementary (what LEXIMIN's fixing step
needs, ADR 0008) and well centred (which also stabilises column generation: fewer,
better-aimed pricing rounds). It solves ``min c.x  s.t.  A x = b, x >= 0`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg  # type: ignore[import-untyped]  # no scipy-stubs in the lock yet
import scipy.sparse  # type: ignore[import-untyped]

from joinedup.citizens.selection.highs import FloatArray

MAX_STEPS = 100
STEP = 0.995  # fraction of the distance to the boundary taken each step


@dataclass(frozen=True, slots=True)
class IpmResult:
    """Primal point, row duals (``A^T y + s = c``), reduced costs and how it ended."""

    optimal: bool
    x: FloatArray
    y: FloatArray
    s: FloatArray
    iterations: int


def _max_step(v: FloatArray, dv: FloatArray) -> float:
    neg = dv < 0
    if not neg.any():
        return 1.0
    return float(min(1.0, np.min(-v[neg] / dv[neg])))


class _NormalEquations:
    """``A D A^T`` for one scaling ``D``, factorised once, solved many times."""

    def __init__(self, a: scipy.sparse.csc_array, at: scipy.sparse.csr_array, d: FloatArray):
        self.matrix = (a @ scipy.sparse.diags_array(d) @ at).toarray()
        m = self.matrix.shape[0]
        reg = 0.0
        for _ in range(12):
            try:
                self.chol = scipy.linalg.cho_factor(
                    self.matrix + reg * np.eye(m), check_finite=False
                )
                return
            except np.linalg.LinAlgError:
                # Tiny diagonal regularisation, grown until the factorisation succeeds.
                big = max(1.0, float(np.abs(np.diag(self.matrix)).max()))
                reg = max(reg * 100.0, 1e-14 * big)
        raise np.linalg.LinAlgError("normal equations could not be factorised")

    def solve(self, rhs: FloatArray) -> FloatArray:
        """Cholesky solve plus two steps of iterative refinement on the unregularised matrix."""
        v: FloatArray = scipy.linalg.cho_solve(self.chol, rhs, check_finite=False)
        for _ in range(2):
            v += scipy.linalg.cho_solve(self.chol, rhs - self.matrix @ v, check_finite=False)
        return v


def _start(
    a: scipy.sparse.csc_array, at: scipy.sparse.csr_array, b: FloatArray, c: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mehrotra's starting point: least-squares x and (y, s), shifted into the interior."""
    singular = ValueError("the constraint matrix is not of full row rank")
    try:
        eq = _NormalEquations(a, at, np.ones(a.shape[1]))
    except np.linalg.LinAlgError as exc:
        raise singular from exc
    pivots = np.abs(np.diag(eq.chol[0]))
    if pivots.min() <= 1e-6 * pivots.max():  # A A^T singular (or only regularised to pass)
        raise singular
    x = at @ eq.solve(b)
    y = eq.solve(a @ c)
    s = c - at @ y
    x += max(-1.5 * float(x.min()), 0.0)
    s += max(-1.5 * float(s.min()), 0.0)
    xs = float(x @ s)
    x += 0.5 * xs / max(float(s.sum()), 1e-300)
    s += 0.5 * xs / max(float(x.sum()), 1e-300)
    if not (x > 0).all() or not (s > 0).all():
        x, s = np.maximum(x, 1.0), np.maximum(s, 1.0)
    return x, y, s


def solve_standard(
    a: scipy.sparse.csc_array, b: FloatArray, c: FloatArray, *, tolerance: float = 1e-9
) -> IpmResult:
    """Minimise ``c @ x`` subject to ``a @ x == b``, ``x >= 0`` (``a`` of full row rank).

    Stops when the dual residual (relative to 1 + the largest |c|), the complementarity
    ``x.s`` (relative to 1 + |c.x|) and a tenth of the primal residual (relative to 1 + the
    largest |b|) are all below ``tolerance``: the normal equations of a degenerate LP
    grow ill-conditioned near the end, and the primal residual is the first to stall.
    If rounding stalls it first, the best point is returned, marked optimal only when it
    is within ten times the tolerance.
    """
    m, n = a.shape
    if b.shape != (m,) or c.shape != (n,):
        raise ValueError(f"shapes do not match: A {a.shape}, b {b.shape}, c {c.shape}")
    at = a.T.tocsr()
    norm_b, norm_c = 1.0 + float(np.abs(b).max()), 1.0 + float(np.abs(c).max())
    x, y, s = _start(a, at, b, c)
    best: tuple[float, FloatArray, FloatArray, FloatArray] | None = None
    for step in range(MAX_STEPS):
        rp = b - a @ x
        rd = c - at @ y - s
        xs = float(x @ s)
        error = max(
            float(np.abs(rp).max()) / (10.0 * norm_b),
            float(np.abs(rd).max()) / norm_c,
            xs / (1.0 + abs(float(c @ x))),
        )
        if error <= tolerance:
            return IpmResult(True, x, y, s, step)
        if best is None or error < best[0]:
            best = (error, x, y, s)
        elif xs < 1e-6 * tolerance:
            break  # complementarity is used up and the residuals stopped falling
        try:
            eq = _NormalEquations(a, at, x / s)
        except np.linalg.LinAlgError:
            break
        # Predictor (affine) direction, then Mehrotra's centring corrector.
        dx, dy, ds = _direction(eq, a, at, (x, s, rp, rd), -x * s)
        ap, ad = _max_step(x, dx), _max_step(s, ds)
        mu = xs / n
        sigma = (float((x + ap * dx) @ (s + ad * ds)) / n / mu) ** 3
        dx, dy, ds = _direction(eq, a, at, (x, s, rp, rd), sigma * mu - x * s - dx * ds)
        ap, ad = STEP * _max_step(x, dx), STEP * _max_step(s, ds)
        x, y, s = x + ap * dx, y + ad * dy, s + ad * ds
    if best is None:
        return IpmResult(False, x, y, s, MAX_STEPS)
    return IpmResult(best[0] <= 10.0 * tolerance, best[1], best[2], best[3], MAX_STEPS)


def _direction(
    eq: _NormalEquations,
    a: scipy.sparse.csc_array,
    at: scipy.sparse.csr_array,
    point: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    rc: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Newton step for ``A dx = rp``, ``A^T dy + ds = rd``, ``S dx + X ds = rc``."""
    x, s, rp, rd = point
    d = x / s
    dy = eq.solve(rp + a @ (d * rd - rc / s))
    ds = rd - at @ dy
    dx = rc / s - d * ds
    return dx, dy, ds
