"""Errors of the platform core."""

from __future__ import annotations

from joinedup.errors import AccessDenied, InvalidInput, TooManyRequests


class SignInRefused(InvalidInput):
    code = "sign-in-refused"
    title = "Your username or password is not right"


class AccountLocked(TooManyRequests):
    code = "account-locked"
    title = "Too many sign-in attempts"


class NoRelationship(AccessDenied):
    """The user has no legitimate relationship with the person whose record they asked for."""

    code = "no-relationship"
    title = "You do not have a care relationship with this person"

    def __init__(self, detail: str, *, can_break_glass: bool, person_id: str) -> None:
        super().__init__(detail)
        self.can_break_glass = can_break_glass
        self.person_id = person_id
