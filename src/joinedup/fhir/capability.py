"""The CapabilityStatement, built from the provider registry so it can only claim what a
provider really does: each type's interactions, search parameters and operations."""

from __future__ import annotations

from django.utils import timezone

from joinedup.fhir.providers import JSON, ModelProvider, registered

SERVER_STARTED = timezone.now().date().isoformat()  # when this server started
_SEARCH_RESULT_PARAMS = [
    ("_count", "number", "Page size (at most 1000)"),
    ("_sort", "string", "Sort by a parameter; - for descending"),
    ("_include", "special", "Type:parameter[:Target], or *"),
    ("_revinclude", "special", "Type:parameter[:Target], or *"),
    ("_summary", "token", "count, or false"),
    ("_total", "token", "none, estimate or accurate"),
]


def capability_statement(base: str) -> JSON:
    resources = []
    for name, provider in registered().items():
        interactions = sorted(provider.interactions)
        entry: JSON = {
            "type": name,
            "interaction": [{"code": code} for code in interactions],
            # An update may name the version it replaces (If-Match; 412 when stale).
            "versioning": "versioned-update" if "update" in provider.interactions else "no-version",
            "readHistory": "vread" in provider.interactions,
            "updateCreate": False,
            "conditionalCreate": "create" in provider.interactions,
            "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
            "searchParam": [
                {"name": p.name, "type": p.type, "documentation": p.description}
                for p in provider.search_params.values()
            ]
            + [
                {"name": n, "type": t, "documentation": d}
                for n, t, d in _SEARCH_RESULT_PARAMS
                if isinstance(provider, ModelProvider)
            ],
        }
        if provider.profile:
            entry["profile"] = provider.profile
        if provider.documentation:
            entry["documentation"] = provider.documentation
        if isinstance(provider, ModelProvider):
            entry["searchInclude"] = [
                f"{name}:{p.name}" for p in provider.search_params.values() if p.type == "reference"
            ]
        if name == "Patient":
            entry["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                },
                {
                    "name": "match",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-match",
                },
            ]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "id": "joinedup",
        "url": f"{base}/metadata",
        "name": "JoinedUpFhirServer",
        "title": "joinedup shared care record FHIR R4 API",
        "status": "active",
        "date": SERVER_STARTED,
        "publisher": "joinedup",
        "kind": "instance",
        "description": "A FHIR facade over the partnership's shared care record. The record is "
        "the source of truth; what each type supports is listed here and nothing more.",
        "implementation": {"description": "joinedup FHIR R4 API", "url": base},
        "software": {"name": "joinedup"},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "patchFormat": [],
        "implementationGuide": ["https://simplifier.net/guide/ukcoreversionhistory"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Unknown search parameters are refused unless the request "
                "says Prefer: handling=lenient.",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": "OAuth2 bearer tokens with SMART scopes (patient/, user/, "
                    "system/), issued to registered clients (client credentials at "
                    f"{base}/auth/token) and to users by an administrator.",
                },
                "resource": resources,
                "interaction": [{"code": "batch"}, {"code": "transaction"}],
            }
        ],
    }


def smart_configuration(base: str) -> JSON:
    return {
        "token_endpoint": f"{base}/auth/token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["system/*.read", "system/*.write", "user/*.read", "patient/*.read"],
        "capabilities": ["client-confidential-symmetric", "permission-v1", "permission-v2"],
    }
