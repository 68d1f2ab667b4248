"""What the care-home pages and downloads show: tables and small formatted values."""

from __future__ import annotations

import datetime as dt
import math

from joinedup.carehomes.alignment import Sites, distances_km
from joinedup.carehomes.models import CareHome, PracticeSite
from joinedup.carehomes.planner import Comparison
from joinedup.carehomes.selectors import RoundList
from joinedup.web.tables import Table

STALE_DAYS = 7
MINUS = "\u2212"


def km(value: float | None) -> str:
    return "\u2013" if value is None or not math.isfinite(value) else f"{value:.1f} km"


def rate(value: float | None) -> str:
    return "\u2013" if value is None or not math.isfinite(value) else f"{value:.1f}"


def signed(value: float, unit: str = "") -> str:
    """A difference with its sign in words' place: +1.2, or a real minus sign."""
    if abs(value) < 0.05:
        return "no change"
    sign = "+" if value > 0 else MINUS
    return f"{sign}{abs(value):.1f}{unit}"


def distance_to(home: CareHome, site: PracticeSite | None) -> float | None:
    if site is None:
        return None
    d = distances_km(
        Sites.of([home.code], [home.latitude], [home.longitude], [1.0]),
        Sites.of(["p"], [site.latitude], [site.longitude], [1.0]),
    )
    return float(d[0, 0])


def register_table(homes: list[CareHome]) -> Table:
    return Table(
        "Care-home register",
        (
            "Code",
            "CQC location",
            "Name",
            "Type",
            "Beds",
            "Postcode",
            "Neighbourhood",
            "Aligned practice",
            "Practice code",
            "Aligned since",
        ),
        [
            (
                h.code,
                h.cqc_location_id,
                h.name,
                h.get_kind_display(),
                h.beds,
                h.postcode,
                h.neighbourhood.name if h.neighbourhood else "",
                h.aligned_practice.name if h.aligned_practice else "",
                h.aligned_practice.ods_code if h.aligned_practice else "",
                h.aligned_since,
            )
            for h in homes
        ],
    )


def _round(value: float | None, places: int = 2) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, places)


def planner_tables(c: Comparison) -> dict[str, Table]:
    note = (
        f"Balance weight {c.rules.balance_weight:g} km per bed; {c.min_homes} to {c.max_homes} "
        f"homes per practice; borough {c.borough_rate:.2f} beds per 1,000 registered patients."
    )
    homes = Table(
        "Alignment by home",
        (
            "Home code",
            "Home",
            "Type",
            "Beds",
            "Current practice code",
            "Current practice",
            "Current distance km",
            "Proposed practice code",
            "Proposed practice",
            "Proposed distance km",
            "Changes",
        ),
        [
            (
                r.home_code,
                r.home_name,
                r.kind,
                r.beds,
                r.current_code or "",
                r.current_name,
                _round(r.current_km),
                r.proposed_code,
                r.proposed_name,
                _round(r.proposed_km),
                "yes" if r.changed else "no",
            )
            for r in c.rows
        ],
        note,
    )
    practices = Table(
        "Balance by practice",
        (
            "Practice code",
            "Practice",
            "Registered patients",
            "Fair share of beds",
            "Current homes",
            "Current beds",
            "Current beds per 1,000",
            "Proposed homes",
            "Proposed beds",
            "Proposed beds per 1,000",
        ),
        [
            (
                p.code,
                p.name,
                p.list_size,
                _round(p.fair_beds, 1),
                p.current_homes,
                p.current_beds,
                _round(p.current_rate),
                p.proposed_homes,
                p.proposed_beds,
                _round(p.proposed_rate),
            )
            for p in c.practices
        ],
        note,
    )
    totals = Table(
        "Totals",
        ("Measure", "Current", "Proposed", "Difference"),
        [(label, _round(a), _round(b), _round(b - a)) for label, a, b in totals_rows(c)],
        note,
    )
    return {"homes": homes, "practices": practices, "totals": totals}


def totals_rows(c: Comparison) -> list[tuple[str, float, float]]:
    cur, pro = c.current, c.proposed
    return [
        ("Total travel, km (practice to home, straight line)", cur.travel_km, pro.travel_km),
        ("Beds away from the practices' fair shares", cur.off_fair_share, pro.off_fair_share),
        ("Lowest beds per 1,000 registered patients", cur.lowest_rate, pro.lowest_rate),
        ("Highest beds per 1,000 registered patients", cur.highest_rate, pro.highest_rate),
        ("Most homes with one practice", float(cur.most_homes), float(pro.most_homes)),
        ("Homes without a practice", float(cur.homes_unaligned), float(pro.homes_unaligned)),
    ]


def round_table(listing: RoundList) -> Table:
    return Table(
        f"Home round list for {listing.practice.name} on {listing.on}",
        (
            "Priority",
            "Name",
            "NHS number",
            "Age",
            "Care home",
            "Why",
            "Frailty",
            "Moved in",
            "Last discharge",
            "Last fall",
            "Last GP contact",
        ),
        [
            (
                e.score,
                e.name,
                e.nhs_number,
                e.age,
                e.home.name,
                "; ".join(e.reasons),
                e.frailty,
                e.moved_in,
                e.last_discharge,
                e.last_fall,
                e.last_gp_contact,
            )
            for e in listing.entries
        ],
        "Person-level: for the care of these residents only.",
    )


def stale(listing: RoundList) -> dt.date | None:
    """The record's newest date when it is well behind the list's date (a late feed)."""
    newest = listing.record_current_to
    if newest is not None and (listing.on - newest).days > STALE_DAYS:
        return newest
    return None
