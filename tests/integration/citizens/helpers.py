"""Helpers for the citizens tests (not fixtures)."""

from __future__ import annotations

from joinedup.citizens.models import Volunteer, VolunteerQuerySet

REGISTER_SIZE = 200  # volunteers in the ``register`` fixture


def everyone() -> VolunteerQuerySet:
    """Every volunteer, for the tests' own checks (a named system scope)."""
    return Volunteer.objects.for_system("test")
