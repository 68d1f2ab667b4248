"""The board's flags derived from social care packages and the hospital's address."""

from __future__ import annotations

from datetime import date

from joinedup.discharge.flags import Package, derive

ADMITTED = date(2026, 3, 1)
TODAY = date(2026, 3, 20)


def _derive(*packages: Package, home: bool = False) -> tuple[bool, str]:
    found = derive(packages, admitted=ADMITTED, today=TODAY, address_is_care_home=home)
    return found.care_home_resident, found.package_status


def test_derive_no_packages_no_flags() -> None:
    assert _derive() == (False, "")


def test_derive_home_care_running_through_the_stay_is_paused() -> None:
    assert _derive(Package("Home care", date(2025, 6, 1), None)) == (False, "paused")
    assert _derive(Package("Reablement", date(2026, 2, 20), date(2026, 4, 2))) == (False, "paused")


def test_derive_home_care_ended_during_the_stay_has_lapsed() -> None:
    assert _derive(Package("Home care", date(2025, 6, 1), date(2026, 3, 5))) == (False, "lapsed")


def test_derive_a_package_still_running_wins_over_one_that_lapsed() -> None:
    ended = Package("Reablement", date(2026, 2, 1), date(2026, 3, 3))
    running = Package("Home care", date(2026, 1, 1), None)
    assert _derive(ended, running) == (False, "paused")


def test_derive_packages_not_running_on_admission_do_not_count() -> None:
    before = Package("Home care", date(2025, 1, 1), date(2026, 2, 27))
    after = Package("Reablement", date(2026, 3, 2), None)
    assert _derive(before, after) == (False, "")


def test_derive_a_placement_open_on_admission_is_a_care_home_resident() -> None:
    placement = Package("Nursing care placement", date(2024, 1, 1), None)
    assert _derive(placement) == (True, "")
    ended = Package("Residential care placement", date(2024, 1, 1), date(2025, 1, 1))
    assert _derive(ended) == (False, "")


def test_derive_the_hospitals_address_at_a_care_home_is_a_resident() -> None:
    assert _derive(home=True) == (True, "")


def test_derive_other_services_are_not_packages_at_home() -> None:
    assert _derive(Package("Day care", date(2025, 1, 1), None)) == (False, "")
