"""Service-level timers in working time. Pure: no Django.

Working time is Monday to Friday, 09:00 to 17:00 local time, less the bank holidays of
England (the ``holidays`` package). An urgent referral must be triaged within 4 working
hours and a routine one within 2 working days (16 working hours), counted from when it
arrived at the team that must triage it. Arrivals outside working time start the clock
at the next working moment.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

DAY_START = time(9, 0)
DAY_END = time(17, 0)
WORKING_DAY = timedelta(hours=8)
TARGETS = {"urgent": timedelta(hours=4), "routine": 2 * WORKING_DAY}


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def _start_of_work(moment: datetime) -> datetime:
    """The first working moment at or after ``moment`` (same tzinfo)."""
    day, clock = moment.date(), moment.timetz()
    if is_working_day(day) and clock.replace(tzinfo=None) < DAY_END:
        start = datetime.combine(day, DAY_START, moment.tzinfo)
        return max(moment, start)
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, DAY_START, moment.tzinfo)


def add_working_time(start: datetime, duration: timedelta) -> datetime:
    """The moment ``duration`` of working time after ``start`` (naive or aware, local)."""
    if duration < timedelta(0):
        raise ValueError("a service-level duration cannot be negative")
    moment = _start_of_work(start)
    left = duration
    while True:
        end_of_day = datetime.combine(moment.date(), DAY_END, moment.tzinfo)
        available = end_of_day - moment
        if left <= available:
            return moment + left
        left -= available
        moment = _start_of_work(end_of_day)


def working_time_between(start: datetime, end: datetime) -> timedelta:
    """Working time elapsed from ``start`` to ``end`` (zero if ``end`` is earlier)."""
    total = timedelta(0)
    moment = _start_of_work(start)
    while moment < end:
        end_of_day = datetime.combine(moment.date(), DAY_END, moment.tzinfo)
        total += min(end, end_of_day) - moment
        moment = _start_of_work(end_of_day)
    return total


def triage_due(received: datetime, urgency: str) -> datetime:
    """When triage is due for a referral that arrived at ``received``."""
    try:
        target = TARGETS[urgency]
    except KeyError:
        raise ValueError(f"unknown urgency {urgency!r}") from None
    return add_working_time(received, target)
