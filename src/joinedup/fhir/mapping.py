"""Pure mappings between the shared record's rows and FHIR R4 (UK Core) JSON.

Each ``<thing>_to_fhir`` takes one domain row (any object with the right attributes) and
returns the resource without ``meta`` (the provider adds version information). Nothing
here touches the database or knows about HTTP, so every mapping is unit-tested alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from joinedup.fhir.errors import Unprocessable
from joinedup.fhir.roundtrip import moment_of, refuse_labels, require_lossless
from joinedup.record.models import FactKind
from joinedup.record.writes import FactValues

JSON = dict[str, Any]

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"
VERIFICATION_EXTENSION = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
)
VERIFICATION_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
VACCINATION_PROCEDURE = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-VaccinationProcedure"
)
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
ETHNIC_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
ETHNIC_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
ETHNIC_CODES = frozenset("ABCDEFGHJKLMNPRSZ")

# Which record facts each resource type is made from (FactKind values).
FACT_TYPES: dict[str, tuple[str, ...]] = {
    "Encounter": ("encounter", "admission", "community_contact"),
    "Condition": ("condition",),
    "Observation": ("observation",),
    "MedicationStatement": ("medication",),
    "Immunization": ("immunisation",),
    "EpisodeOfCare": ("community_referral", "hospice_episode", "early_help"),
    "Procedure": ("assessment",),
    "AllergyIntolerance": ("allergy",),
    "DiagnosticReport": ("diagnostic_report",),
}
TYPE_OF_KIND = {kind: rtype for rtype, kinds in FACT_TYPES.items() for kind in kinds}
# Resource types that show the same facts a second way. A GP's prescribed medicine is a
# MedicationStatement (what the patient takes) and, as GP Connect has it, a
# MedicationRequest with intent "plan" (the authorisation), with the same logical id;
# the fact's own type (its Provenance target) stays the MedicationStatement.
SECOND_VIEWS: dict[str, tuple[str, ...]] = {"MedicationRequest": ("medication",)}
# Lab reports keep up to this many results (detail keys result_0, result_1, ...).
REPORT_RESULT_KEYS = tuple(f"result_{i}" for i in range(4))

# Safeguarding records that are shown as a Flag (the same titles as the record's summary).
SAFEGUARDING_TITLES = ("Child protection plan", "Child in need", "Safeguarding enquiry")
# The facts a Flag may be: children's social care outcomes, and adult safeguarding
# enquiries (assessments, which are Procedures too).
FLAG_KINDS = ("child_referral", "assessment")
# A written Flag is one of these children's social care outcomes (kept as the referral's
# outcome); a safeguarding enquiry is an assessment and is written as a Procedure.
FLAG_TITLES = {"Child protection plan": "child_referral", "Child in need": "child_referral"}


def kinds_of(resource_type: str) -> tuple[str, ...]:
    """The kinds of fact a resource type shows (its own, a second view's, or a Flag's)."""
    if resource_type == "Flag":
        return FLAG_KINDS
    return FACT_TYPES.get(resource_type) or SECOND_VIEWS.get(resource_type) or ()


def views_of(kind: str, display: str) -> tuple[str, ...]:
    """Every resource type that shows a fact of this kind and title, its own type first:
    a write stores a version of each, so all of them keep one version history."""
    own = (TYPE_OF_KIND[kind],) if kind in TYPE_OF_KIND else ()
    second = tuple(rtype for rtype, kinds in SECOND_VIEWS.items() if kind in kinds)
    flag = ("Flag",) if kind in FLAG_KINDS and display in SAFEGUARDING_TITLES else ()
    return own + second + flag


def when(moment: datetime | date | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return moment.isoformat(timespec="seconds")
    return moment.isoformat()


def concept(system: str, code: str, display: str) -> JSON:
    """A CodeableConcept: a coding when there is a code, and the text as shown."""
    out: JSON = {}
    if code:
        coding: JSON = {"code": code}
        if system:
            coding["system"] = system
        if display:
            coding["display"] = display
        out["coding"] = [coding]
    if display:
        out["text"] = display
    return out or {"text": "Not recorded"}


def _compact(resource: JSON) -> JSON:
    """Drop empty elements: FHIR forbids empty strings, lists and objects."""
    return {k: v for k, v in resource.items() if v not in (None, "", [], {})}


def ods_reference(code: str, display: str = "") -> JSON:
    out: JSON = {"reference": f"Organization/{code}", "identifier": {"system": ODS, "value": code}}
    if display:
        out["display"] = display
    return out


# -- Patient


def patient_to_fhir(person: Any) -> JSON:
    """A Person of the index as a UK Core Patient."""
    identifiers = []
    if person.nhs_number:
        identifiers.append(
            {
                "extension": [
                    {
                        "url": VERIFICATION_EXTENSION,
                        "valueCodeableConcept": {
                            "coding": [
                                {
                                    "system": VERIFICATION_SYSTEM,
                                    # The index holds the number the sources sent; it has
                                    # not been traced against the Personal Demographics Service.
                                    "code": "02",
                                    "display": "Number present but not traced",
                                }
                            ]
                        },
                    }
                ],
                "system": NHS_NUMBER,
                "value": person.nhs_number,
            }
        )
    name: JSON = _compact({"use": "official", "family": person.family_name})
    if person.given_name:
        name["given"] = person.given_name.split(" ")
    address = _compact(
        {
            "use": "home",
            "line": [person.address] if person.address else [],
            "postalCode": person.postcode,
        }
    )
    practice = person.registered_practice
    ethnic = getattr(person, "ethnic_category", "")
    return _compact(
        {
            "resourceType": "Patient",
            "id": str(person.id),
            "extension": [
                {
                    "url": ETHNIC_EXTENSION,
                    "valueCodeableConcept": {"coding": [{"system": ETHNIC_SYSTEM, "code": ethnic}]},
                }
            ]
            if ethnic
            else [],
            "identifier": identifiers,
            "name": [name],
            "gender": person.sex,
            "birthDate": when(person.date_of_birth),
            "deceasedDateTime": when(person.date_of_death),
            "address": [address] if len(address) > 1 else [],
            "generalPractitioner": [ods_reference(practice.ods_code, practice.name)]
            if practice is not None
            else [],
        }
    )


def organisation_to_fhir(organisation: Any) -> JSON:
    return {
        "resourceType": "Organization",
        "id": organisation.ods_code,
        "identifier": [{"system": ODS, "value": organisation.ods_code}],
        "active": True,
        "type": [{"text": organisation.get_kind_display()}],
        "name": organisation.name,
    }


# -- facts


def _subject(fact: Any) -> JSON:
    return {"reference": f"Patient/{fact.identity.person_id}"}


def _in(value: str, allowed: set[str], default: str) -> str:
    return value if value in allowed else default


_ENCOUNTER_CLASS = {
    "encounter": ("AMB", "ambulatory"),
    "admission": ("IMP", "inpatient encounter"),
    "community_contact": ("HH", "home health"),
}
_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_ENCOUNTER_STATUS = {
    "planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
    "entered-in-error", "unknown",
}  # fmt: skip


def encounter_to_fhir(fact: Any) -> JSON:
    code, display = _ENCOUNTER_CLASS[fact.kind]
    status = fact.status if fact.status in _ENCOUNTER_STATUS else None
    if status is None:
        status = "finished" if fact.ended_at or fact.kind != "admission" else "in-progress"
    return _compact(
        {
            "resourceType": "Encounter",
            "id": str(fact.pk),
            "status": status,
            "class": {"system": _ACT_CODE, "code": code, "display": display},
            "type": [concept(fact.code_system, fact.code, fact.display)]
            if fact.code or fact.display
            else [],
            "subject": _subject(fact),
            "period": _compact({"start": when(fact.occurred_at), "end": when(fact.ended_at)}),
            "serviceProvider": ods_reference(fact.organisation) if fact.organisation else None,
        }
    )


_CLINICAL = {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}


def condition_to_fhir(fact: Any) -> JSON:
    status = fact.status if fact.status in _CLINICAL else None
    clinical = (
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": status,
                }
            ]
        }
        if status
        else None
    )
    return _compact(
        {
            "resourceType": "Condition",
            "id": str(fact.pk),
            "clinicalStatus": clinical,
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "problem-list-item",
                        }
                    ]
                }
            ],
            "code": concept(fact.code_system, fact.code, fact.display),
            "subject": _subject(fact),
            "onsetDateTime": when(fact.occurred_at),
            "abatementDateTime": when(fact.ended_at),
        }
    )


_OBSERVATION_STATUS = {
    "registered", "preliminary", "final", "amended", "corrected", "cancelled",
    "entered-in-error", "unknown",
}  # fmt: skip
_COMPONENTS = (("systolic", "271649006", "Systolic blood pressure"),
               ("diastolic", "271650006", "Diastolic blood pressure"))  # fmt: skip


UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
OBSERVATION_CATEGORIES = frozenset(
    {"social-history", "vital-signs", "imaging", "laboratory", "procedure", "survey", "exam",
     "therapy", "activity"}
)  # fmt: skip


def _quantity(value: float, unit: str, ucum: str = "") -> JSON:
    """A quantity; with its UCUM code when the record keeps one (beside the unit as shown)."""
    system = UCUM if ucum else None
    return _compact({"value": value, "unit": unit, "system": system, "code": ucum})


def _observation_category(detail: Mapping[str, Any]) -> list[JSON]:
    code = str(detail.get("category") or "")
    if code not in OBSERVATION_CATEGORIES:
        return []
    coding = {"system": OBSERVATION_CATEGORY, "code": code}
    display = str(detail.get("category_display") or "")
    return [{"coding": [{**coding, "display": display} if display else coding]}]


def observation_to_fhir(fact: Any) -> JSON:
    detail: Mapping[str, Any] = fact.detail or {}
    components = [
        {
            "code": concept(SNOMED, code, display),
            "valueQuantity": _quantity(float(detail[key]), "mm[Hg]"),
        }
        for key, code, display in _COMPONENTS
        if isinstance(detail.get(key), int | float)
    ]
    return _compact(
        {
            "resourceType": "Observation",
            "id": str(fact.pk),
            "status": _in(fact.status, _OBSERVATION_STATUS, "unknown"),
            "category": _observation_category(detail),
            "code": concept(fact.code_system, fact.code, fact.display),
            "subject": _subject(fact),
            "effectiveDateTime": when(fact.occurred_at),
            "valueQuantity": _quantity(fact.value, fact.unit, str(detail.get("unit_code") or ""))
            if fact.value is not None
            else None,
            "valueString": fact.value_text if fact.value is None else None,
            "component": components,
        }
    )


_MEDICATION_STATUS = {
    "active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown",
    "not-taken",
}  # fmt: skip


def medication_to_fhir(fact: Any) -> JSON:
    return _compact(
        {
            "resourceType": "MedicationStatement",
            "id": str(fact.pk),
            "basedOn": [{"reference": f"MedicationRequest/{fact.pk}"}],
            "status": _in(fact.status, _MEDICATION_STATUS, "unknown"),
            "medicationCodeableConcept": concept(fact.code_system, fact.code, fact.display),
            "subject": _subject(fact),
            "effectivePeriod": _compact(
                {"start": when(fact.occurred_at), "end": when(fact.ended_at)}
            ),
        }
    )


# A MedicationStatement's status as the MedicationRequest (authorisation) status.
REQUEST_STATUS = {
    "active": "active",
    "completed": "completed",
    "stopped": "stopped",
    "on-hold": "on-hold",
    "entered-in-error": "entered-in-error",
    "intended": "draft",
    "not-taken": "cancelled",
}


def request_status_codes(code: str) -> list[str] | None:
    """The stored statuses a MedicationRequest status search means (None: no such status)."""
    stored = [k for k, v in REQUEST_STATUS.items() if v == code]
    if code == "unknown":
        stored = ["unknown", ""]
    return stored or None


def prescriber(fact: Any) -> str:
    """The ODS code of who prescribed: the fact's organisation, else the GP identity's
    registered practice (a GP record's medicines are its practice's)."""
    identity = getattr(fact, "identity", None)
    return str(fact.organisation or getattr(identity, "practice_code", "") or "")


def medication_request_to_fhir(fact: Any) -> JSON:
    """The authorisation behind a GP medication (GP Connect: intent "plan")."""
    practice = prescriber(fact)
    return _compact(
        {
            "resourceType": "MedicationRequest",
            "id": str(fact.pk),
            "status": REQUEST_STATUS.get(fact.status, "unknown"),
            "intent": "plan",
            "medicationCodeableConcept": concept(fact.code_system, fact.code, fact.display),
            "subject": _subject(fact),
            "authoredOn": when(fact.occurred_at),
            "requester": ods_reference(practice) if practice and " " not in practice else None,
            "dispenseRequest": {
                "validityPeriod": _compact(
                    {"start": when(fact.occurred_at), "end": when(fact.ended_at)}
                )
            }
            if fact.occurred_at
            else None,
        }
    )


_ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
_ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
ALLERGY_CATEGORIES = frozenset({"food", "medication", "environment", "biologic"})
ALLERGY_CRITICALITIES = frozenset({"low", "high", "unable-to-assess"})
ALLERGY_VERIFICATIONS = frozenset({"unconfirmed", "confirmed", "refuted", "entered-in-error"})


def _coded(system: str, code: str) -> JSON:
    return {"coding": [{"system": system, "code": code}]}


def allergy_to_fhir(fact: Any) -> JSON:
    """A recorded allergy. FHIR forbids a clinical status on a refuted or entered-in-error
    record, so one is given only where the verification allows it."""
    detail: Mapping[str, Any] = fact.detail or {}
    verification = str(detail.get("verification") or "")
    verification = verification if verification in ALLERGY_VERIFICATIONS else ""
    clinical = fact.status if fact.status in {"active", "inactive", "resolved"} else ""
    if verification in {"refuted", "entered-in-error"}:
        clinical = ""
    elif not clinical:
        clinical = "inactive" if fact.ended_at else "active"
    category = str(detail.get("category") or "")
    criticality = str(detail.get("criticality") or "")
    reaction = str(detail.get("reaction") or "")
    return _compact(
        {
            "resourceType": "AllergyIntolerance",
            "id": str(fact.pk),
            "clinicalStatus": _coded(_ALLERGY_CLINICAL, clinical) if clinical else None,
            "verificationStatus": _coded(_ALLERGY_VERIFICATION, verification)
            if verification
            else None,
            "type": "allergy",
            "category": [category] if category in ALLERGY_CATEGORIES else [],
            "criticality": criticality if criticality in ALLERGY_CRITICALITIES else None,
            "code": concept(fact.code_system, fact.code, fact.display),
            "patient": _subject(fact),
            "recordedDate": when(fact.occurred_at),
            "reaction": [
                {
                    "manifestation": [
                        concept(fact.code_system, str(detail.get("reaction_code") or ""), reaction)
                    ]
                }
            ]
            if reaction
            else [],
        }
    )


_REPORT_STATUS = {
    "registered", "partial", "preliminary", "final", "amended", "corrected", "appended",
    "cancelled", "entered-in-error", "unknown",
}  # fmt: skip
DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"


def report_result_ids(fact: Any) -> list[str]:
    """The source's record ids of a lab report's results, in order."""
    detail: Mapping[str, Any] = fact.detail or {}
    return [str(detail[key]) for key in REPORT_RESULT_KEYS if detail.get(key)]


def diagnostic_report_to_fhir(fact: Any, results: Mapping[str, int] | None = None) -> JSON:
    """A lab report. ``results`` maps the source's observation record ids to the served
    Observation ids; a result not received (quarantined, say) is named, not linked."""
    detail: Mapping[str, Any] = fact.detail or {}
    found = results or {}
    category = str(detail.get("category") or "")
    references: list[JSON] = [
        {"reference": f"Observation/{found[record]}"}
        if record in found
        else {
            "identifier": {"system": f"urn:joinedup:{fact.source}:record", "value": record},
            "display": "A result this record has not received",
        }
        for record in report_result_ids(fact)
    ]
    issued = detail.get("issued")
    return _compact(
        {
            "resourceType": "DiagnosticReport",
            "id": str(fact.pk),
            "status": _in(fact.status, _REPORT_STATUS, "unknown"),
            "category": [
                {"coding": [{"system": DIAGNOSTIC_SERVICE, "code": category}]}
                if category
                else {"text": fact.get_kind_display()}
            ],
            "code": concept(fact.code_system, fact.code, fact.display),
            "subject": _subject(fact),
            "effectiveDateTime": when(fact.occurred_at),
            "issued": str(issued) if issued else None,
            "performer": [ods_reference(fact.organisation)]
            if fact.organisation and " " not in fact.organisation
            else [],
            "result": references,
        }
    )


def immunisation_to_fhir(fact: Any) -> JSON:
    detail: Mapping[str, Any] = fact.detail or {}
    product = str(detail.get("product") or "")
    return _compact(
        {
            "resourceType": "Immunization",
            "id": str(fact.pk),
            "extension": [
                {
                    "url": VACCINATION_PROCEDURE,
                    "valueCodeableConcept": concept(fact.code_system, fact.code, fact.display),
                }
            ]
            if fact.code
            else [],
            "status": _in(fact.status, {"completed", "entered-in-error", "not-done"}, "completed"),
            "vaccineCode": {"text": product or fact.display or "Not recorded"},
            "patient": _subject(fact),
            "occurrenceDateTime": when(fact.occurred_at),
            "performer": [{"actor": ods_reference(fact.organisation)}] if fact.organisation else [],
        }
    )


def episode_to_fhir(fact: Any) -> JSON:
    return _compact(
        {
            "resourceType": "EpisodeOfCare",
            "id": str(fact.pk),
            "status": "finished" if fact.ended_at else "active",
            "type": [{"text": fact.get_kind_display()}]
            + ([{"text": fact.display}] if fact.display else []),
            "patient": _subject(fact),
            "managingOrganization": ods_reference(fact.organisation)
            if fact.organisation and " " not in fact.organisation
            else None,
            "period": _compact({"start": when(fact.occurred_at), "end": when(fact.ended_at)}),
        }
    )


def assessment_to_fhir(fact: Any) -> JSON:
    return _compact(
        {
            "resourceType": "Procedure",
            "id": str(fact.pk),
            "status": "completed",
            "category": {"text": fact.get_kind_display()},
            "code": concept(fact.code_system, fact.code, fact.display),
            "subject": _subject(fact),
            "performedDateTime": when(fact.occurred_at),
            "outcome": {"text": fact.status} if fact.status else None,
        }
    )


FACT_MAPPINGS: dict[str, Callable[[Any], JSON]] = {
    "Encounter": encounter_to_fhir,
    "Condition": condition_to_fhir,
    "Observation": observation_to_fhir,
    "MedicationStatement": medication_to_fhir,
    "Immunization": immunisation_to_fhir,
    "EpisodeOfCare": episode_to_fhir,
    "Procedure": assessment_to_fhir,
    "AllergyIntolerance": allergy_to_fhir,
    "DiagnosticReport": diagnostic_report_to_fhir,
    "MedicationRequest": medication_request_to_fhir,
}


def fact_to_fhir(fact: Any) -> JSON:
    return FACT_MAPPINGS[TYPE_OF_KIND[fact.kind]](fact)


def flag_to_fhir(fact: Any) -> JSON:
    """A safeguarding record as a Flag: staff must see it before anything else."""
    return _compact(
        {
            "resourceType": "Flag",
            "id": str(fact.pk),
            "status": "inactive" if fact.ended_at else "active",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/flag-category",
                            "code": "safety",
                            "display": "Safety",
                        }
                    ]
                }
            ],
            "code": {"text": fact.display},
            "subject": _subject(fact),
            "period": _compact({"start": when(fact.occurred_at), "end": when(fact.ended_at)}),
        }
    )


def provenance_to_fhir(fact: Any, *, source_label: str) -> JSON:
    """Where a fact came from: the source system, its delivery, and when it arrived."""
    who: JSON = {"display": source_label}
    if fact.organisation and " " not in fact.organisation:
        who = {**ods_reference(fact.organisation), "display": source_label}
    return {
        "resourceType": "Provenance",
        "id": str(fact.pk),
        "target": [{"reference": f"{TYPE_OF_KIND[fact.kind]}/{fact.pk}"}],
        "recorded": when(fact.received_at),
        "agent": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                            "code": "author",
                        }
                    ]
                },
                "who": who,
            }
        ],
        "entity": [
            {
                "role": "source",
                "what": {
                    "identifier": {
                        "system": "urn:joinedup:delivery",
                        "value": str(fact.delivery_id),
                    },
                    "display": f"{source_label}: delivery {fact.delivery_id}, "
                    f"record {fact.record_id}",
                },
            }
        ],
    }


# -- the audit trail

_AUDIT_ACTION = {"read": "R", "search": "E", "create": "C", "update": "U", "delete": "D",
                 "export": "R"}  # fmt: skip
_DCM = "http://dicom.nema.org/resources/ontology/DCM"


def audit_action_code(action: str) -> str:
    return _AUDIT_ACTION.get(action, "E")


def audit_to_fhir(event: Any) -> JSON:
    if event.person_id is not None:
        event_type = {"system": _DCM, "code": "110110", "display": "Patient Record"}
    elif event.action in {"sign_in", "sign_in_failed", "sign_out"}:
        event_type = {"system": _DCM, "code": "110114", "display": "User Authentication"}
    else:
        event_type = {"system": _DCM, "code": "110100", "display": "Application Activity"}
    agent: JSON = {
        "who": _compact(
            {
                "identifier": {"system": "urn:joinedup:user", "value": event.actor_username},
                "display": event.actor_username,
            }
        ),
        "requestor": True,
    }
    if event.actor_role:
        agent["role"] = [{"text": event.actor_role}]
    entity = (
        [{"what": {"reference": f"Patient/{event.person_id}"}, "name": event.resource}]
        if event.person_id is not None
        else [{"name": event.resource}]
    )
    return _compact(
        {
            "resourceType": "AuditEvent",
            "id": str(event.pk),
            "type": event_type,
            "subtype": [{"system": "urn:joinedup:audit-action", "code": event.action}],
            "action": audit_action_code(event.action),
            "recorded": when(event.occurred_at),
            "outcome": "0" if event.outcome == "allowed" else "4",
            "outcomeDesc": event.reason,
            "agent": [agent],
            "source": {
                "site": event.channel,
                "observer": {"display": "joinedup"},
            },
            "entity": entity,
        }
    )


def ethnic_category_of(patient: JSON) -> str | None:
    """The NHS ethnic category a Patient states, if any (None: the extension is absent)."""
    for extension in patient.get("extension") or []:
        if extension.get("url") == ETHNIC_EXTENSION:
            for coding in (extension.get("valueCodeableConcept") or {}).get("coding") or []:
                if coding.get("system") == ETHNIC_SYSTEM:
                    return str(coding.get("code") or "")
    return None


# -- back from FHIR: the record fact a written resource becomes
#
# A written resource is kept as one fact. Each ``<type>_fields`` reads the fact's columns
# from a (validated) resource; ``fact_fields`` then renders that fact with the same
# ``<type>_to_fhir`` the reads use and refuses the write, naming the element, if anything
# the client sent would not come back as sent. So a write is accepted only when the record
# can hold all of it: the mapping is two-way without loss by construction, not by a list
# of elements kept in step with the read side by hand.

# The fact-backed types a client may create and update.
WRITABLE_TYPES = (
    "AllergyIntolerance",
    "Condition",
    "DiagnosticReport",
    "Encounter",
    "EpisodeOfCare",
    "Flag",
    "Immunization",
    "MedicationRequest",
    "MedicationStatement",
    "Observation",
    "Procedure",
)
# Column lengths of record.Fact, for refusals that name the element rather than the column.
_LIMITS = {
    "system": 100, "code": 40, "display": 300, "text": 200, "unit": 40, "ods": 20, "status": 40,
}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class FactFields(FactValues):
    """What one fact keeps of a written resource (``record.Fact``'s columns; an organisation
    only when the resource names one), and the Patient it is about."""

    subject: str  # the Patient's logical id


def _text(value: Any, limit: str, where: str) -> str:
    text = "" if value is None else str(value)
    if len(text) > _LIMITS[limit]:
        raise Unprocessable(
            f"the record keeps at most {_LIMITS[limit]} characters here", where=where
        )
    return text


def _concept_of(value: Any, where: str) -> tuple[str, str, str]:
    """(system, code, display) of a CodeableConcept: its first coding, and the coding's
    display or else the text (a second coding, or a text unlike the display, is refused
    when the result is compared)."""
    if not isinstance(value, dict):
        return "", "", ""
    codings = value.get("coding") or []
    coding = codings[0] if codings else {}
    display = coding.get("display") or value.get("text") or ""
    return (
        _text(coding.get("system"), "system", f"{where}.coding[0].system"),
        _text(coding.get("code"), "code", f"{where}.coding[0].code"),
        _text(display, "display", f"{where}.coding[0].display" if codings else f"{where}.text"),
    )


def _first_code(value: Any) -> str:
    """The code of a CodeableConcept's first coding (e.g. a status), or ""."""
    codings = (value or {}).get("coding") or [] if isinstance(value, dict) else []
    return str(codings[0].get("code") or "") if codings else ""


def patient_id_of(reference: Any, where: str) -> str:
    """The logical id of the Patient a reference points at (``Patient/<id>``, relative or
    absolute)."""
    text = (reference or {}).get("reference") if isinstance(reference, dict) else None
    parts = str(text or "").rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] != "Patient" or not parts[-1]:
        raise Unprocessable(
            "name the Patient this record is about, as a reference Patient/<id>", where=where
        )
    return parts[-1]


def ods_code_of(reference: Any, where: str) -> str:
    """The ODS code of an Organization reference (``Organization/<code>`` or the ODS
    identifier), or "" when there is none."""
    if not isinstance(reference, dict):
        return ""
    identifier = reference.get("identifier") or {}
    code = identifier.get("value") if identifier.get("system") == ODS else None
    text = str(reference.get("reference") or "")
    if not code and text:
        parts = text.rstrip("/").split("/")
        if len(parts) < 2 or parts[-2] != "Organization":
            raise Unprocessable("name the organisation as Organization/<ODS code>", where=where)
        code = parts[-1]
    code = str(code or "")
    if " " in code:
        raise Unprocessable("an ODS code has no spaces", where=where)
    return _text(code, "ods", where)


def condition_fields(body: JSON) -> FactFields:
    system, code, display = _concept_of(body.get("code"), "Condition.code")
    return FactFields(
        kind="condition",
        subject=patient_id_of(body.get("subject"), "Condition.subject"),
        occurred_at=moment_of(body.get("onsetDateTime"), "Condition.onsetDateTime"),
        ended_at=moment_of(body.get("abatementDateTime"), "Condition.abatementDateTime"),
        code_system=system,
        code=code,
        display=display,
        status=_first_code(body.get("clinicalStatus")),
    )


_COMPONENT_KEYS = {code: key for key, code, _ in _COMPONENTS}


def observation_fields(body: JSON) -> FactFields:
    system, code, display = _concept_of(body.get("code"), "Observation.code")
    quantity = body.get("valueQuantity") or {}
    value = quantity.get("value")
    detail: dict[str, Any] = {}
    for index, component in enumerate(body.get("component") or []):
        key = _COMPONENT_KEYS.get(_first_code(component.get("code")))
        number = (component.get("valueQuantity") or {}).get("value")
        if key is None or number is None:
            raise Unprocessable(
                "the record keeps blood pressure components only: systolic (271649006) "
                "and diastolic (271650006) with a valueQuantity in mm[Hg]",
                where=f"Observation.component[{index}]",
            )
        detail[key] = float(number)
    detail.update(_observation_category_of(body.get("category")))
    ucum = quantity.get("code") if quantity.get("system") == UCUM else None
    if ucum:
        detail["unit_code"] = _text(ucum, "unit", "Observation.valueQuantity.code")
    return FactFields(
        kind="observation",
        subject=patient_id_of(body.get("subject"), "Observation.subject"),
        occurred_at=moment_of(body.get("effectiveDateTime"), "Observation.effectiveDateTime"),
        code_system=system,
        code=code,
        display=display,
        value=float(value) if value is not None else None,
        value_text=_text(body.get("valueString"), "text", "Observation.valueString"),
        unit=_text(quantity.get("unit"), "unit", "Observation.valueQuantity.unit"),
        status=str(body.get("status") or ""),
        detail=detail,
    )


def _observation_category_of(categories: Any) -> dict[str, str]:
    """One category from HL7's observation categories, kept in the detail (anything else
    sent is refused when the result is compared)."""
    if not isinstance(categories, list) or not categories:
        return {}
    codings = categories[0].get("coding") if isinstance(categories[0], dict) else None
    coding = codings[0] if isinstance(codings, list) and codings else {}
    coding = coding if isinstance(coding, dict) else {}
    code = coding.get("code")
    if coding.get("system") != OBSERVATION_CATEGORY or code not in OBSERVATION_CATEGORIES:
        raise Unprocessable(
            f"the record keeps one category, coded in {OBSERVATION_CATEGORY} ("
            + ", ".join(sorted(OBSERVATION_CATEGORIES))
            + ")",
            where="Observation.category[0]",
        )
    kept = {"category": str(code)}
    if coding.get("display"):
        kept["category_display"] = _text(
            coding["display"], "display", "Observation.category[0].coding[0].display"
        )
    return kept


def allergy_fields(body: JSON) -> FactFields:
    system, code, display = _concept_of(body.get("code"), "AllergyIntolerance.code")
    detail: dict[str, Any] = {}
    verification = _first_code(body.get("verificationStatus"))
    if verification:
        detail["verification"] = verification
    categories = body.get("category") or []
    if categories:
        detail["category"] = str(categories[0])
    if body.get("criticality"):
        detail["criticality"] = str(body["criticality"])
    reactions = body.get("reaction") or []
    if reactions:
        where = "AllergyIntolerance.reaction[0].manifestation[0]"
        manifestations = reactions[0].get("manifestation") or [{}]
        _, reaction_code, reaction = _concept_of(manifestations[0], where)
        if not reaction:
            raise Unprocessable("give the reaction's display or text", where=where)
        detail["reaction"] = reaction
        if reaction_code:
            detail["reaction_code"] = reaction_code
    return FactFields(
        kind="allergy",
        subject=patient_id_of(body.get("patient"), "AllergyIntolerance.patient"),
        occurred_at=moment_of(body.get("recordedDate"), "AllergyIntolerance.recordedDate"),
        code_system=system,
        code=code,
        display=display,
        status=_first_code(body.get("clinicalStatus")),
        detail=detail,
    )


def immunisation_fields(body: JSON) -> FactFields:
    system = code = display = ""
    for index, extension in enumerate(body.get("extension") or []):
        if extension.get("url") == VACCINATION_PROCEDURE:
            where = f"Immunization.extension[{index}].valueCodeableConcept"
            system, code, display = _concept_of(extension.get("valueCodeableConcept"), where)
    product = _text(
        (body.get("vaccineCode") or {}).get("text"), "display", "Immunization.vaccineCode.text"
    )
    performers = body.get("performer") or []
    actor = performers[0].get("actor") if performers else None
    return FactFields(
        kind="immunisation",
        subject=patient_id_of(body.get("patient"), "Immunization.patient"),
        occurred_at=moment_of(body.get("occurrenceDateTime"), "Immunization.occurrenceDateTime"),
        code_system=system,
        code=code,
        display=display or product,
        status=str(body.get("status") or ""),
        organisation=ods_code_of(actor, "Immunization.performer[0].actor"),
        detail={"product": product} if product else {},
    )


def medication_fields(body: JSON) -> FactFields:
    where = "MedicationStatement.medicationCodeableConcept"
    system, code, display = _concept_of(body.get("medicationCodeableConcept"), where)
    period = body.get("effectivePeriod") or {}
    return FactFields(
        kind="medication",
        subject=patient_id_of(body.get("subject"), "MedicationStatement.subject"),
        occurred_at=moment_of(period.get("start"), "MedicationStatement.effectivePeriod.start"),
        ended_at=moment_of(period.get("end"), "MedicationStatement.effectivePeriod.end"),
        code_system=system,
        code=code,
        display=display,
        status=str(body.get("status") or ""),
    )


_KIND_OF_CLASS = {code: kind for kind, (code, _) in _ENCOUNTER_CLASS.items()}


def encounter_fields(body: JSON) -> FactFields:
    kind = _KIND_OF_CLASS.get(str((body.get("class") or {}).get("code") or ""))
    if kind is None:
        raise Unprocessable(
            "the record keeps ambulatory (AMB), inpatient (IMP) and home health (HH) "
            f"encounters, class system {_ACT_CODE}",
            where="Encounter.class",
        )
    types = body.get("type") or []
    system, code, display = _concept_of(types[0] if types else None, "Encounter.type[0]")
    period = body.get("period") or {}
    return FactFields(
        kind=kind,
        subject=patient_id_of(body.get("subject"), "Encounter.subject"),
        occurred_at=moment_of(period.get("start"), "Encounter.period.start"),
        ended_at=moment_of(period.get("end"), "Encounter.period.end"),
        code_system=system,
        code=code,
        display=display,
        status=str(body.get("status") or ""),
        organisation=ods_code_of(body.get("serviceProvider"), "Encounter.serviceProvider"),
    )


def _label_of(kind: str) -> str:
    return str(FactKind(kind).label)


def assessment_fields(body: JSON) -> FactFields:
    """A social care assessment: the record keeps no other kind of procedure, so the
    client says so (``category.text``) rather than have a surgical procedure filed as one."""
    label = _label_of("assessment")
    category = body.get("category")
    if not isinstance(category, dict) or category.get("text") != label:
        raise Unprocessable(
            f"the record keeps procedures that are social care assessments: give category "
            f'{{"text": "{label}"}}',
            where="Procedure.category",
        )
    system, code, display = _concept_of(body.get("code"), "Procedure.code")
    outcome = body.get("outcome")
    return FactFields(
        kind="assessment",
        subject=patient_id_of(body.get("subject"), "Procedure.subject"),
        occurred_at=moment_of(body.get("performedDateTime"), "Procedure.performedDateTime"),
        code_system=system,
        code=code,
        display=display,
        status=_text(
            outcome.get("text") if isinstance(outcome, dict) else None,
            "status",
            "Procedure.outcome.text",
        ),
    )


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) < 18


def _result_ids(body: JSON) -> dict[str, Any]:
    """A report's results as detail keys holding the Observations' logical ids (turned
    into the observations' record ids, as a feed's report keeps them, by the write)."""
    results = body.get("result") or []
    if len(results) > len(REPORT_RESULT_KEYS):
        raise Unprocessable(
            f"the record keeps at most {len(REPORT_RESULT_KEYS)} results of a report",
            where=f"DiagnosticReport.result[{len(REPORT_RESULT_KEYS)}]",
        )
    detail: dict[str, Any] = {}
    for index, (key, result) in enumerate(zip(REPORT_RESULT_KEYS, results, strict=False)):
        text = str(result.get("reference") or "") if isinstance(result, dict) else ""
        parts = text.rstrip("/").split("/")
        if len(parts) < 2 or parts[-2] != "Observation" or not _is_number(parts[-1]):
            raise Unprocessable(
                "a result is a reference Observation/<id> to an Observation this server holds",
                where=f"DiagnosticReport.result[{index}]",
            )
        detail[key] = parts[-1]
    return detail


def diagnostic_report_fields(body: JSON) -> FactFields:
    system, code, display = _concept_of(body.get("code"), "DiagnosticReport.code")
    detail = _result_ids(body)
    categories = body.get("category") or []
    category = _first_code(categories[0]) if categories else ""
    if category:
        detail["category"] = _text(category, "code", "DiagnosticReport.category[0]")
    issued = moment_of(body.get("issued"), "DiagnosticReport.issued")
    if issued is not None:
        detail["issued"] = when(issued)
    performers = body.get("performer") or []
    return FactFields(
        kind="diagnostic_report",
        subject=patient_id_of(body.get("subject"), "DiagnosticReport.subject"),
        occurred_at=moment_of(body.get("effectiveDateTime"), "DiagnosticReport.effectiveDateTime"),
        code_system=system,
        code=code,
        display=display,
        status=str(body.get("status") or ""),
        organisation=ods_code_of(
            performers[0] if performers else None, "DiagnosticReport.performer[0]"
        ),
        detail=detail,
    )


_EPISODE_KINDS = {_label_of(kind): kind for kind in FACT_TYPES["EpisodeOfCare"]}


def episode_fields(body: JSON) -> FactFields:
    """An episode: its first type names the kind of record (as reads show it), the second
    what the episode was (the service, the setting)."""
    types = [t if isinstance(t, dict) else {} for t in body.get("type") or []]
    kind = _EPISODE_KINDS.get(str(types[0].get("text") or "")) if types else None
    if kind is None:
        raise Unprocessable(
            "the record keeps episodes whose first type is one of "
            + ", ".join(f'{{"text": "{label}"}}' for label in _EPISODE_KINDS),
            where="EpisodeOfCare.type[0]",
        )
    period = body.get("period") or {}
    ended = moment_of(period.get("end"), "EpisodeOfCare.period.end")
    if body.get("status") != ("finished" if ended else "active"):
        raise Unprocessable(
            "the record keeps an episode as active, or as finished when its period has an end",
            where="EpisodeOfCare.status",
        )
    second = types[1].get("text") if len(types) > 1 else ""
    return FactFields(
        kind=kind,
        subject=patient_id_of(body.get("patient"), "EpisodeOfCare.patient"),
        occurred_at=moment_of(period.get("start"), "EpisodeOfCare.period.start"),
        ended_at=ended,
        display=_text(second, "display", "EpisodeOfCare.type[1].text"),
        organisation=ods_code_of(
            body.get("managingOrganization"), "EpisodeOfCare.managingOrganization"
        ),
    )


# A MedicationRequest's status as the medication fact keeps it (REQUEST_STATUS reversed).
_STATUS_OF_REQUEST = {request: stored for stored, request in REQUEST_STATUS.items()}
_STATUS_OF_REQUEST["unknown"] = "unknown"


def medication_request_fields(body: JSON) -> FactFields:
    """An authorisation (intent plan) is kept as the medication fact it authorises, the
    same fact its MedicationStatement view shows (ADR 18); the record has no issues."""
    if body.get("intent") != "plan":
        raise Unprocessable(
            "the record keeps a medicine's authorisation (intent plan), not orders or issues",
            where="MedicationRequest.intent",
        )
    where = "MedicationRequest.medicationCodeableConcept"
    system, code, display = _concept_of(body.get("medicationCodeableConcept"), where)
    dispense = body.get("dispenseRequest") or {}
    period = (dispense.get("validityPeriod") or {}) if isinstance(dispense, dict) else {}
    start = body.get("authoredOn") or period.get("start")
    return FactFields(
        kind="medication",
        subject=patient_id_of(body.get("subject"), "MedicationRequest.subject"),
        occurred_at=moment_of(start, "MedicationRequest.authoredOn"),
        ended_at=moment_of(
            period.get("end"), "MedicationRequest.dispenseRequest.validityPeriod.end"
        ),
        code_system=system,
        code=code,
        display=display,
        status=_STATUS_OF_REQUEST.get(str(body.get("status") or ""), ""),
        organisation=ods_code_of(body.get("requester"), "MedicationRequest.requester"),
    )


def flag_fields(body: JSON) -> FactFields:
    """A safeguarding flag: a children's social care outcome, current until its end."""
    code = body.get("code")
    title = str(code.get("text") or "") if isinstance(code, dict) else ""
    kind = FLAG_TITLES.get(title)
    if kind is None:
        hint = (
            "a safeguarding enquiry is a social care assessment: write it as a Procedure"
            if title == "Safeguarding enquiry"
            else "the record keeps flags whose code.text is "
            + " or ".join(f'"{name}"' for name in FLAG_TITLES)
        )
        raise Unprocessable(hint, where="Flag.code.text")
    period = body.get("period") or {}
    ended = moment_of(period.get("end"), "Flag.period.end")
    if body.get("status") != ("inactive" if ended else "active"):
        raise Unprocessable(
            "the record keeps a flag as active, or as inactive when its period has an end",
            where="Flag.status",
        )
    return FactFields(
        kind=kind,
        subject=patient_id_of(body.get("subject"), "Flag.subject"),
        occurred_at=moment_of(period.get("start"), "Flag.period.start"),
        ended_at=ended,
        display=title,
    )


FACT_READERS: dict[str, Callable[[JSON], FactFields]] = {
    "AllergyIntolerance": allergy_fields,
    "Condition": condition_fields,
    "DiagnosticReport": diagnostic_report_fields,
    "Encounter": encounter_fields,
    "EpisodeOfCare": episode_fields,
    "Flag": flag_fields,
    "Immunization": immunisation_fields,
    "MedicationRequest": medication_request_fields,
    "MedicationStatement": medication_fields,
    "Observation": observation_fields,
    "Procedure": assessment_fields,
}
SUBJECT_ELEMENT = {
    "Task": "for",
    "Consent": "patient",
    "AllergyIntolerance": "patient",
    "EpisodeOfCare": "patient",
    "Immunization": "patient",
}
# The types whose resource shows the fact's organisation (and the element that does):
# the others leave it as it was on an update (the writer's own, or what another view set).
ORGANISATION_ELEMENT = {
    "DiagnosticReport": "DiagnosticReport.performer[0]",
    "Encounter": "Encounter.serviceProvider",
    "EpisodeOfCare": "EpisodeOfCare.managingOrganization",
    "Immunization": "Immunization.performer[0].actor",
    "MedicationRequest": "MedicationRequest.requester",
}


def as_fact(fields: FactFields, *, logical_id: str | None, organisation: str) -> Any:
    """An unsaved stand-in for the fact ``fields`` would make, for the read mappings."""
    return SimpleNamespace(
        pk=logical_id,
        kind=fields.kind,
        get_kind_display=lambda: _label_of(fields.kind),
        identity=SimpleNamespace(person_id=fields.subject, practice_code=""),
        source="fhir-api",
        occurred_at=fields.occurred_at,
        ended_at=fields.ended_at,
        code_system=fields.code_system,
        code=fields.code,
        display=fields.display,
        value=fields.value,
        value_text=fields.value_text,
        unit=fields.unit,
        status=fields.status,
        organisation=fields.organisation or organisation,
        detail=dict(fields.detail),
    )


def fact_fields(
    resource_type: str, body: JSON, *, logical_id: str | None = None, organisation: str = ""
) -> FactFields:
    """The fact a written resource becomes; Unprocessable, naming the element, when the
    record could not give back everything that was sent. ``organisation`` is the writer's
    ODS code (the fact's organisation when the resource names none)."""
    reader = FACT_READERS.get(resource_type)
    if reader is None:
        raise Unprocessable(
            f"{resource_type} cannot be written here: the record keeps writes of "
            f"{', '.join(WRITABLE_TYPES)}",
            where=resource_type,
        )
    refuse_labels(resource_type, body)
    fields = reader(body)
    kept = _rendered(
        resource_type, as_fact(fields, logical_id=logical_id, organisation=organisation)
    )
    sent = dict(body)
    subject = SUBJECT_ELEMENT.get(resource_type, "subject")
    if isinstance(sent.get(subject), dict):  # an absolute reference is kept as a relative one
        sent[subject] = {**sent[subject], "reference": f"Patient/{fields.subject}"}
    require_lossless(resource_type, sent, kept)
    return fields


def _rendered(resource_type: str, fact: Any) -> JSON:
    """The resource an unsaved fact would read as. A report's results are still the
    Observations' logical ids here, so they render as the references that were sent."""
    if resource_type == "Flag":
        return flag_to_fhir(fact)
    if resource_type == "DiagnosticReport":
        ids = report_result_ids(fact)
        return diagnostic_report_to_fhir(fact, {i: int(i) for i in ids})
    return FACT_MAPPINGS[resource_type](fact)
