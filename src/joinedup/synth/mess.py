"""Deliberate, realistic corruption of how each source system knows a person.

Each source holds its own version of a person: the name as they gave it (nickname,
former surname, typing errors), the address as it was when they were last seen,
a date of birth with day and month swapped, an NHS number that is missing, mistyped
or someone else's. Rates are per source (config). The truth folder records who is
really who.

It must never change the true person behind an identity, only what the source holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from joinedup.synth import config, names
from joinedup.synth.geography import Geography
from joinedup.synth.identifiers import corrupt_nhs_number
from joinedup.synth.organisations import Organisations
from joinedup.synth.population import Persons
from joinedup.synth.tables import Table

_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


@dataclass(frozen=True)
class Identity:
    """What one source holds about each of its people (one row per source identity)."""

    person: npt.NDArray[np.int64]
    given: npt.NDArray[np.str_]
    family: npt.NDArray[np.str_]
    dob: npt.NDArray[np.datetime64]
    sex: npt.NDArray[np.str_]
    address: npt.NDArray[np.str_]
    postcode: npt.NDArray[np.str_]
    nhs_number: npt.NDArray[np.int64]  # -1 where the source has none


def typo(rng: np.random.Generator, values: npt.NDArray[np.str_]) -> npt.NDArray[np.str_]:
    """One keying error per value: a substituted, dropped, doubled or swapped letter."""
    n = values.size
    length = np.strings.str_len(values)
    pos = (rng.random(n) * np.maximum(length - 1, 1)).astype(np.int64) + 1
    pos = np.minimum(pos, np.maximum(length - 1, 0))
    head = np.strings.slice(values, 0, pos)
    tail = np.strings.slice(values, pos + 1, None)
    this = np.strings.slice(values, pos, pos + 1)
    after = np.strings.slice(values, pos + 1, pos + 2)
    rest = np.strings.slice(values, pos + 2, None)
    kind = rng.integers(0, 4, size=n)
    letter = _LETTERS[rng.integers(0, 26, size=n)]
    substituted = np.strings.add(np.strings.add(head, letter), tail)
    dropped = np.strings.add(head, tail)
    doubled = np.strings.add(np.strings.add(head, this), np.strings.add(this, tail))
    swapped = np.strings.add(np.strings.add(head, after), np.strings.add(this, rest))
    out = np.select([kind == 0, kind == 1, kind == 2], [substituted, dropped, doubled], swapped)
    return np.where(length >= 3, out, values)


def swap_day_month(dob: npt.NDArray[np.datetime64]) -> npt.NDArray[np.datetime64]:
    """The date with day and month exchanged (only where that is a valid, different date)."""
    months = dob.astype("datetime64[M]")
    month = months.astype(np.int64) % 12 + 1
    day = (dob - months.astype("datetime64[D]")).astype(np.int64) + 1
    year_start = dob.astype("datetime64[Y]").astype("datetime64[M]")
    ok = (day <= 12) & (day != month)
    swapped = (year_start + (day - 1)).astype("datetime64[D]") + (month - 1)
    return np.where(ok, swapped, dob)


def address_at(
    persons: Persons,
    geo: Geography,
    orgs: Organisations,
    homes: Table,
    rows: npt.NDArray[np.int64],
    when: npt.NDArray[np.datetime64],
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.str_]]:
    """Address line and postcode each person had on a date (home move, care home)."""
    moved = ~np.isnat(persons.moved_on[rows]) & (persons.moved_on[rows] <= when)
    pc = np.where(moved, persons.new_postcode[rows], persons.postcode[rows])
    number = np.where(moved, persons.new_house_number[rows], persons.house_number[rows])
    line = np.strings.add(np.strings.add(number.astype(np.str_), " "), geo.postcode_street[pc])
    home_of = np.full(persons.count, -1, dtype=np.int64)
    home_start = np.full(persons.count, np.datetime64("NaT", "D"))
    home_of[homes["person"]] = homes["home"]
    home_start[homes["person"]] = homes["start"]
    in_home = (home_of[rows] >= 0) & (home_start[rows] <= when)
    h = np.maximum(home_of[rows], 0)
    line = np.where(in_home, orgs.home_name[h], line)
    postcode = np.where(in_home, geo.postcode[orgs.home_postcode[h]], geo.postcode[pc])
    return line, postcode


def identity(
    rng: np.random.Generator,
    source: str,
    persons: Persons,
    geo: Geography,
    orgs: Organisations,
    homes: Table,
    rows: npt.NDArray[np.int64],
    as_of: npt.NDArray[Any],
) -> Identity:
    """The source's view of each person in `rows`, as last updated on `as_of`."""
    careful = source == "gp"
    n = rows.size
    given = persons.given[rows].copy()
    family = persons.family[rows].copy()
    if not careful:
        nick = rng.random(n) < config.NICKNAME_SHARE
        given = np.where(nick, names.nickname(given), given)
        former = persons.former_family[rows]
        stale = (former != "") & (rng.random(n) < 0.5)
        family = np.where(stale, former, family)
    typo_share = config.TYPO_SHARE / (5 if careful else 1)
    for values in (given, family):
        hit = np.flatnonzero(rng.random(n) < typo_share / 2)
        values[hit] = typo(rng, values[hit])
    dob = persons.dob[rows]
    if not careful:
        swap = rng.random(n) < config.DOB_SWAP_SHARE
        dob = np.where(swap, swap_day_month(dob), dob)
    address, postcode = address_at(persons, geo, orgs, homes, rows, as_of)
    return Identity(
        rows,
        given,
        family,
        dob,
        persons.sex[rows],
        address,
        postcode,
        _nhs(rng, source, persons, rows),
    )


def _nhs(
    rng: np.random.Generator, source: str, persons: Persons, rows: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """NHS number as held: missing, mistyped, someone else's, or right."""
    true = persons.nhs_number[rows]
    n = rows.size
    missing = rng.random(n) < config.NHS_MISSING_SHARE[source]
    wrong = ~missing & (rng.random(n) < (0 if source == "gp" else config.NHS_WRONG_SHARE))
    typo_kind = rng.random(n) < 0.5
    other = persons.nhs_number[rng.integers(0, persons.count, size=n)]
    held = np.where(wrong & typo_kind, corrupt_nhs_number(rng, true), true)
    held = np.where(wrong & ~typo_kind, other, held)
    return np.where(missing, -1, held)
