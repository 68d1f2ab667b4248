"""The providers this app registers: the Patient (the person index), the record's facts
as clinical resources, safeguarding Flags, Provenance, Organizations and AuditEvents.

Care coordination resources (CarePlan, CareTeam, Task, ServiceRequest) belong to the
neighbourhoods app, which registers its own providers through ``providers.register``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from joinedup.core.models import AuditEvent, Organisation
from joinedup.errors import NotFound
from joinedup.fhir import domain, mapping
from joinedup.fhir import search as fs
from joinedup.fhir.models import ResourceVersion
from joinedup.fhir.providers import (
    JSON,
    Context,
    ModelProvider,
    Resource,
    meta,
    register,
)
from joinedup.people.models import Person, Sex
from joinedup.record.models import Fact
from joinedup.record.selectors import SOURCE_LABELS

if TYPE_CHECKING:
    from joinedup.core.models import User

P = fs.SearchParam
_GENDERS = {s.value for s in Sex}
_VERSIONS = "fhir versions of an opened record"


def _genders(code: str) -> list[str] | None:
    return [code] if code in _GENDERS else None


PATIENT_PARAMS: dict[str, fs.SearchParam] = {
    "identifier": P(
        "identifier",
        "token",
        ("nhs_number",),
        "The NHS number (system https://fhir.nhs.uk/Id/nhs-number)",
        system=mapping.NHS_NUMBER,
        sortable=False,
    ),
    "name": P("name", "string", ("family_name", "given_name"), "Family or given name"),
    "family": P("family", "string", ("family_name",), "Family name"),
    "given": P("given", "string", ("given_name",), "Given name"),
    "birthdate": P("birthdate", "date", ("date_of_birth",), "Date of birth"),
    "death-date": P("death-date", "date", ("date_of_death",), "Date of death"),
    "gender": P("gender", "token", ("sex",), "Administrative gender", code_map=_genders),
    "address-postalcode": P("address-postalcode", "string", ("postcode",), "Home postcode"),
    "general-practitioner": P(
        "general-practitioner",
        "reference",
        ("registered_practice__ods_code",),
        "The registered GP practice (Organization, by ODS code)",
        targets=("Organization",),
    ),
    "organization": P(
        "organization",
        "reference",
        ("registered_practice__ods_code",),
        "The organisation the patient is registered with",
        targets=("Organization",),
    ),
}


class PatientProvider(ModelProvider):
    """The person index as Patient; writes go through ``fhir.services`` with versions."""

    def __init__(self) -> None:
        super().__init__(
            resource_type="Patient",
            model=Person,
            queryset=domain.people,
            to_fhir=mapping.patient_to_fhir,
            last_updated_field="updated_at",
            params=PATIENT_PARAMS,
            id_field="id",
            person_field="id",
            patient_param=None,
            exists=domain.person_exists,
            related=("registered_practice",),
            profile=mapping.UK_CORE + "Patient",
            documentation="The person index: one Patient per person, with the NHS number.",
        )
        self.interactions = frozenset(
            {"read", "vread", "search-type", "history-instance", "create", "update"}
        )

    def render_rows(self, rows: list[Any]) -> list[Resource]:
        latest = stored_versions("Patient", [str(row.id) for row in rows])
        out = []
        for row in rows:
            body = self.to_fhir(row)
            stored = latest.get(str(row.id))
            version = current_version(stored, row.updated_at)
            body["meta"] = meta(version, row.updated_at, self.profile)
            out.append(Resource("Patient", str(row.id), body, version, row.updated_at, row.id))
        return out

    def vread(self, ctx: Context, logical_id: str, version: int) -> Resource:
        current = self.read(ctx, logical_id)
        if version == current.version:
            return current
        for resource in history_of("Patient", logical_id):
            if resource.version == version:
                return resource
        raise NotFound(f"Patient/{logical_id} has no version {version}")

    def history(self, ctx: Context, logical_id: str) -> list[Resource]:
        current = self.read(ctx, logical_id)
        older = [r for r in history_of("Patient", logical_id) if r.version < current.version]
        return [current, *older]

    def create(self, ctx: Context, body: JSON) -> Resource:
        from joinedup.fhir import services

        return services.patient_create(ctx=ctx, body=body)

    def update(self, ctx: Context, logical_id: str, body: JSON, if_match: int | None) -> Resource:
        from joinedup.fhir import services

        return services.patient_update(ctx=ctx, logical_id=logical_id, body=body, if_match=if_match)


def stored_versions(resource_type: str, logical_ids: list[str]) -> dict[str, tuple[int, datetime]]:
    """The newest stored (version, lastUpdated) of each resource written through FHIR."""
    if not logical_ids:
        return {}
    rows = (
        ResourceVersion.objects.for_system(_VERSIONS)
        .filter(resource_type=resource_type, logical_id__in=logical_ids)
        .values_list("logical_id", "version", "last_updated")
    )
    out: dict[str, tuple[int, datetime]] = {}
    for logical_id, version, last_updated in rows:
        if logical_id not in out or version > out[logical_id][0]:
            out[logical_id] = (version, last_updated)
    return out


def current_version(stored: tuple[int, datetime] | None, changed_at: datetime) -> int:
    """The stored version, or one more when the record changed after it outside FHIR."""
    if stored is None:
        return 1
    version, last_updated = stored
    return version + 1 if changed_at > last_updated else version


def history_of(resource_type: str, logical_id: str) -> list[Resource]:
    """Stored versions, newest first (of a record the caller has already read)."""
    rows = (
        ResourceVersion.objects.for_system(_VERSIONS)
        .filter(resource_type=resource_type, logical_id=logical_id)
        .order_by("-version")
    )
    return [
        Resource(resource_type, logical_id, row.body, row.version, row.last_updated, row.person_id)
        for row in rows
    ]


# -- the record's facts


def _fact_params(resource_type: str) -> dict[str, fs.SearchParam]:
    subject = "patient" if resource_type in {"Immunization", "EpisodeOfCare"} else "subject"
    params: dict[str, fs.SearchParam] = {
        "patient": P(
            "patient",
            "reference",
            ("identity__person_id",),
            "Whose record this is",
            targets=("Patient",),
        ),
        "date": P("date", "date", ("occurred_at",), "When it happened (the start)"),
        "code": P(
            "code",
            "token",
            ("code",),
            "What it was, as a code (system|code)",
            system_field="code_system",
        ),
        "status": P("status", "token", ("status",), "The status the source recorded"),
    }
    if subject == "subject":
        params["subject"] = P(
            "subject", "reference", ("identity__person_id",), "The subject", targets=("Patient",)
        )
    if resource_type in {"Encounter", "Immunization"}:
        name = "service-provider" if resource_type == "Encounter" else "performer"
        params[name] = P(
            name,
            "reference",
            ("organisation",),
            "The organisation (ODS code)",
            targets=("Organization",),
        )
    if resource_type == "Observation":
        params["combo-code"] = params["code"]
        params["value-quantity"] = P(
            "value-quantity", "number", ("value",), "The value (a number, with a prefix)"
        )
    if resource_type in {"Condition", "Observation", "Encounter", "EpisodeOfCare", "Procedure"}:
        params["category"] = P(
            "category",
            "token",
            ("kind",),
            "The kind of record (e.g. admission)",
            code_map=lambda code: [code] if code in mapping.TYPE_OF_KIND else None,
        )
    if resource_type == "Condition":
        params["clinical-status"] = params["status"]
        params["onset-date"] = params["date"]
    return params


def _fact_queryset(kinds: tuple[str, ...]) -> Any:
    def scoped(user: User) -> QuerySet[Fact]:
        return domain.facts(user).filter(kind__in=kinds)

    return scoped


def fact_provider(resource_type: str) -> ModelProvider:
    kinds = mapping.FACT_TYPES[resource_type]
    return ModelProvider(
        resource_type=resource_type,
        model=Fact,
        queryset=_fact_queryset(kinds),
        to_fhir=mapping.FACT_MAPPINGS[resource_type],
        last_updated_field="received_at",
        params=_fact_params(resource_type),
        id_field="id",
        person_field="identity__person_id",
        patient_param="patient",
        exists=lambda fact_id: domain.fact_exists(fact_id, kinds),
        related=("identity",),
        documentation=f"From the shared record's facts ({', '.join(kinds)}); read-only.",
    )


def _flags(user: User) -> QuerySet[Fact]:
    return domain.facts(user).filter(
        kind__in=("child_referral", "assessment"), display__in=mapping.SAFEGUARDING_TITLES
    )


def flag_provider() -> ModelProvider:
    return ModelProvider(
        resource_type="Flag",
        model=Fact,
        queryset=_flags,
        to_fhir=mapping.flag_to_fhir,
        last_updated_field="received_at",
        params={
            "patient": P(
                "patient",
                "reference",
                ("identity__person_id",),
                "Whose record",
                targets=("Patient",),
            ),
            "subject": P(
                "subject",
                "reference",
                ("identity__person_id",),
                "Whose record",
                targets=("Patient",),
            ),
            "date": P("date", "date", ("occurred_at",), "When the flag started"),
        },
        id_field="id",
        person_field="identity__person_id",
        patient_param="patient",
        exists=lambda fact_id: domain.fact_exists(fact_id, ("child_referral", "assessment")),
        related=("identity",),
        documentation="Safeguarding records (child protection, child in need, safeguarding "
        "enquiry) as safety flags; read-only.",
    )


def _provenance_facts(user: User) -> QuerySet[Fact]:
    return domain.facts(user).filter(kind__in=list(mapping.TYPE_OF_KIND))


def _provenance(fact: Any) -> JSON:
    return mapping.provenance_to_fhir(
        fact, source_label=SOURCE_LABELS.get(fact.source, fact.source)
    )


class ProvenanceProvider(ModelProvider):
    """Where each clinical resource came from; ``target`` searches by the resource."""

    def __init__(self) -> None:
        super().__init__(
            resource_type="Provenance",
            model=Fact,
            queryset=_provenance_facts,
            to_fhir=_provenance,
            last_updated_field="received_at",
            params={
                "target": P(
                    "target",
                    "reference",
                    ("id",),
                    "The resource it is about",
                    targets=tuple(mapping.FACT_TYPES),
                ),
                "patient": P(
                    "patient",
                    "reference",
                    ("identity__person_id",),
                    "Whose record",
                    targets=("Patient",),
                ),
                "recorded": P("recorded", "date", ("received_at",), "When it was received"),
            },
            id_field="id",
            person_field="identity__person_id",
            patient_param="patient",
            exists=lambda fact_id: domain.fact_exists(fact_id, tuple(mapping.TYPE_OF_KIND)),
            related=("identity",),
            documentation="One Provenance per clinical resource: its source system and "
            "delivery; read-only.",
        )


class OrganisationProvider(ModelProvider):
    """Organisations carry no change time: lastUpdated is when the server started."""

    STARTED = datetime.now().astimezone()

    def __init__(self) -> None:
        super().__init__(
            resource_type="Organization",
            model=Organisation,
            queryset=domain.organisations,
            to_fhir=mapping.organisation_to_fhir,
            last_updated_field="",
            params={
                "identifier": P(
                    "identifier", "token", ("ods_code",), "ODS code", system=mapping.ODS
                ),
                "name": P("name", "string", ("name",), "Name"),
            },
            id_field="ods_code",
            documentation="Organisations of the partnership, by ODS code; read-only.",
        )

    def render_rows(self, rows: list[Any]) -> list[Resource]:
        out = []
        for row in rows:
            body = self.to_fhir(row)
            body["meta"] = meta(1, self.STARTED, None)
            out.append(Resource("Organization", row.ods_code, body, 1, self.STARTED))
        return out


_AUDIT_ACTIONS: dict[str, list[str]] = defaultdict(list)
for _action in (
    "read",
    "search",
    "create",
    "update",
    "delete",
    "export",
    "deny",
    "break_glass",
    "review",
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "admin",
):
    _AUDIT_ACTIONS[mapping.audit_action_code(_action)].append(_action)


def audit_provider() -> ModelProvider:
    return ModelProvider(
        resource_type="AuditEvent",
        model=AuditEvent,
        queryset=domain.audit_events,
        to_fhir=mapping.audit_to_fhir,
        last_updated_field="occurred_at",
        params={
            "date": P("date", "date", ("occurred_at",), "When it happened"),
            "patient": P(
                "patient",
                "reference",
                ("person_id",),
                "The person whose record",
                targets=("Patient",),
            ),
            "entity": P(
                "entity", "reference", ("person_id",), "The record acted on", targets=("Patient",)
            ),
            "action": P(
                "action",
                "token",
                ("action",),
                "C, R, U, D or E",
                code_map=_AUDIT_ACTIONS.get,
            ),
            "subtype": P("subtype", "token", ("action",), "The platform's own action code"),
            "agent-name": P("agent-name", "string", ("actor_username",), "Who acted"),
        },
        id_field="id",
        documentation="The platform's hash-chained audit trail (every FHIR read writes one); "
        "read-only, for roles that review the audit trail.",
    )


def register_all() -> None:
    register(PatientProvider())
    for resource_type in mapping.FACT_TYPES:
        register(fact_provider(resource_type))
    register(flag_provider())
    register(ProvenanceProvider())
    register(OrganisationProvider())
    register(audit_provider())
