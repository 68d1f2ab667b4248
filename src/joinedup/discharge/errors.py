"""The discharge tracker's errors: subclasses of the platform's hierarchy."""

from __future__ import annotations

from joinedup.errors import Conflict, InvalidInput


class InvalidUpdate(InvalidInput):
    """A board update that cannot be right (a DRD before admission, an unknown pathway)."""


class StayClosed(Conflict):
    """An update to a stay that has already ended in discharge."""
