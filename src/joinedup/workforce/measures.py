"""The workforce's live outcome measure for the portfolio: the partnership vacancy rate."""

from __future__ import annotations

import math

from django.utils import timezone

from joinedup.portfolio.measures import MeasureValue
from joinedup.workforce import baseline as kernel
from joinedup.workforce import selectors

CODE = "vacancy_rate_percent"


def vacancy_rate_percent() -> MeasureValue | None:
    """(Establishment - WTE in post) ÷ establishment today, across every partner."""
    data = selectors.baseline_data()
    if data.funded.sum() <= 0:
        return None
    today = timezone.localdate()
    m = kernel.measures(
        data.staff,
        data.funded,
        kernel.whole(data.staff, data.funded.size),
        selectors.period_ending(today),
    )
    rate = float(m.vacancy_rate[0])
    return None if math.isnan(rate) else MeasureValue(rate, as_of=today, note="all partners")
