"""The providers this app registers: the Patient (the person index), the record's facts
as clinical resources, safeguarding Flags, Provenance, Organizations and AuditEvents.

Medication facts are served twice, as MedicationStatement and (GP Connect's authorisation)
MedicationRequest; lab reports resolve their results, kept as the source's Observation
ids, to the Observations served from those records.

Care coordination resources (CarePlan, CareTeam, Task, ServiceRequest) belong to the
neighbourhoods app, which registers its own providers through ``providers.register``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import CharField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast

from joinedup.core.models import AuditEvent
from joinedup.errors import InvalidInput, NotFound
from joinedup.fhir import domain, mapping, versions
from joinedup.fhir import search as fs
from joinedup.fhir import writes as fact_writes
from joinedup.fhir.models import ResourceVersion
from joinedup.fhir.providers import (
    JSON,
    Context,
    ModelProvider,
    Resource,
    SearchPage,
    meta,
    register,
    with_versions,
)
from joinedup.people.models import Person, Sex
from joinedup.record.models import Fact
from joinedup.record.writes import API_SOURCE

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

    def read_rows(self, ctx: Context, value: Any) -> QuerySet[Any]:
        rows = super().read_rows(ctx, value)
        if connection.vendor != "postgresql":
            return rows  # no round trip to save; SQLite stores UUIDs without hyphens
        # The newest stored version rides along with the person: one round trip, not two.
        newest = (
            ResourceVersion.objects.for_system(_VERSIONS)
            .filter(resource_type="Patient", logical_id=Cast(OuterRef("id"), CharField()))
            .order_by("-version")
        )
        annotated: QuerySet[Any] = rows.annotate(
            stored_version=Subquery(newest.values("version")[:1]),
            stored_updated=Subquery(newest.values("last_updated")[:1]),
        )
        return annotated

    def render_rows(self, rows: list[Any]) -> list[Resource]:
        if all(hasattr(row, "stored_version") for row in rows):
            latest = {
                str(row.id): (row.stored_version, row.stored_updated)
                for row in rows
                if row.stored_version is not None
            }
        else:
            latest = versions.newest("Patient", [str(row.id) for row in rows])
        out = []
        for row in rows:
            body = self.to_fhir(row)
            stored = latest.get(str(row.id))
            version = versions.current_version(stored, row.updated_at)
            body["meta"] = meta(version, row.updated_at, self.profile)
            out.append(Resource("Patient", str(row.id), body, version, row.updated_at, row.id))
        return out

    def vread(self, ctx: Context, logical_id: str, version: int) -> Resource:
        current = self.read(ctx, logical_id)
        if version == current.version:
            return current
        for resource in versions.history("Patient", logical_id):
            if resource.version == version:
                return resource
        raise NotFound(f"Patient/{logical_id} has no version {version}")

    def history(self, ctx: Context, logical_id: str) -> list[Resource]:
        current = self.read(ctx, logical_id)
        older = [r for r in versions.history("Patient", logical_id) if r.version < current.version]
        return [current, *older]

    def create(self, ctx: Context, body: JSON) -> Resource:
        from joinedup.fhir import services

        return services.patient_create(ctx=ctx, body=body)

    def update(self, ctx: Context, logical_id: str, body: JSON, if_match: int | None) -> Resource:
        from joinedup.fhir import services

        return services.patient_update(ctx=ctx, logical_id=logical_id, body=body, if_match=if_match)


# -- the record's facts

# Searches on what a fact keeps in its detail (a JSON object) are built here, not from an
# ORM path (``SearchParam.build``). Each builder takes (modifier, value, where) and returns a Q.
CustomCondition = Callable[[str, str, str], Q]


def _fact_params(resource_type: str) -> dict[str, fs.SearchParam]:
    patient_element = {"Immunization", "EpisodeOfCare", "AllergyIntolerance"}
    subject = "patient" if resource_type in patient_element else "subject"
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
    if resource_type == "Observation":
        params["category"] = P(
            "category",
            "token",
            ("detail",),
            "vital-signs, laboratory ... (HL7 observation category), or observation (the kind)",
            sortable=False,
            build=_observation_category,
        )
    if resource_type == "Condition":
        params["clinical-status"] = params["status"]
        params["onset-date"] = params["date"]
    params.update(_clinical_params(resource_type, params))
    return params


def _clinical_params(
    resource_type: str, params: dict[str, fs.SearchParam]
) -> dict[str, fs.SearchParam]:
    """The parameters of AllergyIntolerance, DiagnosticReport and MedicationRequest."""
    out: dict[str, fs.SearchParam] = {}
    if resource_type == "AllergyIntolerance":
        del params["status"]  # an allergy has a clinical status, searched as such
        out["clinical-status"] = P(
            "clinical-status", "token", ("status",), "active, inactive or resolved"
        )
        for name, description in _ALLERGY_DETAIL.items():
            out[name] = _detail_param(name, description, _DETAIL_KEYS.get(name, name))
    elif resource_type == "DiagnosticReport":
        out["category"] = _detail_param("category", "The diagnostic service (LAB)", "category")
        out["result"] = P(
            "result",
            "reference",
            ("detail",),
            "An Observation the report gives as a result",
            targets=("Observation",),
            sortable=False,
            build=_result_condition,
        )
        out["performer"] = P(
            "performer",
            "reference",
            ("organisation",),
            "The laboratory (Organization, by ODS code)",
            targets=("Organization",),
        )
    elif resource_type == "MedicationRequest":
        out["status"] = P(
            "status",
            "token",
            ("status",),
            "active, completed, stopped, on-hold, draft, cancelled, entered-in-error, unknown",
            code_map=mapping.request_status_codes,
        )
        out["intent"] = P(
            "intent",
            "token",
            ("kind",),
            "Always plan: each is the authorisation of a GP medicine",
            code_map=lambda code: ["medication"] if code == "plan" else None,
        )
        out["authoredon"] = P("authoredon", "date", ("occurred_at",), "When it was authorised")
        del params["date"]  # MedicationRequest has authoredon, not date
    return out


_ALLERGY_DETAIL = {
    "category": "food, medication, environment or biologic",
    "criticality": "low, high or unable-to-assess",
    "verification-status": "unconfirmed, confirmed, refuted or entered-in-error",
}
_DETAIL_KEYS = {"verification-status": "verification"}


def _detail_param(name: str, description: str, key: str) -> fs.SearchParam:
    """A token kept in the fact's detail under ``key``."""
    return P(name, "token", ("detail",), description, sortable=False, build=_detail_token(key))


def _detail_token(key: str) -> CustomCondition:
    def build(modifier: str, value: str, where: str) -> Q:
        if modifier == "missing":
            if value not in {"true", "false"}:
                raise InvalidInput(":missing takes true or false", where=where)
            absent = Q(**{f"detail__{key}__isnull": True})
            return absent if value == "true" else ~absent
        if modifier not in {"", "not"}:
            raise InvalidInput(
                f"token parameters take :not or :missing, not :{modifier}", where=where
            )
        codes = [part.rpartition("|")[2] for part in value.split(",") if part]
        if not codes:
            raise InvalidInput("give a value to search for", where=where)
        found = Q(**{f"detail__{key}__in": codes})
        if modifier == "not":  # a record without the element is "not" any code
            return ~found | Q(**{f"detail__{key}__isnull": True})
        return found

    return build


def _observation_category(modifier: str, value: str, where: str) -> Q:
    """An Observation's category: the HL7 category kept in its detail, or (as before
    categories were kept) the kind of record, which every Observation is."""
    codes = [part.rpartition("|")[2] for part in value.split(",") if part]
    kinds = [code for code in codes if code in mapping.FACT_TYPES["Observation"]]
    if modifier == "missing" or not kinds:
        return _detail_token("category")(modifier, value, where)
    if modifier not in {"", "not"}:
        raise InvalidInput(f"token parameters take :not or :missing, not :{modifier}", where=where)
    return fs.NOTHING if modifier == "not" else Q(kind__in=kinds)


def _fact_queryset(kinds: tuple[str, ...]) -> Any:
    def scoped(user: User) -> QuerySet[Fact]:
        return domain.facts(user).filter(kind__in=kinds)

    return scoped


# What a written resource of these types becomes, for the CapabilityStatement.
_WRITE_NOTES = {
    "DiagnosticReport": " A written report's results are Observations the same organisation "
    "wrote about the same Patient (at most four).",
    "EpisodeOfCare": " The first type names the kind (Community referral, Hospice episode, "
    "Early help), the second what the episode was.",
    "MedicationRequest": " A written request (intent plan, an authorisation) is the medication "
    "its MedicationStatement shows: one record, one version history for both.",
    "Procedure": " The record keeps social care assessments (category text Social care "
    "assessment) only.",
}


class FactProvider(ModelProvider):
    """Facts as one resource type (the kinds ``mapping`` gives it; ``overrides`` replace
    the defaults for a type made differently, such as Flag).

    The types in ``mapping.WRITABLE_TYPES`` also take create and update
    (``fhir.writes``): a fact written through the API has stored versions (one for each
    type that shows it), so its versionId, vread and _history come from them; a feed's
    fact has one version.
    """

    def __init__(self, resource_type: str, **overrides: Any) -> None:
        kinds = mapping.kinds_of(resource_type)
        writable = resource_type in mapping.WRITABLE_TYPES
        source = f"From the shared record's facts ({', '.join(kinds)})"
        settings: dict[str, Any] = {
            "resource_type": resource_type,
            "model": Fact,
            "queryset": _fact_queryset(kinds),
            "to_fhir": mapping.FACT_MAPPINGS.get(resource_type),
            "last_updated_field": "received_at",
            "params": _fact_params(resource_type),
            "id_field": "id",
            "person_field": "identity__person_id",
            "patient_param": "patient",
            "exists": lambda fact_id: domain.fact_exists(fact_id, kinds),
            "related": ("identity",),
            "documentation": f"{source}; create and update keep what the record can hold "
            "(anything else is refused, 422); only resources written through this API, by "
            "a system of the same organisation, can be updated: a feed's are read-only (409)."
            + _WRITE_NOTES.get(resource_type, "")
            if writable
            else f"{source}; read-only.",
        }
        super().__init__(**{**settings, **overrides})
        if writable:
            self.interactions = self.interactions | {"create", "update"}

    def rendered(self, rows: list[Any]) -> list[Resource]:
        """Rows as served: a fact written through the API at its newest stored version."""
        written = [str(row.pk) for row in rows if row.source == API_SOURCE]
        return with_versions(self.render_rows(rows), versions.newest(self.resource_type, written))

    def vread(self, ctx: Context, logical_id: str, version: int) -> Resource:
        current = self.read(ctx, logical_id)
        if version == current.version:
            return current
        for resource in versions.history(self.resource_type, logical_id):
            if resource.version == version:
                return resource
        raise NotFound(f"{self.resource_type}/{logical_id} has no version {version}")

    def history(self, ctx: Context, logical_id: str) -> list[Resource]:
        current = self.read(ctx, logical_id)
        stored = versions.history(self.resource_type, logical_id)
        return [current, *[r for r in stored if r.version < current.version]]

    def create(self, ctx: Context, body: JSON) -> Resource:
        if self.resource_type not in mapping.WRITABLE_TYPES:
            return super().create(ctx, body)
        return fact_writes.fact_create(ctx=ctx, resource_type=self.resource_type, body=body)

    def update(self, ctx: Context, logical_id: str, body: JSON, if_match: int | None) -> Resource:
        if self.resource_type not in mapping.WRITABLE_TYPES:
            return super().update(ctx, logical_id, body, if_match)
        return fact_writes.fact_update(
            ctx=ctx,
            resource_type=self.resource_type,
            logical_id=logical_id,
            body=body,
            if_match=if_match,
        )


_RESULTS = "fhir: the results of lab reports the caller already sees"


class DiagnosticReportProvider(FactProvider):
    """Lab reports: their results, kept as the source's observation ids, are served as
    references to the Observations made from those records (same source identity)."""

    def __init__(self) -> None:
        super().__init__("DiagnosticReport")

    def render_rows(self, rows: list[Any]) -> list[Resource]:
        wanted = {
            (row.identity_id, record) for row in rows for record in mapping.report_result_ids(row)
        }
        served = _observation_ids(wanted)
        out = []
        for row in rows:
            results = {
                record: served[(row.identity_id, record)]
                for record in mapping.report_result_ids(row)
                if (row.identity_id, record) in served
            }
            body = mapping.diagnostic_report_to_fhir(row, results)
            body["meta"] = meta(1, row.received_at, self.profile)
            out.append(
                Resource(
                    self.resource_type, body["id"], body, 1, row.received_at, row.identity.person_id
                )
            )
        return out

    def referenced(self, ctx: Context, page: SearchPage, param: str) -> list[tuple[str, str]]:
        if param != "result":
            return super().referenced(ctx, page, param)
        return [
            ("Observation", str(ref["reference"].split("/", 1)[1]))
            for resource in page.resources
            for ref in resource.body.get("result", [])
            if "reference" in ref
        ]


def _result_condition(modifier: str, value: str, where: str) -> Q:
    """Reports giving one of these Observations as a result: found by the observation's
    record id among the report's results, within the same source identity."""
    if modifier not in {"", "Observation"}:
        raise InvalidInput("result can point to Observation", where=where)
    ids = []
    for part in value.split(","):
        pieces = part.rstrip("/").split("/")
        if len(pieces) >= 2 and pieces[-2] != "Observation":
            continue
        if pieces[-1].isdigit() and len(pieces[-1]) < 18:
            ids.append(int(pieces[-1]))
    if not value.strip(","):
        raise InvalidInput("give a value to search for", where=where)
    observations = (
        Fact.objects.for_system(_RESULTS)
        .filter(id__in=ids, kind="observation")
        .values_list("identity_id", "record_id")
    )
    found = fs.NOTHING
    for identity_id, record in observations:
        same = Q()
        for key in mapping.REPORT_RESULT_KEYS:
            same |= Q(**{f"detail__{key}": record})
        found |= Q(identity_id=identity_id) & same
    return found


def _observation_ids(wanted: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """Observation fact ids by (identity, source record id), for reports already read."""
    if not wanted:
        return {}
    rows = (
        Fact.objects.for_system(_RESULTS)
        .filter(
            kind="observation",
            identity_id__in={identity for identity, _ in wanted},
            record_id__in={record for _, record in wanted},
        )
        .values_list("identity_id", "record_id", "id")
    )
    return {(identity, record): fact_id for identity, record, fact_id in rows}


def fact_provider(resource_type: str) -> ModelProvider:
    if resource_type == "DiagnosticReport":
        return DiagnosticReportProvider()
    return FactProvider(resource_type)


def _flags(user: User) -> QuerySet[Fact]:
    return domain.facts(user).filter(
        kind__in=mapping.FLAG_KINDS, display__in=mapping.SAFEGUARDING_TITLES
    )


def flag_provider() -> ModelProvider:
    return FactProvider(
        "Flag",
        queryset=_flags,
        to_fhir=mapping.flag_to_fhir,
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
        documentation="Safeguarding records (child protection, child in need, safeguarding "
        "enquiry) as safety flags. A social worker may create and update a child protection "
        "plan or child in need flag (a safeguarding enquiry is written as a Procedure); a "
        "feed's flags are read-only (409).",
    )


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
    from joinedup.fhir.organisations import organisation_provider

    register(PatientProvider())
    for resource_type in mapping.FACT_TYPES:
        register(fact_provider(resource_type))
    for resource_type in mapping.SECOND_VIEWS:
        register(fact_provider(resource_type))
    register(flag_provider())
    register(organisation_provider())
    register(audit_provider())
    from joinedup.fhir import consent, practitioners, provenance

    register(provenance.ProvenanceProvider())

    practitioners.register_all()
    consent.register_all()
