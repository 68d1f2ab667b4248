"""Errors the care-home register and the alignment planner raise on purpose."""

from __future__ import annotations

from joinedup.errors import Conflict, InvalidInput


class RegisterFileInvalid(InvalidInput):
    """A register file cannot be read at all (missing columns, not a CSV)."""


class AlignmentInfeasible(InvalidInput):
    """The planner's rules cannot all be met (for example, too few practices for the homes)."""

    code = "alignment-infeasible"


class ProposalChanged(Conflict):
    """The register changed between showing a proposal and adopting it."""
