"""``batch`` and ``transaction`` Bundles.

A transaction is all-or-nothing: its entries run in FHIR's order (DELETE, POST, PUT,
GET) inside one database transaction, and the first entry that fails undoes everything
and fails the whole Bundle with an OperationOutcome naming the entry. A batch runs each
entry on its own: a failing entry gets its own status and OperationOutcome. References
between entries by ``urn:uuid`` are rewritten to the created resources' ids; a created
entry that another created entry refers to is created first, whatever their order in the
Bundle (a Condition can come before the Patient it is about).

A refusal for want of a care relationship is audited where it happens, but the rollback
of the failed entry (or of the whole transaction) would undo that audit event with
everything else; so it is written again once the rollback is done.
"""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from django.db import transaction

from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction
from joinedup.errors import AccessDenied, InvalidInput, JoinedUpError, MethodNotAllowed
from joinedup.fhir import operations as ops
from joinedup.fhir.operations import Reply
from joinedup.fhir.providers import JSON, Context, provider_for
from joinedup.fhir.validation import validate

_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}


class EntryFailed(JoinedUpError):
    """One transaction entry failed; the whole transaction is undone."""

    def __init__(self, index: int, error: JoinedUpError) -> None:
        self.error = error
        self.index = index
        where = f"Bundle.entry[{index}]" + (f": {error.where}" if error.where else "")
        super().__init__(f"entry {index} failed, so nothing was saved: {error.detail}", where=where)
        self.status = error.status  # type: ignore[misc]
        self.fhir_code = error.fhir_code  # type: ignore[misc]
        self.code = error.code  # type: ignore[misc]
        self.title = error.title  # type: ignore[misc]


def process(ctx: Context, body: Any) -> Reply:
    bundle = validate(body, expected="Bundle")
    kind = bundle.get("type")
    if kind not in {"batch", "transaction"}:
        raise InvalidInput("send a Bundle of type batch or transaction", where="Bundle.type")
    entries = bundle.get("entry") or []
    for index, entry in enumerate(entries):
        if not isinstance(entry.get("request"), dict):
            raise InvalidInput(
                "every entry needs a request", where=f"Bundle.entry[{index}].request"
            )
    if kind == "transaction":
        try:
            replies = _transaction(ctx, entries)
        except EntryFailed as exc:
            _audit_refusal(ctx, entries, exc.error, exc.index)
            raise
    else:
        replies = [_batch_entry(ctx, entries, i, {}) for i in range(len(entries))]
    out: JSON = {
        "resourceType": "Bundle",
        "type": f"{kind}-response",
        "entry": [_response_entry(reply) for reply in replies],
    }
    return Reply(200, out)


@transaction.atomic
def _transaction(ctx: Context, entries: list[JSON]) -> list[Reply]:
    for index, entry in enumerate(entries):  # fail fast on types we do not serve at all
        try:
            provider_for(_split(entry["request"].get("url", ""))[0])
        except JoinedUpError as exc:
            raise EntryFailed(index, exc) from None
    created: dict[str, str] = {}
    replies: dict[int, Reply] = {}
    for index in _processing_order(entries):
        try:
            replies[index] = _perform(ctx, entries[index], created)
        except JoinedUpError as exc:
            raise EntryFailed(index, exc) from None
    return [replies[i] for i in range(len(entries))]


def _processing_order(entries: list[JSON]) -> list[int]:
    """FHIR's order (DELETE, POST, PUT, GET); among the creates, one that another refers
    to by its ``urn:uuid`` comes before it (otherwise the Bundle's own order)."""
    by_method: dict[int, list[int]] = {}
    for index, entry in enumerate(entries):
        rank = _ORDER.get(str(entry["request"].get("method", "")).upper(), 9)
        by_method.setdefault(rank, []).append(index)
    order: list[int] = []
    for rank in sorted(by_method):
        group = by_method[rank]
        order += _creates_first(entries, group) if rank == _ORDER["POST"] else group
    return order


def _creates_first(entries: list[JSON], group: list[int]) -> list[int]:
    """The creates in ``group``, each after the creates whose ``urn:uuid`` it mentions."""
    urls = {entries[i].get("fullUrl"): i for i in group if _is_urn(entries[i].get("fullUrl"))}
    placed: list[int] = []
    seen: set[int] = set()

    def place(index: int, path: set[int]) -> None:
        if index in seen or index in path:  # a cycle is left to fail on its reference
            return
        for url in _urns(entries[index].get("resource")):
            needed = urls.get(url)
            if needed is not None and needed != index:
                place(needed, path | {index})
        seen.add(index)
        placed.append(index)

    for index in group:
        place(index, set())
    return placed


def _is_urn(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("urn:uuid:")


def _urns(value: Any) -> list[str]:
    """Every ``urn:uuid`` string in a resource, in order."""
    if _is_urn(value):
        return [value]
    if isinstance(value, list):
        return [urn for item in value for urn in _urns(item)]
    if isinstance(value, dict):
        return [urn for item in value.values() for urn in _urns(item)]
    return []


def _batch_entry(ctx: Context, entries: list[JSON], index: int, created: dict[str, str]) -> Reply:
    try:
        with transaction.atomic():
            return _perform(ctx, entries[index], created)
    except JoinedUpError as exc:
        _audit_refusal(ctx, entries, exc, index)
        return Reply(exc.status, ops.outcome("error", exc.fhir_code, exc.detail, exc.where))


def _audit_refusal(ctx: Context, entries: list[JSON], error: JoinedUpError, index: int) -> None:
    """After a rollback: the refusal the rollback undid (see the module's docstring)."""
    if not isinstance(error, AccessDenied):
        return
    try:
        resource_type = _split(str(entries[index]["request"].get("url", "")))[0]
    except JoinedUpError:
        resource_type = "Bundle"
    audit_record(
        actor=ctx.user,
        action=AuditAction.DENY,
        resource=f"fhir.{resource_type}",
        outcome="denied",
        reason=f"{error.detail} (Bundle entry {index}, undone with the entry)",
    )


def _split(url: str) -> tuple[str, list[str], str]:
    path, _, query = url.partition("?")
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts:
        raise InvalidInput("the entry's request.url names no resource type", where="request.url")
    return parts[0], parts[1:], query


def _perform(ctx: Context, entry: JSON, created: dict[str, str]) -> Reply:
    request = entry["request"]
    method = str(request.get("method", "")).upper()
    resource_type, rest, query = _split(_rewrite(request.get("url", ""), created))
    resource = _rewrite(copy.deepcopy(entry.get("resource")), created)
    if method == "GET":
        return _get(ctx, resource_type, rest, query)
    if method == "POST" and not rest:
        reply = ops.create(ctx, resource_type, resource, if_none_exist=request.get("ifNoneExist"))
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str) and full_url.startswith("urn:uuid:") and reply.body:
            created[full_url] = f"{resource_type}/{reply.body['id']}"
        return reply
    if method == "PUT" and len(rest) == 1:
        return ops.update(ctx, resource_type, rest[0], resource, if_match=request.get("ifMatch"))
    raise MethodNotAllowed(
        f"{method} {request.get('url', '')} is not supported in a Bundle here", where="request"
    )


def _get(ctx: Context, resource_type: str, rest: list[str], query: str) -> Reply:
    if not rest:
        return ops.search(ctx, resource_type, parse_qsl(query, keep_blank_values=True), strict=True)
    if len(rest) == 1:
        return ops.read(ctx, resource_type, rest[0])
    if len(rest) == 2 and rest[1] == "_history":
        return ops.history(ctx, resource_type, rest[0])
    if len(rest) == 3 and rest[1] == "_history" and rest[2].isdigit():
        return ops.vread(ctx, resource_type, rest[0], int(rest[2]))
    raise InvalidInput("that request.url is not supported", where="request.url")


def _rewrite(value: Any, created: dict[str, str]) -> Any:
    """Every ``urn:uuid`` reference to an entry created earlier, as ``Type/id``."""
    if not created:
        return value
    if isinstance(value, str):
        return created.get(value, value)
    if isinstance(value, list):
        return [_rewrite(item, created) for item in value]
    if isinstance(value, dict):
        return {k: _rewrite(v, created) for k, v in value.items()}
    return value


def _response_entry(reply: Reply) -> JSON:
    response: JSON = {"status": f"{reply.status} {HTTPStatus(reply.status).phrase}"}
    headers = reply.headers
    if "Location" in headers:
        response["location"] = headers["Location"]
    if "ETag" in headers:
        response["etag"] = headers["ETag"]
    if reply.body is not None and "meta" in reply.body and "lastUpdated" in reply.body["meta"]:
        response["lastModified"] = reply.body["meta"]["lastUpdated"]
    entry: JSON = {"response": response}
    if reply.body is not None:
        if reply.body.get("resourceType") == "OperationOutcome":
            response["outcome"] = reply.body
        else:
            entry["resource"] = reply.body
    return entry
