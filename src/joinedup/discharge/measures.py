"""The discharge app's live outcome measure for the portfolio: the average delay."""

from __future__ import annotations

from joinedup.discharge import selectors
from joinedup.portfolio.measures import MeasureValue

CODE = "discharge_mean_delay_days"


def mean_delay_days() -> MeasureValue | None:
    """Average days from DRD to discharge, excluding zero-day delays (NHS England's
    headline), over the last 28 days of discharges in the tracker. Aggregate only."""
    found = selectors.mean_delay_days(days=28)
    if found is None:
        return None
    value, as_of, discharges = found
    return MeasureValue(
        round(value, 2),
        as_of=as_of,
        note=f"{discharges} discharges in the 28 days to {as_of}, excluding zero-day delays",
    )
