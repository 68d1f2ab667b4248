"""The portfolio's form error: every field's problem at once, the first as the headline."""

from __future__ import annotations

from joinedup.errors import InvalidInput


class FormInvalid(InvalidInput):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        where, detail = problems[0]
        super().__init__(detail, where=where)
        self.problems = problems
