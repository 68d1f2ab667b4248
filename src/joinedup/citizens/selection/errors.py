"""Errors the panel-selection kernel raises on purpose (subclasses of the platform's base).

``InfeasibleQuotas`` carries the relaxation report; the CLI prints it to stderr and exits
with code 4 ("the quotas as given cannot be met"; a later web layer maps it to HTTP 422).
"""

from __future__ import annotations

from typing import Any, ClassVar

from joinedup.errors import JoinedUpError


class InfeasibleQuotas(JoinedUpError):
    """No panel of the requested size meets every quota (and the household rule)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "infeasible-quotas"
    title: ClassVar[str] = "No panel can meet these quotas"
    exit_code: ClassVar[int] = 4
    fhir_code: ClassVar[str] = "business-rule"

    def __init__(self, detail: str, *, report: dict[str, Any], where: str = "quotas") -> None:
        super().__init__(detail, where=where)
        self.report = report
