"""Pure mappings between the shared record's rows and FHIR R4 (UK Core) JSON.

Each ``<thing>_to_fhir`` takes one domain row (any object with the right attributes) and
returns the resource without ``meta`` (the provider adds version information). Nothing
here touches the database or knows about HTTP, so every mapping is unit-tested alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

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
}
TYPE_OF_KIND = {kind: rtype for rtype, kinds in FACT_TYPES.items() for kind in kinds}

# Safeguarding records that are shown as a Flag (the same titles as the record's summary).
SAFEGUARDING_TITLES = ("Child protection plan", "Child in need", "Safeguarding enquiry")


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


def _quantity(value: float, unit: str) -> JSON:
    return _compact({"value": value, "unit": unit})


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
            "code": concept(fact.code_system, fact.code, fact.display),
            "subject": _subject(fact),
            "effectiveDateTime": when(fact.occurred_at),
            "valueQuantity": _quantity(fact.value, fact.unit) if fact.value is not None else None,
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
            "status": _in(fact.status, _MEDICATION_STATUS, "unknown"),
            "medicationCodeableConcept": concept(fact.code_system, fact.code, fact.display),
            "subject": _subject(fact),
            "effectivePeriod": _compact(
                {"start": when(fact.occurred_at), "end": when(fact.ended_at)}
            ),
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


FACT_MAPPINGS = {
    "Encounter": encounter_to_fhir,
    "Condition": condition_to_fhir,
    "Observation": observation_to_fhir,
    "MedicationStatement": medication_to_fhir,
    "Immunization": immunisation_to_fhir,
    "EpisodeOfCare": episode_to_fhir,
    "Procedure": assessment_to_fhir,
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
