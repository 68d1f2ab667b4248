"""The 2013 European Standard Population (ESP2013), 19 five-year bands, as data.

Eurostat's revised European Standard Population is the reference population for
directly standardised rates in England since 2014. The weights sum to 100,000.
Each band's weight is data, never a parameter to tune; this module must never
compute anything.
"""

from __future__ import annotations

ESP2013_BANDS: tuple[str, ...] = (
    *(f"{start}-{start + 4}" for start in range(0, 90, 5)),
    "90+",
)
"""Band labels 0-4, 5-9, ..., 85-89, 90+ in order."""

ESP2013_WEIGHTS: tuple[float, ...] = (
    5000.0, 5500.0, 5500.0, 5500.0, 6000.0, 6000.0, 6500.0, 7000.0, 7000.0, 7000.0,
    7000.0, 6500.0, 6000.0, 5500.0, 5000.0, 4000.0, 2500.0, 1500.0, 1000.0,
)  # fmt: skip
"""Standard population of each band in ESP2013_BANDS, summing to 100,000."""
