"""The FHIR interactions, free of HTTP: each takes the caller's context and parsed input
and returns a ``Reply`` (status, body, headers). The views and the Bundle processor both
call these, so a transaction entry behaves exactly like the same request sent alone.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.utils import timezone

from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction
from joinedup.errors import InvalidInput, NotFound
from joinedup.fhir import search as fs
from joinedup.fhir.errors import PreconditionFailed
from joinedup.fhir.providers import (
    JSON,
    Context,
    ModelProvider,
    Provider,
    Resource,
    SearchPage,
    audit_reads,
    instant,
    provider_for,
    registered,
)
from joinedup.fhir.validation import validate


@dataclass
class Reply:
    status: int
    body: JSON | None
    headers: dict[str, str] = field(default_factory=dict)


def etag(version: int) -> str:
    return f'W/"{version}"'


def parse_etag(value: str, where: str = "If-Match") -> int:
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 9:
        raise InvalidInput('write the version as W/"3"', where=where)
    return int(text)


def version_headers(ctx: Context, resource: Resource, *, location: bool = False) -> dict[str, str]:
    headers = {
        "ETag": etag(resource.version),
        "Last-Modified": format_datetime(resource.last_updated.astimezone(UTC), usegmt=True),
    }
    if location:
        headers["Location"] = (
            f"{ctx.base}/{resource.resource_type}/{resource.logical_id}/_history/{resource.version}"
        )
    return headers


def read(ctx: Context, resource_type: str, logical_id: str) -> Reply:
    resource = provider_for(resource_type).read(ctx, logical_id)
    return Reply(200, resource.body, version_headers(ctx, resource))


def vread(ctx: Context, resource_type: str, logical_id: str, version: int) -> Reply:
    resource = provider_for(resource_type).vread(ctx, logical_id, version)
    return Reply(200, resource.body, version_headers(ctx, resource))


def history(ctx: Context, resource_type: str, logical_id: str) -> Reply:
    versions = provider_for(resource_type).history(ctx, logical_id)
    entries = []
    oldest = min(r.version for r in versions)
    for resource in versions:
        created = resource.version == oldest
        entries.append(
            {
                "fullUrl": f"{ctx.base}/{resource_type}/{logical_id}",
                "resource": resource.body,
                "request": {
                    "method": "POST" if created else "PUT",
                    "url": resource_type if created else f"{resource_type}/{logical_id}",
                },
                "response": {
                    "status": "201 Created" if created else "200 OK",
                    "etag": etag(resource.version),
                    "lastModified": instant(resource.last_updated),
                },
            }
        )
    bundle = _bundle("history", total=len(entries))
    bundle["link"] = [
        {"relation": "self", "url": f"{ctx.base}/{resource_type}/{logical_id}/_history"}
    ]
    bundle["entry"] = entries
    return Reply(200, bundle)


def create(ctx: Context, resource_type: str, body: Any, *, if_none_exist: str | None) -> Reply:
    provider = provider_for(resource_type)
    resource_body = validate(body, expected=resource_type)
    if if_none_exist:
        found = _conditional_matches(ctx, provider, if_none_exist)
        if len(found) > 1:
            raise PreconditionFailed(
                f"If-None-Exist matched {len(found)} resources: make the criteria narrower",
                where="If-None-Exist",
            )
        if found:
            return Reply(200, found[0].body, version_headers(ctx, found[0]))
    resource = provider.create(ctx, resource_body)
    return Reply(201, resource.body, version_headers(ctx, resource, location=True))


def _conditional_matches(ctx: Context, provider: Provider, query: str) -> list[Resource]:
    pairs = parse_qsl(query.removeprefix("?"), keep_blank_values=True)
    if not pairs:
        raise InvalidInput("If-None-Exist needs search criteria", where="If-None-Exist")
    request = _parse(provider, pairs, strict=True)
    request.count, request.total = 2, False
    return provider.search(ctx, request).resources


def update(
    ctx: Context, resource_type: str, logical_id: str, body: Any, *, if_match: str | None
) -> Reply:
    provider = provider_for(resource_type)
    resource_body = validate(body, expected=resource_type)
    version = parse_etag(if_match) if if_match else None
    resource = provider.update(ctx, logical_id, resource_body, version)
    return Reply(200, resource.body, version_headers(ctx, resource))


# -- search


def _parse(provider: Provider, pairs: list[tuple[str, str]], *, strict: bool) -> fs.SearchRequest:
    model = provider.model if isinstance(provider, ModelProvider) else None
    if model is None:
        raise InvalidInput(f"search of {provider.resource_type} is not supported")
    return fs.parse_search(pairs, provider.search_params, model=model, strict=strict)


def search(
    ctx: Context, resource_type: str, pairs: list[tuple[str, str]], *, strict: bool
) -> Reply:
    provider = provider_for(resource_type)
    request = _parse(provider, pairs, strict=strict)
    page = provider.search(ctx, request)
    included = _includes(ctx, provider, request, page)
    if isinstance(provider, ModelProvider) and provider.person_field is not None:
        audit_record(
            actor=ctx.user,
            action=AuditAction.SEARCH,
            resource=f"fhir.search.{resource_type}",
            reason=f"{len(page.resources)} returned, {len(included)} included",
        )
    audit_reads(ctx, [*page.resources, *included], label=f"fhir.search.{resource_type}")
    return Reply(200, searchset(ctx, resource_type, request, page, included))


def searchset(
    ctx: Context,
    resource_type: str,
    request: fs.SearchRequest,
    page: SearchPage,
    included: list[Resource],
) -> JSON:
    bundle = _bundle("searchset", total=page.total)
    here = f"{ctx.base}/{resource_type}"
    used = [(k, v) for k, v in request.used if k != "_cursor"]
    links = [{"relation": "self", "url": _url(here, request.used)}]
    if page.next_cursor is not None:
        links.append(
            {
                "relation": "next",
                "url": _url(here, [*used, ("_cursor", fs.encode_cursor(page.next_cursor))]),
            }
        )
    links.insert(1, {"relation": "first", "url": _url(here, used)})
    bundle["link"] = links
    entries: list[JSON] = [_entry(ctx, r, "match") for r in page.resources]
    entries += [_entry(ctx, r, "include") for r in included]
    if request.ignored:
        entries.append(
            {
                "resource": outcome(
                    "warning",
                    "not-supported",
                    f"ignored the unknown parameters {', '.join(request.ignored)}",
                ),
                "search": {"mode": "outcome"},
            }
        )
    if entries:
        bundle["entry"] = entries
    return bundle


def _url(here: str, pairs: list[tuple[str, str]]) -> str:
    return f"{here}?{urlencode(pairs)}" if pairs else here


def _entry(ctx: Context, resource: Resource, mode: str) -> JSON:
    return {
        "fullUrl": f"{ctx.base}/{resource.resource_type}/{resource.logical_id}",
        "resource": resource.body,
        "search": {"mode": mode},
    }


def _bundle(kind: str, *, total: int | None = None) -> JSON:
    bundle: JSON = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": instant(timezone.now())},
        "type": kind,
    }
    if total is not None:
        bundle["total"] = total
    return bundle


def outcome(severity: str, code: str, text: str, where: str | None = None) -> JSON:
    issue: JSON = {"severity": severity, "code": code, "diagnostics": text}
    if where:
        issue["expression"] = [where]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def _includes(
    ctx: Context, provider: Provider, request: fs.SearchRequest, page: SearchPage
) -> list[Resource]:
    found: dict[tuple[str, str], Resource] = {}
    matched = {(r.resource_type, r.logical_id) for r in page.resources}
    for include in request.includes:
        for target, ids in _forward(ctx, provider, include, page).items():
            for resource in provider_for(target).read_many(ctx, ids):
                found.setdefault((resource.resource_type, resource.logical_id), resource)
    ids = [r.logical_id for r in page.resources]
    for include in request.revincludes:
        if not ids:
            break
        for source, param in _reverse_params(provider.resource_type, include):
            source_provider = registered().get(source)
            if isinstance(source_provider, ModelProvider):
                for resource in source_provider.referring(ctx, param, ids):
                    found.setdefault((resource.resource_type, resource.logical_id), resource)
    return [r for key, r in found.items() if key not in matched]


def _forward(
    ctx: Context, provider: Provider, include: fs.Include, page: SearchPage
) -> dict[str, list[str]]:
    if include.source not in ("*", provider.resource_type):
        raise InvalidInput(f"_include must start with {provider.resource_type}", where="_include")
    params = provider.search_params
    if include.param == "*":
        names = [n for n, p in params.items() if p.type == "reference"]
    elif include.param in params and params[include.param].type == "reference":
        names = [include.param]
    else:
        raise InvalidInput(
            f"{include.param} is not a reference parameter of {provider.resource_type}",
            where="_include",
        )
    out: dict[str, list[str]] = defaultdict(list)
    for name in names:
        for target, logical_id in provider.referenced(ctx, page, name):
            if include.target in (None, target) and target in registered():
                out[target].append(logical_id)
    return out


def _reverse_params(target: str, include: fs.Include) -> list[tuple[str, str]]:
    providers = registered()
    if include.source == "*":
        pairs = []
        for name, provider in providers.items():
            seen: set[tuple[str, ...]] = set()
            for param_name, param in provider.search_params.items():
                if (
                    param.type == "reference"
                    and target in param.targets
                    and param.fields not in seen
                ):
                    seen.add(param.fields)
                    pairs.append((name, param_name))
        return pairs
    source = providers.get(include.source)
    if source is None:
        raise InvalidInput(f"this server does not serve {include.source}", where="_revinclude")
    found = source.search_params.get(include.param)
    if found is None or found.type != "reference":
        raise InvalidInput(
            f"{include.param} is not a reference parameter of {include.source}", where="_revinclude"
        )
    if target not in found.targets:
        return []
    return [(include.source, include.param)]


# -- operations


def everything(ctx: Context, logical_id: str) -> Reply:
    """The Patient and everything in its compartment that this server serves."""
    patient = provider_for("Patient").read(ctx, logical_id)
    person_id = patient.person_id
    resources: list[Resource] = [patient]
    for name, provider in registered().items():
        if name != "Patient" and isinstance(provider, ModelProvider) and person_id is not None:
            resources += provider.compartment(ctx, person_id)
    bundle = _bundle("searchset", total=len(resources))
    bundle["link"] = [{"relation": "self", "url": f"{ctx.base}/Patient/{logical_id}/$everything"}]
    bundle["entry"] = [_entry(ctx, r, "match") for r in resources]
    return Reply(200, bundle)


def last_modified(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def not_found(resource_type: str) -> NotFound:
    return NotFound(f"there is no {resource_type} with this id")
