"""Reference data from the borough's organisation register: upserted, never deleted."""

from __future__ import annotations

import csv
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from joinedup.core.models import Neighbourhood, Organisation, OrganisationKind
from joinedup.errors import InvalidInput

# The register's own words for each kind of organisation.
KINDS = {
    "gp practice": OrganisationKind.GP_PRACTICE,
    "nhs trust": OrganisationKind.ACUTE_TRUST,
    "hospital site": OrganisationKind.ACUTE_TRUST,
    "community services provider": OrganisationKind.COMMUNITY_PROVIDER,
    "mental health trust": OrganisationKind.MENTAL_HEALTH_TRUST,
    "local authority": OrganisationKind.LOCAL_AUTHORITY,
    "adult social care": OrganisationKind.LOCAL_AUTHORITY,
    "children's social care": OrganisationKind.LOCAL_AUTHORITY,
    "hospice": OrganisationKind.HOSPICE,
    "out-of-hours gp service": OrganisationKind.OUT_OF_HOURS,
    "care home": OrganisationKind.CARE_HOME,
    "residential": OrganisationKind.CARE_HOME,
    "nursing": OrganisationKind.CARE_HOME,
    "voluntary organisation": OrganisationKind.VOLUNTARY,
    "gp federation": OrganisationKind.PARTNERSHIP,
}


def _neighbourhood(name: str) -> Neighbourhood | None:
    name = name.strip()
    if not name:
        return None
    found = Neighbourhood.objects.filter(name=name).first()
    return found or Neighbourhood.objects.create(name=name, code=slugify(name)[:40])


@transaction.atomic
def organisations_sync(path: Path, *, code_column: str = "org_code") -> int:
    """Add or update every organisation in a register CSV; returns how many rows it read."""
    count = 0
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            code, kind = row.get(code_column, "").strip().upper(), row.get("type", "").strip()
            if not code or kind.lower() not in KINDS:
                raise InvalidInput(
                    f"unknown organisation code or type {kind!r}", where=f"{path}:{line}"
                )
            Organisation.objects.update_or_create(
                ods_code=code,
                defaults={
                    "name": row["name"].strip(),
                    "kind": KINDS[kind.lower()],
                    "neighbourhood": _neighbourhood(row.get("neighbourhood", "")),
                },
            )
            count += 1
    return count
