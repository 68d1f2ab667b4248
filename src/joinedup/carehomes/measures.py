"""The care-home scheme's live outcome measure for the portfolio: homes aligned to a practice."""

from __future__ import annotations

from django.utils import timezone

from joinedup.carehomes.models import CareHome
from joinedup.portfolio.measures import MeasureValue, register_measure

CODE = "care_homes_aligned_percent"


def aligned_percent() -> MeasureValue | None:
    """Share of the register's care homes with an aligned GP practice (aggregate only)."""
    homes = CareHome.objects.count()
    if homes == 0:
        return None
    aligned = CareHome.objects.filter(aligned_practice__isnull=False).count()
    return MeasureValue(
        round(100 * aligned / homes, 1),
        as_of=timezone.localdate(),
        note=f"{aligned} of {homes} care homes in the register",
    )


def register() -> None:
    register_measure(CODE, "Care homes aligned to one GP practice", "%", aligned_percent)
