"""The measure registry: outcome measures other apps compute live, found by code.

A benefit names a measure by code (``discharge_mean_delay_days``); the app that owns the
measure registers how to compute it, once, when Django starts (in its ``AppConfig.ready``)::

    from joinedup.portfolio.measures import MeasureValue, register_measure

    def _mean_delay() -> MeasureValue | None:
        days = selectors.mean_delay_days()        # the owning app's own read
        return None if days is None else MeasureValue(days, as_of=date.today())

    register_measure("discharge_mean_delay_days", "Average discharge delay", "days", _mean_delay)

``compute`` takes no arguments and returns a ``MeasureValue``, or ``None`` when there is
nothing to measure yet; it must read aggregates only, never person-level data. The
portfolio shows a benefit's current value only from here: a code nobody has registered
is shown as "not yet measured", and a compute that fails as "could not be measured",
never as a made-up number.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

logger = logging.getLogger(__name__)
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,79}$")


@dataclass(frozen=True)
class MeasureValue:
    value: float
    as_of: date | None = None
    note: str = ""  # e.g. the period or population it covers


@dataclass(frozen=True)
class Measure:
    code: str
    label: str
    unit: str
    compute: Callable[[], MeasureValue | None]


@dataclass(frozen=True)
class Reading:
    """A measure's current value, or why there is none."""

    code: str
    measure: Measure | None
    value: MeasureValue | None
    problem: str = ""

    @property
    def state(self) -> str:
        if self.value is not None:
            return "measured"
        return "failed" if self.problem else "not_measured"


_registry: dict[str, Measure] = {}


def register_measure(
    code: str,
    label: str,
    unit: str,
    compute: Callable[[], MeasureValue | None],
    *,
    replace: bool = False,
) -> Measure:
    """Make a live measure available to benefits. One owner per code."""
    if not _CODE.match(code):
        raise ValueError(f"measure code {code!r} must be lower-case letters, digits and _")
    if code in _registry and not replace and _registry[code].compute is not compute:
        raise ValueError(f"measure {code!r} is already registered")
    measure = Measure(code=code, label=label, unit=unit, compute=compute)
    _registry[code] = measure
    return measure


def unregister_measure(code: str) -> None:
    _registry.pop(code, None)


def registered_measures() -> list[Measure]:
    return sorted(_registry.values(), key=lambda m: m.code)


def measure_current(code: str) -> Reading:
    """Compute the measure now; a failure is reported, never hidden or invented."""
    measure = _registry.get(code)
    if measure is None:
        return Reading(code, None, None)
    try:
        value = measure.compute()
    except Exception as exc:  # noqa: BLE001 - the owning app's failure must not break board papers
        logger.warning("measure %s could not be computed: %s", code, type(exc).__name__)
        return Reading(code, measure, None, problem="could not be measured just now")
    if value is not None and value.value != value.value:  # NaN
        return Reading(code, measure, None)
    return Reading(code, measure, value)
