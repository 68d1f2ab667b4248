"""The National Data Opt-out on the FHIR facade, as a Consent.

The person index stores one consent decision: ``Person.opted_out_secondary_use``, the
National Data Opt-out (the person's confidential information is not to be used for
research and planning, beyond their own care). Each person who opted out has one active
Consent denying that use; its id is the person's id (a person has at most one). A person
who has not opted out has no Consent: the index records no consent they gave, unless an
opt-out recorded through this API was withdrawn, which reads as an inactive Consent.

Person-scoped: read only through the people the caller cares for, every read audited by
the facade, a stranger's read refused (403) and audited.

Writes: someone who may see the person (their GP practice, their care team) records the
opt-out on the person's behalf with a create, and withdraws it with an update to status
``inactive`` (``people.services.person_opt_out_set``, audited with who recorded it). That
is the local record the platform honours, not a registration with the national service,
and the Consent says no more than the index keeps: anything else (a date, a performer, a
permit) is refused, 422, by name. An opt-out the index holds from elsewhere (the national
service, through the person index) is not changed here (409).
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import CharField, Exists, F, OuterRef, Q, Value
from django.db.models.functions import Cast, Replace

from joinedup.errors import Conflict, NotFound
from joinedup.fhir import domain, versions
from joinedup.fhir import search as fs
from joinedup.fhir.errors import Unprocessable
from joinedup.fhir.models import ResourceVersion
from joinedup.fhir.providers import JSON, Context, ModelProvider, Resource, register
from joinedup.fhir.versions import require_created_here
from joinedup.fhir.writes import person_written_about
from joinedup.people import services as people_services
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


_VERSIONS = "fhir: which people have an opt-out recorded through the API"


def _always(code: str) -> Any:
    """A token that every served Consent carries, active or withdrawn."""

    def stored(value: str) -> Iterable[str] | None:
        return ["True", "False"] if value == code else None

    return stored


def _status(code: str) -> Iterable[str] | None:
    return {"active": ["True"], "inactive": ["False"]}.get(code)


def _written_here() -> Exists:
    """Whether the person has a Consent written through the API (stored versions)."""
    person_id = Cast(OuterRef("id"), CharField())
    rows = ResourceVersion.objects.for_system(_VERSIONS).filter(resource_type="Consent")
    if connection.vendor == "postgresql":
        return Exists(rows.filter(logical_id=person_id))
    # Elsewhere a UUID is kept as 32 hex digits, and a logical id has the hyphens.
    compact = Replace(F("logical_id"), Value("-"), Value(""))
    return Exists(rows.annotate(compact=compact).filter(compact=person_id))


def _consents(user: User) -> QuerySet[Person]:
    """The people the user may see who opted out, or whose opt-out written through the
    API was withdrawn (an inactive Consent)."""
    return domain.people(user).filter(Q(opted_out_secondary_use=True) | Q(_written_here()))


def consent_to_fhir(person: Person) -> JSON:
    """The person's National Data Opt-out: research and planning denied, own care not."""
    return {
        "resourceType": "Consent",
        "id": str(person.id),
        "status": "active" if person.opted_out_secondary_use else "inactive",
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


# -- writing

_PATIENT = re.compile(r"(?:^|/)Patient/([0-9a-fA-F-]{32,36})$")


def _codes(concept: Any) -> set[tuple[str, str]]:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    pairs = [
        (c.get("system"), c.get("code"))
        for c in (codings if isinstance(codings, list) else [])
        if isinstance(c, dict)
    ]
    return {(s, c) for s, c in pairs if isinstance(s, str) and isinstance(c, str)}


def _patient_id(body: JSON) -> str:
    """The Patient id the Consent names, as text (``Consent.patient``)."""
    ref = body.get("patient")
    found = _PATIENT.search(str(ref.get("reference", ""))) if isinstance(ref, dict) else None
    if found is None:
        raise Unprocessable("name the Patient (Patient/<id>)", where="Consent.patient")
    return found.group(1)


def _patient_uuid(body: JSON) -> uuid.UUID:
    try:
        return uuid.UUID(_patient_id(body))
    except ValueError:
        raise Unprocessable("there is no Patient with this id", where="Consent.patient") from None


def opts_out(body: JSON) -> bool:
    """Whether the Consent records the opt-out (active) or its withdrawal (inactive); a
    consent of any other kind cannot be kept, and is refused naming what makes it so."""
    status = body.get("status")
    if not isinstance(status, str) or status not in {"active", "inactive"}:
        raise Unprocessable(
            "the record keeps an opt-out as active, or withdrawn as inactive",
            where="Consent.status",
        )
    if (SCOPE_SYSTEM, SCOPE[0]) not in _codes(body.get("scope")):
        raise Unprocessable(
            f"only the National Data Opt-out is kept: scope {SCOPE_SYSTEM}|{SCOPE[0]}",
            where="Consent.scope",
        )
    policies = body.get("policy")
    listed = policies if isinstance(policies, list) else []
    if not any(isinstance(p, dict) and p.get("uri") == POLICY for p in listed):
        raise Unprocessable(
            f"only the National Data Opt-out is kept: give policy[0].uri {POLICY}",
            where="Consent.policy",
        )
    provision = body.get("provision")
    if provision is not None and (
        not isinstance(provision, dict) or provision.get("type") != "deny"
    ):
        raise Unprocessable(
            "the opt-out denies use beyond the person's care: nothing else is kept",
            where="Consent.provision.type",
        )
    return bool(status == "active")


def in_served_order(body: JSON) -> JSON:
    """The category's codings as reads give them, where the body sends some of them in
    another order (their order means nothing; the loss check compares by position)."""
    out = copy.deepcopy(body)
    categories = out.get("category")
    first = categories[0] if isinstance(categories, list) and categories else None
    codings = first.get("coding") if isinstance(first, dict) else None
    if not isinstance(first, dict) or not isinstance(codings, list) or not codings:
        return out
    served = consent_to_fhir(Person(opted_out_secondary_use=True))["category"][0]["coding"]
    if all(any(_within(c, s) for s in served) for c in codings):
        first["coding"] = served
    return out


def _within(sent: Any, served: JSON) -> bool:
    return isinstance(sent, dict) and all(served.get(k) == v for k, v in sent.items())


class ConsentWriter:
    """Opt-outs through the people service: one per person, recorded for them."""

    def create(self, ctx: Context, body: JSON) -> Person:
        person_id = _patient_uuid(body)
        if not opts_out(body):
            raise Unprocessable(
                "there is no opt-out to withdraw: create an active Consent", where="Consent.status"
            )
        opted_out = domain.people(ctx.user).filter(id=person_id, opted_out_secondary_use=True)
        if opted_out.exists() or versions.newest("Consent", [str(person_id)]):
            raise Conflict(
                f"this person already has a Consent (Consent/{person_id}): update it",
                where="Consent.patient",
            )
        people_services.person_opt_out_set(user=ctx.user, person_id=person_id, opted_out=True)
        return _consents(ctx.user).get(id=person_id)

    def update(self, ctx: Context, row: Person, body: JSON) -> Person:
        require_created_here(
            "Consent", str(row.id), "the person index (the national opt-out service)"
        )
        opted_out = opts_out(body)
        if _patient_uuid(body) != row.id:
            raise Unprocessable("a Consent cannot move to another Patient", where="Consent.patient")
        people_services.person_opt_out_set(user=ctx.user, person_id=row.id, opted_out=opted_out)
        return _consents(ctx.user).get(id=row.id)


class ConsentProvider(ModelProvider):
    """Refuses (403, audited) only a person outside the caller's care; a person in it who
    has not opted out simply has no Consent (404). Strangers get 403 whether or not the
    person opted out, so the answer never tells them. A write about a stranger is
    refused and audited before the write's transaction, so the audit event is kept."""

    def _refuse(self, ctx: Context, value: Any) -> None:
        if value is not None and domain.people(ctx.user).filter(id=value).exists():
            raise NotFound("there is no Consent with this id")
        super()._refuse(ctx, value)

    def create(self, ctx: Context, body: JSON) -> Resource:
        ctx.grant.require(self.resource_type, "c")
        _about(ctx, _patient_id(body), "Consent.patient")
        return super().create(ctx, in_served_order(body))

    def update(self, ctx: Context, logical_id: str, body: JSON, if_match: int | None) -> Resource:
        ctx.grant.require(self.resource_type, "u")
        try:
            _about(ctx, logical_id, "Consent.id")
        except Unprocessable:
            raise NotFound("there is no Consent with this id") from None
        return super().update(ctx, logical_id, in_served_order(body), if_match)


def _about(ctx: Context, person_id: str, where: str) -> None:
    """A person the caller may see, else refused: 403 and audited, or 422 for nobody."""
    try:
        known = domain.person_exists(uuid.UUID(person_id))
    except ValueError:
        known = False
    if not known:
        raise Unprocessable("there is no Patient with this id", where=where)
    person_written_about(ctx, "Consent", str(uuid.UUID(person_id)))


def consent_provider() -> ModelProvider:
    flag = ("opted_out_secondary_use",)
    return ConsentProvider(
        resource_type="Consent",
        model=Person,
        queryset=_consents,
        to_fhir=consent_to_fhir,
        last_updated_field="updated_at",
        params={
            "patient": _patient("patient"),
            "status": P(
                "status",
                "token",
                flag,
                "Status (active: an opt-out held; inactive: one withdrawn through this API)",
                code_map=_status,
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
        writer=ConsentWriter(),
        documentation="The National Data Opt-out held in the person index, one Consent per "
        "person who opted out (id = the person's id; provision deny for research and "
        "planning). Someone who may see the person records it on their behalf (create, "
        "active) and withdraws it (update, inactive); nothing else a Consent can say is kept "
        "(422). An opt-out the index holds from the national service is read-only (409). "
        "lastUpdated is when the person's index entry last changed.",
    )


def _category(code: str) -> Iterable[str] | None:
    return ["True", "False"] if code in (CATEGORY[0], OPT_OUT[0]) else None


def register_all() -> None:
    register(consent_provider())
