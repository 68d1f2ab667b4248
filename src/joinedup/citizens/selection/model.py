"""The panel-selection data model: a pool, its quotas, the typed instance and a distribution.

Everything here is a plain frozen dataclass or numpy array; nothing knows about Django,
files or solvers. ``build_instance`` is the one place where interchangeable volunteers
(identical feature values, no household clash, not already selected) are merged into a
*type* with a multiplicity, which is what makes large pools fast.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from joinedup.citizens.selection.highs import SparseRows
from joinedup.errors import InvalidInput

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Method = Literal["leximin", "maximin", "nash", "legacy"]
METHODS: tuple[Method, ...] = ("leximin", "maximin", "nash", "legacy")
Dialect = Literal["features", "categories"]


@dataclass(frozen=True, slots=True)
class Quota:
    """The panel must hold between ``min`` and ``max`` people with ``feature == value``.

    ``min_flex``/``max_flex`` bound how far a relaxation may move ``min``/``max``.
    """

    feature: str
    value: str
    min: int
    max: int
    min_flex: int | None = None
    max_flex: int | None = None

    @property
    def label(self) -> str:
        """How a person reads this quota: ``Gender=Female``."""
        return f"{self.feature}={self.value}"


@dataclass(frozen=True, slots=True)
class QuotaTable:
    """Quotas as read from a file, with the file's dialect and rows kept for round-trips."""

    quotas: tuple[Quota, ...]
    dialect: Dialect = "features"
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()

    @property
    def features(self) -> dict[str, tuple[str, ...]]:
        """Each feature and its values, in file order."""
        out: dict[str, list[str]] = {}
        for q in self.quotas:
            out.setdefault(q.feature, []).append(q.value)
        return {f: tuple(v) for f, v in out.items()}

    def replaced(self, quotas: tuple[Quota, ...]) -> QuotaTable:
        """The same file with new bounds (e.g. a relaxation), in the same order."""
        return QuotaTable(quotas, self.dialect, self.header, self.rows)


@dataclass(frozen=True, slots=True)
class Pool:
    """The volunteers: one row per person as read, an id column and household columns."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    id_column: str
    household_columns: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> tuple[str, ...]:
        """One column's values, stripped."""
        try:
            i = self.header.index(name)
        except ValueError:
            raise InvalidInput(f"the people file has no column {name!r}", where="people") from None
        return tuple(row[i].strip() for row in self.rows)

    @property
    def ids(self) -> tuple[str, ...]:
        return self.column(self.id_column)

    def household_keys(self) -> tuple[str | None, ...]:
        """A normalised address per person (None when no household columns are used)."""
        if not self.household_columns:
            return tuple(None for _ in self.rows)
        cols = [self.column(c) for c in self.household_columns]
        return tuple(
            "|".join(" ".join(c[i].lower().split()) for c in cols) for i in range(self.size)
        )


@dataclass(frozen=True)
class Instance:
    """The pool reduced to types: the integer program every method works on.

    Columns of ``matrix`` are types; rows are [panel size, one per quota, one per
    multi-person household]. Agents with ``type_of == -1`` are unavailable.
    """

    k: int
    type_of: IntArray
    members: tuple[IntArray, ...]
    multiplicity: IntArray
    forced: npt.NDArray[np.bool_]
    quotas: tuple[Quota, ...]
    quota_types: tuple[IntArray, ...]
    households: tuple[IntArray, ...]
    labels: tuple[str, ...] = field(default=())

    @property
    def num_types(self) -> int:
        return len(self.multiplicity)

    @property
    def num_agents(self) -> int:
        return len(self.type_of)

    def matrix(self) -> SparseRows:
        """The constraint matrix: size row, quota rows, household rows."""
        dense = np.zeros((1 + len(self.quotas) + len(self.households), self.num_types))
        dense[0, :] = 1.0
        for r, types in enumerate(self.quota_types, start=1):
            dense[r, types] = 1.0
        for r, types in enumerate(self.households, start=1 + len(self.quotas)):
            dense[r, types] = 1.0
        return SparseRows.from_dense(dense)

    def bounds(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """(type lower, type upper, row lower, row upper) for ``matrix``."""
        lo = np.where(self.forced, 1.0, 0.0)
        hi = self.multiplicity.astype(np.float64)
        h = len(self.households)
        row_lo = np.concatenate(([self.k], [q.min for q in self.quotas], np.zeros(h)))
        row_hi = np.concatenate(([self.k], [q.max for q in self.quotas], np.ones(h)))
        return lo, hi, row_lo.astype(np.float64), row_hi.astype(np.float64)

    def agent_probabilities(self, type_probabilities: FloatArray) -> FloatArray:
        """Spread type probabilities over agents (0 for unavailable agents)."""
        out = np.zeros(self.num_agents)
        ok = self.type_of >= 0
        out[ok] = type_probabilities[self.type_of[ok]]
        return out

    def composition_ok(self, composition: IntArray) -> bool:
        """Does this type composition satisfy size, quotas, households and forced members?"""
        c = np.asarray(composition)
        if c.sum() != self.k or (c < 0).any() or (c > self.multiplicity).any():
            return False
        if (c[self.forced] != 1).any():
            return False
        for q, types in zip(self.quotas, self.quota_types, strict=True):
            if not q.min <= c[types].sum() <= q.max:
                return False
        return all(c[types].sum() <= 1 for types in self.households)


@dataclass(frozen=True)
class Distribution:
    """A lottery over panel compositions (counts per type); each composition stands for
    every panel with those counts, drawn uniformly within each type."""

    compositions: IntArray
    weights: FloatArray

    def type_probabilities(self, instance: Instance) -> FloatArray:
        """Each type member's selection probability."""
        expected = self.weights @ self.compositions.astype(np.float64)
        return np.asarray(expected / instance.multiplicity, dtype=np.float64)

    def agent_probabilities(self, instance: Instance) -> FloatArray:
        """Each volunteer's selection probability; they sum to the panel size."""
        return instance.agent_probabilities(self.type_probabilities(instance))


def _feature_codes(pool: Pool, quotas: QuotaTable) -> list[tuple[str, ...]]:
    """Each person's value for each quota feature, checked against the quota file."""
    features = quotas.features
    columns = [pool.column(f) for f in features]
    unknown: dict[str, set[str]] = defaultdict(set)
    for f, values, col in zip(features, features.values(), columns, strict=True):
        allowed = set(values)
        unknown[f].update(v for v in col if v not in allowed)
    bad = {f: sorted(v) for f, v in unknown.items() if v}
    if bad:
        shown = "; ".join(f"{f}: {', '.join(v[:5])}" for f, v in bad.items())
        raise InvalidInput(f"people have values the quotas do not list ({shown})", where="people")
    return [tuple(col[i] for col in columns) for i in range(pool.size)]


def build_instance(
    pool: Pool,
    quotas: QuotaTable,
    k: int,
    *,
    selected: tuple[str, ...] = (),
    unavailable: tuple[str, ...] = (),
) -> Instance:
    """Merge interchangeable volunteers into types and lay out the integer program.

    Interchangeable: same value on every quota feature, alone in their household, and not
    already selected. Everyone else is a type of one.
    """
    _check_basics(pool, quotas, k, selected)
    ids = pool.ids
    index = {pid: i for i, pid in enumerate(ids)}
    forced_agents = {index[s] for s in selected}
    gone = {index[s] for s in unavailable if s in index} - forced_agents
    codes = _feature_codes(pool, quotas)
    keys = pool.household_keys()
    household_size: dict[str | None, int] = defaultdict(int)
    for i, key in enumerate(keys):
        if key is not None and i not in gone:
            household_size[key] += 1
    groups: dict[object, list[int]] = {}
    for i in range(pool.size):
        if i in gone:
            continue
        alone = keys[i] is None or household_size[keys[i]] == 1
        group: object = codes[i] if alone and i not in forced_agents else ("single", i)
        groups.setdefault(group, []).append(i)
    return _lay_out(pool, quotas, k, codes, keys, groups, forced_agents)


def _check_basics(pool: Pool, quotas: QuotaTable, k: int, selected: tuple[str, ...]) -> None:
    ids = pool.ids
    if len(set(ids)) != len(ids):
        dup = sorted({x for x in ids if ids.count(x) > 1})[:5]
        raise InvalidInput(f"duplicate ids in the people file: {', '.join(dup)}", where="people")
    if not 1 <= k <= pool.size:
        raise InvalidInput(f"panel size {k} must be between 1 and {pool.size}", where="size")
    missing = [s for s in selected if s not in set(ids)]
    if missing:
        raise InvalidInput(f"already-selected ids not in the pool: {missing[:5]}", where="selected")
    if not quotas.quotas:
        raise InvalidInput("the quota file has no quotas", where="quotas")


def _lay_out(
    pool: Pool,
    quotas: QuotaTable,
    k: int,
    codes: list[tuple[str, ...]],
    keys: tuple[str | None, ...],
    groups: dict[object, list[int]],
    forced_agents: set[int],
) -> Instance:
    type_of = np.full(pool.size, -1, dtype=np.int64)
    members = []
    for t, agents in enumerate(groups.values()):
        type_of[agents] = t
        members.append(np.asarray(agents, dtype=np.int64))
    features = list(quotas.features)
    first = [int(m[0]) for m in members]
    quota_types = tuple(
        np.asarray(
            [t for t, a in enumerate(first) if codes[a][features.index(q.feature)] == q.value],
            dtype=np.int64,
        )
        for q in quotas.quotas
    )
    by_house: dict[str, list[int]] = defaultdict(list)
    for t, m in enumerate(members):
        if len(m) == 1 and keys[int(m[0])] is not None:
            by_house[str(keys[int(m[0])])].append(t)
    households = tuple(np.asarray(v, dtype=np.int64) for v in by_house.values() if len(v) > 1)
    return Instance(
        k=k,
        type_of=type_of,
        members=tuple(members),
        multiplicity=np.asarray([len(m) for m in members], dtype=np.int64),
        forced=np.asarray([int(m[0]) in forced_agents for m in members], dtype=np.bool_),
        quotas=quotas.quotas,
        quota_types=quota_types,
        households=households,
        labels=tuple("/".join(codes[a]) for a in first),
    )
