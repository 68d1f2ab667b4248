"""The electronic Frailty Index (eFI, Clegg et al. 2016): a pure, vectorised kernel.

The eFI is an unweighted count of 36 deficits divided by 36. A deficit is present when
the person has ever had a code from its code list (deficits do not resolve), when a
coded measurement's value meets one of the published value rules (eGFR < 60, Hb below
the sex-specific range, ...), or, for deficit 26 (polypharmacy), when five or more
distinct medicines were prescribed in the 12 months before the reference date.
A code that belongs to two deficits (a combination code) counts for both; each deficit
counts once per person.

Categories follow Clegg 2016: fit <= 0.12 < mild <= 0.24 < moderate <= 0.36 < severe.
**The 13-deficit boundary**: 13/36 = 0.3611 > 0.36, so 13 deficits is *severe*. We apply
the cut-points strictly to the exact fraction, in integer arithmetic (count x 100 against
cut x 36), and never round the score first; the guidance tables that quote 9-13 as
moderate round to two decimal places, which we do not. So: fit 0-4, mild 5-8,
moderate 9-12, severe 13-36.

The reference tables are read from a folder laid out like ``../shared/reference/efi/``.
This module reads those CSV files and nothing else; it never touches Django.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

DEFICITS: Final = 36
POLYPHARMACY_DEFICIT: Final = 26
POLYPHARMACY_MIN_MEDICINES: Final = 5
POLYPHARMACY_WINDOW_DAYS: Final = 365
CATEGORIES: Final = ("fit", "mild", "moderate", "severe")
# Upper cut-points in hundredths (0.12, 0.24, 0.36), compared with count x 100 / 36 exactly.
_CUTS_HUNDREDTHS: Final = (12, 24, 36)
MIN_AGE: Final = 65

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ValueRule:
    """A coded measurement that counts as a deficit when its value is in an open range."""

    deficit: int
    codes: frozenset[str]
    sex: str  # "any", "M" or "F"
    lower_exclusive: float | None
    upper_exclusive: float | None
    any_value: bool  # "any numeric value present" counts

    def matches(self, value: float) -> bool:
        if self.any_value:
            return True
        above = self.lower_exclusive is None or value > self.lower_exclusive
        below = self.upper_exclusive is None or value < self.upper_exclusive
        return above and below


@dataclass(frozen=True)
class EfiReference:
    """Code -> deficits, and the value rules, from the reference folder."""

    code_deficits: dict[str, tuple[int, ...]]
    rules: tuple[ValueRule, ...]
    labels: dict[int, str]

    @classmethod
    def load(cls, folder: Path) -> EfiReference:
        mapping: dict[str, set[int]] = {}
        with (folder / "efi_codes.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                mapping.setdefault(row["code"].strip(), set()).add(int(row["deficit_number"]))
        with (folder / "efi_deficits.csv").open(newline="", encoding="utf-8") as handle:
            labels = {int(r["deficit_number"]): r["deficit"] for r in csv.DictReader(handle)}
        with (folder / "efi_value_rules.csv").open(newline="", encoding="utf-8") as handle:
            rules = tuple(_rule(r) for r in csv.DictReader(handle))
        if sorted(labels) != list(range(1, DEFICITS + 1)):
            raise ValueError(f"{folder / 'efi_deficits.csv'} must list deficits 1 to 36")
        return cls({c: tuple(sorted(d)) for c, d in mapping.items()}, rules, labels)

    @property
    def finding_codes(self) -> frozenset[str]:
        return frozenset(self.code_deficits)

    @property
    def measurement_codes(self) -> frozenset[str]:
        return frozenset(c for rule in self.rules for c in rule.codes)


def _bound(text: str) -> float | None:
    return float(text) if text.strip() else None


def _rule(row: dict[str, str]) -> ValueRule:
    return ValueRule(
        deficit=int(row["deficit_number"]),
        codes=frozenset(c.strip() for c in row["codes_readv2_or_ctv3"].split("|") if c.strip()),
        sex=row["sex"].strip() or "any",
        lower_exclusive=_bound(row["lower_exclusive"]),
        upper_exclusive=_bound(row["upper_exclusive"]),
        any_value="any numeric value" in row["rule"],
    )


@dataclass(frozen=True)
class EfiResult:
    """Per person (in the order of `n` people): deficits present, score and category."""

    deficits: npt.NDArray[np.bool_]  # people x 36, column d-1 for deficit d
    count: IntArray
    score: FloatArray
    category: npt.NDArray[np.str_]


def categorise(count: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """Category of each deficit count, by the strict cut-points (13 deficits is severe)."""
    c = np.asarray(count, dtype=np.int64)
    if np.any((c < 0) | (c > DEFICITS)):
        raise ValueError("a deficit count runs from 0 to 36")
    index = np.searchsorted(np.asarray(_CUTS_HUNDREDTHS) * DEFICITS, c * 100, side="left")
    return np.asarray(CATEGORIES)[index]


def efi(
    n: int,
    *,
    reference: EfiReference,
    finding_person: npt.ArrayLike,
    finding_code: npt.ArrayLike,
    measurement_person: npt.ArrayLike = (),
    measurement_code: npt.ArrayLike = (),
    measurement_value: npt.ArrayLike = (),
    person_sex: npt.ArrayLike | None = None,
    medicine_person: npt.ArrayLike = (),
    medicine_code: npt.ArrayLike = (),
) -> EfiResult:
    """eFI for people 0..n-1 from their coded findings, measurements and medicines.

    Findings are any coded records (conditions, observations...) of each person, ever;
    measurements are coded numeric values (their unit must already match the rule's);
    medicines are the distinct medicines prescribed in the 12 months before the
    reference date (the caller chooses the window). `person_sex` ("M"/"F"/other) is
    needed for the sex-specific rules.
    """
    present = np.zeros((n, DEFICITS), dtype=bool)
    _mark_findings(present, reference, finding_person, finding_code)
    _mark_measurements(
        present, reference, measurement_person, measurement_code, measurement_value, person_sex
    )
    present[:, POLYPHARMACY_DEFICIT - 1] |= _polypharmacy(n, medicine_person, medicine_code)
    count = present.sum(axis=1).astype(np.int64)
    return EfiResult(present, count, count / DEFICITS, categorise(count))


def _mark_findings(
    present: npt.NDArray[np.bool_],
    reference: EfiReference,
    person: npt.ArrayLike,
    code: npt.ArrayLike,
) -> None:
    people = np.asarray(person, dtype=np.int64)
    codes = np.asarray(code, dtype=str)
    if people.shape != codes.shape:
        raise ValueError("finding people and codes must be the same length")
    unique, inverse = np.unique(codes, return_inverse=True)
    for index, value in enumerate(unique):
        deficits = reference.code_deficits.get(str(value))
        if deficits:
            rows = people[inverse == index]
            for deficit in deficits:
                present[rows, deficit - 1] = True


def _mark_measurements(
    present: npt.NDArray[np.bool_],
    reference: EfiReference,
    person: npt.ArrayLike,
    code: npt.ArrayLike,
    value: npt.ArrayLike,
    sex: npt.ArrayLike | None,
) -> None:
    people = np.asarray(person, dtype=np.int64)
    codes = np.asarray(code, dtype=str)
    values = np.asarray(value, dtype=np.float64)
    if not (people.shape == codes.shape == values.shape):
        raise ValueError("measurement people, codes and values must be the same length")
    sexes = None if sex is None else np.asarray(sex, dtype=str)
    for rule in reference.rules:
        rows = np.isin(codes, list(rule.codes)) & np.isfinite(values)
        if rule.sex != "any":
            if sexes is None:
                continue
            rows &= sexes[people] == rule.sex
        hits = rows & _in_range(values, rule)
        present[people[hits], rule.deficit - 1] = True


def _in_range(values: FloatArray, rule: ValueRule) -> npt.NDArray[np.bool_]:
    if rule.any_value:
        return np.ones(values.shape, dtype=bool)
    ok = np.ones(values.shape, dtype=bool)
    if rule.lower_exclusive is not None:
        ok &= values > rule.lower_exclusive
    if rule.upper_exclusive is not None:
        ok &= values < rule.upper_exclusive
    return ok


def _polypharmacy(n: int, person: npt.ArrayLike, code: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    people = np.asarray(person, dtype=np.int64)
    codes = np.asarray(code, dtype=str)
    if people.shape != codes.shape:
        raise ValueError("medicine people and codes must be the same length")
    if people.size == 0:
        return np.zeros(n, dtype=bool)
    _, code_index = np.unique(codes, return_inverse=True)
    pairs = np.unique(people * (int(code_index.max()) + 1) + code_index)
    distinct = np.bincount(pairs // (int(code_index.max()) + 1), minlength=n)
    return np.asarray(distinct >= POLYPHARMACY_MIN_MEDICINES)
