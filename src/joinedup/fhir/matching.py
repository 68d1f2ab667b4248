"""``Patient/$match``: find the people in the person index who may be the Patient sent.

The candidates are only the people the caller may see (the same rule as search). Each
is scored on the fields the person index links on: the NHS number decides on its own;
otherwise family name and date of birth must agree, and given name, postcode and gender
add to the score. Grades follow FHIR's match-grade extension.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q

from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction
from joinedup.errors import InvalidInput
from joinedup.fhir import domain, mapping
from joinedup.fhir.operations import Reply, _bundle, _entry
from joinedup.fhir.providers import JSON, Context, audit_reads, provider_for
from joinedup.fhir.validation import validate

MATCH_GRADE = "http://hl7.org/fhir/StructureDefinition/match-grade"


def grade(score: float) -> str:
    if score >= 0.95:
        return "certain"
    if score >= 0.8:
        return "probable"
    if score >= 0.6:
        return "possible"
    return "certainly-not"


def score(wanted: JSON, person: Any) -> float:
    """How well a person in the index fits the Patient sent (0 to 1)."""
    number = _nhs_number(wanted)
    if number and person.nhs_number:
        return 1.0 if number == person.nhs_number else 0.0
    name = (wanted.get("name") or [{}])[0]
    family = (name.get("family") or "").casefold()
    born = wanted.get("birthDate")
    if not family or family != person.family_name.casefold():
        return 0.0
    if not born or person.date_of_birth is None or born != person.date_of_birth.isoformat():
        return 0.0
    total = 0.6
    given = [g.casefold() for g in name.get("given") or []]
    if given and person.given_name.casefold().split(" ")[:1] == given[:1]:
        total += 0.2
    postcode = ((wanted.get("address") or [{}])[0].get("postalCode") or "").replace(" ", "").upper()
    if postcode and postcode == person.postcode.replace(" ", "").upper():
        total += 0.15
    if wanted.get("gender") and wanted.get("gender") == person.sex:
        total += 0.05
    return min(total, 0.94)  # without the NHS number, never certain


def _nhs_number(patient: JSON) -> str | None:
    for identifier in patient.get("identifier") or []:
        if identifier.get("system") == mapping.NHS_NUMBER and identifier.get("value"):
            return str(identifier["value"]).replace(" ", "")
    return None


def _parameters(body: Any) -> tuple[JSON, bool, int]:
    validate(body, expected="Parameters")
    patient, certain_only, count = None, False, 10
    for parameter in body.get("parameter") or []:
        name = parameter.get("name")
        if name == "resource":
            patient = parameter.get("resource")
        elif name == "onlyCertainMatches":
            certain_only = bool(parameter.get("valueBoolean"))
        elif name == "count":
            count = max(1, min(int(parameter.get("valueInteger") or 10), 100))
    if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
        raise InvalidInput(
            "send the Patient to match as the parameter 'resource'", where="resource"
        )
    return patient, certain_only, count


def match(ctx: Context, body: Any) -> Reply:
    ctx.grant.require("Patient", "s")
    patient, certain_only, count = _parameters(body)
    number = _nhs_number(patient)
    condition = Q(pk__in=[])
    if number:
        condition |= Q(nhs_number=number)
    name = (patient.get("name") or [{}])[0]
    if name.get("family") and patient.get("birthDate"):
        try:
            born = date.fromisoformat(patient["birthDate"])
        except ValueError:
            raise InvalidInput(
                "birthDate must be a full date", where="resource.birthDate"
            ) from None
        condition |= Q(family_name__iexact=name["family"], date_of_birth=born)
    if not number and not (name.get("family") and patient.get("birthDate")):
        raise InvalidInput(
            "send an NHS number, or a family name and birth date, to match on", where="resource"
        )
    people = list(
        domain.people(ctx.user).filter(condition).select_related("registered_practice")[:200]
    )
    scored = sorted(((score(patient, p), p) for p in people), key=lambda pair: -pair[0])
    scored = [(s, p) for s, p in scored if grade(s) != "certainly-not"]
    if certain_only:
        scored = [(s, p) for s, p in scored if grade(s) == "certain"]
    scored = scored[:count]
    provider = provider_for("Patient")
    rendered = (
        provider.render_rows([p for _, p in scored]) if hasattr(provider, "render_rows") else []
    )
    bundle = _bundle("searchset", total=len(rendered))
    entries = []
    for (value, _), resource in zip(scored, rendered, strict=True):
        entry = _entry(ctx, resource, "match")
        entry["search"]["score"] = round(value, 2)
        entry["search"]["extension"] = [{"url": MATCH_GRADE, "valueCode": grade(value)}]
        entries.append(entry)
    if entries:
        bundle["entry"] = entries
    audit_record(
        actor=ctx.user,
        action=AuditAction.SEARCH,
        resource="fhir.Patient.$match",
        reason=f"{len(entries)} candidates",
    )
    audit_reads(ctx, rendered, label="fhir.Patient.$match")
    return Reply(200, bundle)
