"""Errors of the neighbourhoods app: field-level input problems and care plan conflicts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from joinedup.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from joinedup.neighbourhoods.merge import MergeResult


class FieldProblems(InvalidInput):
    """One or more fields are wrong; ``problems`` lists (field, message) in form order."""

    code = "invalid-fields"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        first_field, first_message = problems[0]
        super().__init__(first_message, where=first_field)
        self.problems = problems


class TransitionRefused(Conflict):
    code = "referral-state"
    title = "That change is not possible for this referral now"


class PlanConflict(Conflict):
    """The plan was saved by someone else since this edit began; ``merge`` has both."""

    code = "care-plan-conflict"
    title = "Someone else changed this care plan while you were editing it"

    def __init__(self, detail: str, *, merge: MergeResult, current_version: int) -> None:
        super().__init__(detail, where="version")
        self.merge = merge
        self.current_version = current_version
