"""What the directory's pages show for a service: opening times, ages and how to get in
touch, in words a resident reads, never ORUK's codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from joinedup.directory.models import Schedule, Service, ServiceAtLocation
from joinedup.directory.selectors import Hit

DAY_NAMES = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}


def clock(value: time | None) -> str:
    """09:00 -> '9am', 13:30 -> '1:30pm'."""
    if value is None:
        return ""
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{value.strftime(':%M') if value.minute else ''}{suffix}"


def _days(byday: str) -> str:
    codes = [d[-2:] for d in byday.split(",") if d]
    names = [DAY_NAMES[c] for c in codes if c in DAY_NAMES]
    if len(names) >= 3 and [*DAY_NAMES][: len(names)] == [c for c in codes if c in DAY_NAMES]:
        return f"{names[0]} to {names[-1]}"
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1] if names else ""


def opening_times(schedules: list[Schedule]) -> list[str]:
    """One line per schedule, e.g. 'Monday to Friday, 9am to 5pm'."""
    lines = []
    for s in schedules:
        days = _days(s.byday)
        hours = f"{clock(s.opens_at)} to {clock(s.closes_at)}" if s.opens_at and s.closes_at else ""
        if s.opens_at == time(0) and s.closes_at is not None and s.closes_at >= time(23, 59):
            hours = "24 hours"
        if days == "Monday to Sunday":
            days = "Every day"
        text = ", ".join(p for p in (days, hours) if p) or s.description
        if s.freq == "MONTHLY" and text:
            text = f"Monthly: {text}"
        if text and text not in lines:
            lines.append(text)
    return lines


def ages(service: Service) -> str:
    low, high = service.minimum_age, service.maximum_age
    if low is None and high is None:
        return "All ages"
    if high is None or high >= 120:
        return f"Aged {low:g} and over" if low else "All ages"
    if low is None or low <= 0:
        return f"Aged up to {high:g}"
    return f"Aged {low:g} to {high:g}"


def address(at: ServiceAtLocation | None) -> str:
    if at is None:
        return ""
    found = next(iter(at.location.addresses.all()), None)
    if found is None:
        return at.location.name
    parts = [at.location.name, found.address_1, found.city, found.postal_code]
    return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class ServiceCard:
    hit: Hit
    opening: list[str]
    ages: str
    address: str

    @property
    def service(self) -> Service:
        return self.hit.service


def service_cards(hits: list[Hit]) -> list[ServiceCard]:
    return [
        ServiceCard(
            hit,
            opening_times(list(hit.service.schedules.all())),
            ages(hit.service),
            address(hit.at),
        )
        for hit in hits
    ]
