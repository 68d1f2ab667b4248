"""The National Data Opt-out on the FHIR facade, as a Consent (read and search only).

The person index stores one consent decision: ``Person.opted_out_secondary_use``, the
National Data Opt-out (the person's confidential information is not to be used for
research and planning, beyond their own care). Each person who opted out has one active
Consent denying that use; its id is the person's id (a person has at most one). A person
who has not opted out has no Consent: the index records no consent they gave.

Person-scoped: read only through the people the caller cares for, every read audited by
the facade, a stranger's read refused (403) and audited. Writes stay with the person
index (the opt-out comes from the national service), so FHIR never changes a consent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from joinedup.errors import NotFound
from joinedup.fhir import domain
from joinedup.fhir import search as fs
from joinedup.fhir.providers import JSON, Context, ModelProvider, register
from joinedup.people.models import Person

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.db.models import QuerySet

    from joinedup.core.models import User

P = fs.SearchParam

SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
LOINC = "http://loinc.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
POLICY = "https://digital.nhs.uk/services/national-data-opt-out"

SCOPE = ("patient-privacy", "Privacy Consent")
CATEGORY = ("59284-0", "Patient Consent")
OPT_OUT = ("OPTOUT", "opt-out")
PURPOSE = ("HRESCH", "healthcare research")


def _always(code: str) -> Any:
    """A token that every served Consent carries: it matches the opted-out people."""

    def stored(value: str) -> Iterable[str] | None:
        return ["True"] if value == code else None

    return stored


def _opted_out(user: User) -> QuerySet[Person]:
    return domain.people(user).filter(opted_out_secondary_use=True)


def consent_to_fhir(person: Person) -> JSON:
    """The person's National Data Opt-out: research and planning denied, own care not."""
    return {
        "resourceType": "Consent",
        "id": str(person.id),
        "status": "active",
        "scope": {
            "coding": [{"system": SCOPE_SYSTEM, "code": SCOPE[0], "display": SCOPE[1]}],
            "text": "Use of confidential patient information beyond the person's own care",
        },
        "category": [
            {
                "coding": [
                    {"system": LOINC, "code": CATEGORY[0], "display": CATEGORY[1]},
                    {"system": ACT_CODE, "code": OPT_OUT[0], "display": OPT_OUT[1]},
                ],
                "text": "National Data Opt-out",
            }
        ],
        "patient": {"reference": f"Patient/{person.id}"},
        "policy": [{"uri": POLICY}],
        "provision": {
            "type": "deny",
            "purpose": [{"system": ACT_REASON, "code": PURPOSE[0], "display": PURPOSE[1]}],
        },
    }


def _patient(name: str) -> fs.SearchParam:
    return P(name, "reference", ("id",), "Whose consent it is", targets=("Patient",))


class ConsentProvider(ModelProvider):
    """Refuses (403, audited) only a person outside the caller's care; a person in it who
    has not opted out simply has no Consent (404). Strangers get 403 whether or not the
    person opted out, so the answer never tells them."""

    def _refuse(self, ctx: Context, value: Any) -> None:
        if value is not None and domain.people(ctx.user).filter(id=value).exists():
            raise NotFound("there is no Consent with this id")
        super()._refuse(ctx, value)


def consent_provider() -> ModelProvider:
    flag = ("opted_out_secondary_use",)
    return ConsentProvider(
        resource_type="Consent",
        model=Person,
        queryset=_opted_out,
        to_fhir=consent_to_fhir,
        last_updated_field="updated_at",
        params={
            "patient": _patient("patient"),
            "status": P(
                "status",
                "token",
                flag,
                "Status (active: every opt-out held)",
                code_map=_always("active"),
                sortable=False,
            ),
            "category": P(
                "category",
                "token",
                flag,
                f"Category: LOINC {CATEGORY[0]} or v3-ActCode {OPT_OUT[0]}",
                code_map=_category,
                sortable=False,
            ),
            "scope": P(
                "scope",
                "token",
                flag,
                f"Scope ({SCOPE[0]})",
                code_map=_always(SCOPE[0]),
                sortable=False,
            ),
        },
        id_field="id",
        person_field="id",
        patient_param="patient",
        exists=domain.person_exists,
        documentation="The National Data Opt-out held in the person index, one Consent per "
        "person who opted out (id = the person's id; provision deny for research and "
        "planning). Read and search only: consent is not written through this API (changes "
        "come from the national opt-out service through the person index). lastUpdated is "
        "when the person's index entry last changed.",
    )


def _category(code: str) -> Iterable[str] | None:
    return ["True"] if code in (CATEGORY[0], OPT_OUT[0]) else None


def register_all() -> None:
    register(consent_provider())
