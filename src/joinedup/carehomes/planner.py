"""The planner between the register and the kernel: current and proposed, side by side.

Reads the register (homes, practice sites, the current alignment), hands plain arrays to
``alignment.solve``, and turns both alignments into rows a page, a download or
``joinedup carehomes align --json`` can show. No person-level data is involved.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from joinedup.carehomes import alignment
from joinedup.carehomes.alignment import UNALIGNED, Rules, Sites, Summary
from joinedup.carehomes.errors import AlignmentInfeasible
from joinedup.carehomes.models import CareHome, PracticeSite


@dataclass(frozen=True)
class HomeRow:
    home_code: str
    home_name: str
    kind: str
    beds: int
    current_code: str | None
    current_name: str
    current_km: float | None
    proposed_code: str
    proposed_name: str
    proposed_km: float

    @property
    def changed(self) -> bool:
        return self.current_code != self.proposed_code


@dataclass(frozen=True)
class PracticeRow:
    code: str
    name: str
    list_size: int
    fair_beds: float
    current_homes: int
    current_beds: int
    current_rate: float
    proposed_homes: int
    proposed_beds: int
    proposed_rate: float


@dataclass(frozen=True)
class Totals:
    travel_km: float
    off_fair_share: float  # beds away from the practices' fair shares, summed
    homes_aligned: int
    homes_unaligned: int
    most_homes: int  # the most homes any one practice has
    lowest_rate: float
    highest_rate: float


@dataclass(frozen=True)
class Comparison:
    rows: list[HomeRow]
    practices: list[PracticeRow]
    current: Totals
    proposed: Totals
    borough_rate: float
    rules: Rules
    min_homes: int
    max_homes: int
    seconds: float

    @property
    def fingerprint(self) -> str:
        """Identifies the proposal (and the current alignment it was compared with)."""
        text = ";".join(f"{r.home_code}>{r.current_code}>{r.proposed_code}" for r in self.rows)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def moves(self) -> int:
        return sum(r.changed for r in self.rows)


@dataclass(frozen=True)
class _Register:
    homes: list[CareHome]
    sites: list[PracticeSite]
    home_sites: Sites
    practice_sites: Sites
    current: alignment.Ints


def _register() -> _Register:
    homes = list(CareHome.objects.select_related("aligned_practice").order_by("code"))
    sites = list(PracticeSite.objects.select_related("practice").order_by("practice__ods_code"))
    if not homes:
        raise AlignmentInfeasible("the care-home register is empty: import it first")
    if not sites:
        raise AlignmentInfeasible("no practice has a location and list size: import them first")
    index = {s.practice_id: i for i, s in enumerate(sites)}
    current = np.array(
        [
            index.get(h.aligned_practice_id, UNALIGNED) if h.aligned_practice_id else UNALIGNED
            for h in homes
        ],
        dtype=np.int64,
    )
    return _Register(
        homes,
        sites,
        Sites.of(
            [h.code for h in homes],
            [h.latitude for h in homes],
            [h.longitude for h in homes],
            [float(h.beds) for h in homes],
        ),
        Sites.of(
            [s.practice.ods_code for s in sites],
            [s.latitude for s in sites],
            [s.longitude for s in sites],
            [float(s.list_size) for s in sites],
        ),
        current,
    )


def _totals(summary: Summary) -> Totals:
    rates = summary.beds_per_1000[np.isfinite(summary.beds_per_1000)]
    return Totals(
        travel_km=summary.travel_km,
        off_fair_share=summary.off_fair_share,
        homes_aligned=int(summary.homes.sum()),
        homes_unaligned=summary.unaligned,
        most_homes=summary.most_homes,
        lowest_rate=float(rates.min()) if rates.size else math.nan,
        highest_rate=float(rates.max()) if rates.size else math.nan,
    )


def compare(rules: Rules | None = None) -> Comparison:
    """Solve for the register as it stands and set the proposal beside the current alignment."""
    rules = rules or Rules()
    reg = _register()
    plan = alignment.solve(reg.home_sites, reg.practice_sites, rules)
    distances = alignment.distances_km(reg.home_sites, reg.practice_sites)
    now = alignment.summarise(reg.home_sites, reg.practice_sites, reg.current, distances)
    rows = []
    for i, home in enumerate(reg.homes):
        c, p = int(reg.current[i]), int(plan.practice_of[i])
        current = home.aligned_practice
        rows.append(
            HomeRow(
                home_code=home.code,
                home_name=home.name,
                kind=home.get_kind_display(),
                beds=home.beds,
                current_code=current.ods_code if current else None,
                current_name=current.name if current else "",
                current_km=float(distances[i, c]) if c != UNALIGNED else None,
                proposed_code=reg.sites[p].practice.ods_code,
                proposed_name=reg.sites[p].practice.name,
                proposed_km=float(distances[i, p]),
            )
        )
    practices = [
        PracticeRow(
            code=site.practice.ods_code,
            name=site.practice.name,
            list_size=site.list_size,
            fair_beds=float(plan.summary.fair_beds[j]),
            current_homes=int(now.homes[j]),
            current_beds=int(now.beds[j]),
            current_rate=float(now.beds_per_1000[j]),
            proposed_homes=int(plan.summary.homes[j]),
            proposed_beds=int(plan.summary.beds[j]),
            proposed_rate=float(plan.summary.beds_per_1000[j]),
        )
        for j, site in enumerate(reg.sites)
    ]
    return Comparison(
        rows=rows,
        practices=practices,
        current=_totals(now),
        proposed=_totals(plan.summary),
        borough_rate=plan.summary.borough_beds_per_1000,
        rules=rules,
        min_homes=plan.min_homes,
        max_homes=plan.max_homes,
        seconds=plan.seconds,
    )


def _r(value: float, places: int = 2) -> float | None:
    return round(value, places) if math.isfinite(value) else None


def _side(c: Comparison, which: str) -> dict[str, Any]:
    totals: Totals = getattr(c, which)
    return {
        "travel_km": _r(totals.travel_km),
        "beds_off_fair_share": _r(totals.off_fair_share, 1),
        "homes_aligned": totals.homes_aligned,
        "homes_unaligned": totals.homes_unaligned,
        "beds_per_1000": {p.code: _r(getattr(p, f"{which}_rate")) for p in c.practices},
        "homes_per_practice": {p.code: getattr(p, f"{which}_homes") for p in c.practices},
    }


def contract(c: Comparison) -> dict[str, Any]:
    """The shape ``joinedup carehomes align --json`` prints (the issue's contract)."""
    current, proposed = _side(c, "current"), _side(c, "proposed")
    return {
        "alignment": [
            {
                "care_home": r.home_code,
                "practice": r.proposed_code,
                "distance_km": _r(r.proposed_km, 3),
            }
            for r in c.rows
        ],
        "totals": {
            "current": current,
            "proposed": proposed,
            "difference": {
                "travel_km": _r(c.proposed.travel_km - c.current.travel_km),
                "beds_off_fair_share": _r(c.proposed.off_fair_share - c.current.off_fair_share, 1),
                "homes_changing_practice": c.moves,
            },
            "borough_beds_per_1000": _r(c.borough_rate),
            "rules": {
                "balance_weight_km_per_bed": c.rules.balance_weight,
                "homes_per_practice": [c.min_homes, c.max_homes],
            },
        },
    }
