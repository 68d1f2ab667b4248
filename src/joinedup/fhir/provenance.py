"""Provenance: the record's own (derived) and a writing system's own (written) statements.

Two kinds share the type and the ``/Provenance`` endpoint, in two id spaces:

- **derived** (id ``<fact id>``): how each clinical resource reached the record, made from
  the fact's source and delivery (a feed's delivery, or a write through this API: the
  writing organisation, system and time). Read-only: it changes only with the feed's next
  delivery or the resource's next write (409).
- **written** (id ``a<n>``, ``record.Attestation``): a system that wrote a resource through
  this API may state how it came to be: who took part (a Practitioner of this platform, or
  an Organization by ODS code, as author, enterer, performer or verifier), when, the
  activity, why, and what it came from. Only about a resource its own organisation wrote
  through the API about a person the caller may see; a feed's resource has its feed's
  Provenance (409) and another organisation's is theirs to describe (403, audited). It
  takes create and update through the generic ``ModelProvider`` writer path (scopes,
  If-Match, the loss check, versions, audit), so anything it cannot keep is refused (422)
  by name.

Searches, ``_revinclude``, ``$everything`` and reads serve both kinds together. This
module must never let a written statement change the record it is about.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from joinedup.core.roles import Permission
from joinedup.errors import AccessDenied, Conflict, InvalidInput
from joinedup.fhir import domain, mapping, practitioners, roundtrip
from joinedup.fhir import search as fs
from joinedup.fhir.errors import Unprocessable
from joinedup.fhir.providers import JSON, Context, ModelProvider, Resource, SearchPage, _path_value
from joinedup.record import writes as record_writes
from joinedup.record.models import Attestation, Fact
from joinedup.record.selectors import SOURCE_LABELS

if TYPE_CHECKING:
    from joinedup.core.models import User

P = fs.SearchParam
PARTICIPANT_TYPES = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
AGENT_TYPES = {
    "author": "Author",
    "enterer": "Enterer",
    "performer": "Performer",
    "verifier": "Verifier",
}
ENTITY_ROLES = ("source", "derivation", "quotation")
_MAX_AGENTS, _MAX_ENTITIES, _MAX_REASONS = 10, 20, 5
_EXISTS = "fhir existence check"

_TARGET = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/(\d{1,18})$")
_PRACTITIONER = re.compile(r"(?:^|/)Practitioner/(\d{1,18})$")
_ORGANIZATION = re.compile(r"(?:^|/)Organization/([A-Za-z0-9]{1,20})$")
_WRITTEN_ID = re.compile(r"^a(\d{1,18})$")


# -- derived: one per clinical resource


def _provenance_facts(user: User) -> QuerySet[Fact]:
    return domain.facts(user).filter(kind__in=list(mapping.TYPE_OF_KIND))


def _derived(fact: Any) -> JSON:
    return mapping.provenance_to_fhir(
        fact, source_label=SOURCE_LABELS.get(fact.source, fact.source)
    )


# -- written: the statement as FHIR, and back


def attestation_to_fhir(row: Attestation) -> JSON:
    """A writer's statement as Provenance: everything the record keeps of it."""
    body: JSON = {
        "resourceType": "Provenance",
        "id": f"a{row.pk}",
        "target": [{"reference": f"{row.target_type}/{row.fact_id}"}],
    }
    if row.occurred_at is not None:
        body["occurredDateTime"] = mapping.when(row.occurred_at)
    body["recorded"] = mapping.when(row.recorded)
    if row.reasons:
        body["reason"] = [_concept_to_fhir(reason) for reason in row.reasons]
    if row.activity:
        body["activity"] = _concept_to_fhir(row.activity)
    body["agent"] = [_agent_to_fhir(agent) for agent in row.agents]
    if row.entities:
        body["entity"] = [_entity_to_fhir(entity) for entity in row.entities]
    return body


def _concept_to_fhir(coding: dict[str, str]) -> JSON:
    out = {"system": coding["system"], "code": coding["code"]}
    if coding.get("display"):
        out["display"] = coding["display"]
    return {"coding": [out]}


def _agent_to_fhir(agent: dict[str, Any]) -> JSON:
    out: JSON = {}
    if agent.get("type"):
        code = agent["type"]
        out["type"] = {
            "coding": [{"system": PARTICIPANT_TYPES, "code": code, "display": AGENT_TYPES[code]}]
        }
    if "practitioner" in agent:
        out["who"] = {"reference": f"Practitioner/{agent['practitioner']}"}
    else:
        out["who"] = mapping.ods_reference(agent["organisation"])
    return out


def _entity_to_fhir(entity: dict[str, str]) -> JSON:
    what = {k: entity[k] for k in ("reference", "display") if entity.get(k)}
    return {"role": entity["role"], "what": what}


def _list(body: JSON, key: str, *, most: int) -> list[Any]:
    value = body.get(key, [])
    where = f"Provenance.{key}"
    if not isinstance(value, list):
        raise Unprocessable("this element is a list", where=where)
    if len(value) > most:
        raise Unprocessable(f"the record keeps at most {most} of these", where=f"{where}[{most}]")
    return value


def _text(value: Any, where: str, *, most: int, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > most:
        raise Unprocessable(f"give a text of at most {most} characters here", where=where)
    return value


def _coding(value: Any, where: str) -> dict[str, str]:
    """One CodeableConcept holding exactly one coding with a system and a code."""
    codings = value.get("coding") if isinstance(value, dict) else None
    if not isinstance(codings, list) or len(codings) != 1 or not isinstance(codings[0], dict):
        raise Unprocessable("the record keeps one coding here (system and code)", where=where)
    coding = codings[0]
    inner = f"{where}.coding[0]"
    return {
        "system": _text(coding.get("system"), f"{inner}.system", most=200),
        "code": _text(coding.get("code"), f"{inner}.code", most=100),
        "display": _text(coding.get("display"), f"{inner}.display", most=300, required=False),
    }


def _agent_type(value: Any, where: str) -> str:
    if value is None:
        return ""
    codings = value.get("coding") if isinstance(value, dict) else None
    coding = codings[0] if isinstance(codings, list) and len(codings) == 1 else None
    if (
        not isinstance(coding, dict)
        or coding.get("system") != PARTICIPANT_TYPES
        or coding.get("code") not in AGENT_TYPES
    ):
        raise Unprocessable(
            f"an agent's type is one coding of {PARTICIPANT_TYPES}: " + ", ".join(AGENT_TYPES),
            where=where,
        )
    return str(coding["code"])


def _agent(ctx: Context, value: Any, where: str) -> dict[str, Any]:
    """Who took part: a Practitioner this server serves, or an Organization by ODS code."""
    if not isinstance(value, dict):
        raise Unprocessable("an agent is an object", where=where)
    kind = _agent_type(value.get("type"), f"{where}.type")
    who = value.get("who")
    reference = who.get("reference") if isinstance(who, dict) else None
    identifier = who.get("identifier") if isinstance(who, dict) else None
    found = _PRACTITIONER.search(reference) if isinstance(reference, str) else None
    if found is not None:
        if not practitioners.staff(ctx.user).filter(id=int(found.group(1))).exists():
            raise Unprocessable("there is no Practitioner with this id", where=f"{where}.who")
        return {"type": kind, "practitioner": int(found.group(1))}
    found = _ORGANIZATION.search(reference) if isinstance(reference, str) else None
    code = found.group(1) if found is not None else None
    if code is None and reference is None and isinstance(identifier, dict):
        value_ = identifier.get("value")
        if identifier.get("system") == mapping.ODS and isinstance(value_, str):
            code = value_
    if code is None:
        raise Unprocessable(
            "name who took part: a Practitioner of this platform (Practitioner/<id>) or an "
            "Organization by ODS code",
            where=f"{where}.who",
        )
    if len(code) > 20 or not domain.organisations(ctx.user).filter(ods_code=code).exists():
        raise Unprocessable(f"there is no organisation with ODS code {code}", where=f"{where}.who")
    return {"type": kind, "organisation": code}


def _entity(value: Any, where: str) -> dict[str, str]:
    """What the record came from: a reference or a description, and how it was used."""
    if not isinstance(value, dict):
        raise Unprocessable("an entity is an object", where=where)
    role = value.get("role")
    if role not in ENTITY_ROLES:
        raise Unprocessable(
            f"the record keeps an entity's role as one of {', '.join(ENTITY_ROLES)}",
            where=f"{where}.role",
        )
    what = value.get("what")
    if not isinstance(what, dict) or not (what.get("reference") or what.get("display")):
        raise Unprocessable(
            "say what it came from: a reference or a display", where=f"{where}.what"
        )
    reference = _text(what.get("reference"), f"{where}.what.reference", most=300, required=False)
    if any(c.isspace() for c in reference):
        raise Unprocessable("a reference holds no spaces", where=f"{where}.what.reference")
    display = _text(what.get("display"), f"{where}.what.display", most=300, required=False)
    return {"role": str(role), "reference": reference, "display": display}


def _target(body: JSON) -> tuple[str, int]:
    """The one resource a statement is about, as (type, fact id)."""
    targets = body.get("target")
    where = "Provenance.target"
    if not isinstance(targets, list) or not targets:
        raise Unprocessable("name the resource this Provenance is about", where=where)
    if len(targets) > 1:
        raise Unprocessable(
            "a written Provenance is about one resource: write one for each", where=f"{where}[1]"
        )
    reference = targets[0].get("reference") if isinstance(targets[0], dict) else None
    found = _TARGET.search(reference) if isinstance(reference, str) else None
    if found is None or found.group(1) not in mapping.WRITABLE_TYPES:
        raise Unprocessable(
            "a written Provenance is about a clinical resource written through this API "
            f"({', '.join(sorted(mapping.WRITABLE_TYPES))}), by reference",
            where=f"{where}[0]",
        )
    return found.group(1), int(found.group(2))


def attestation_values(ctx: Context, body: JSON) -> tuple[int, record_writes.AttestationValues]:
    """The fact a written Provenance is about and what it says, as the record keeps them;
    what has no place is left for the loss check to name."""
    target_type, fact_id = _target(body)
    recorded = roundtrip.moment_of(body.get("recorded"), "Provenance.recorded")
    if recorded is None:
        raise Unprocessable("say when this statement was recorded", where="Provenance.recorded")
    agents = _list(body, "agent", most=_MAX_AGENTS)
    if not agents:
        raise Unprocessable("name at least one agent", where="Provenance.agent")
    activity = body.get("activity")
    values = record_writes.AttestationValues(
        target_type=target_type,
        recorded=recorded,
        occurred_at=roundtrip.moment_of(
            body.get("occurredDateTime"), "Provenance.occurredDateTime"
        ),
        activity=_coding(activity, "Provenance.activity") if activity is not None else {},
        agents=[_agent(ctx, a, f"Provenance.agent[{i}]") for i, a in enumerate(agents)],
        reasons=[
            _coding(r, f"Provenance.reason[{i}]")
            for i, r in enumerate(_list(body, "reason", most=_MAX_REASONS))
        ],
        entities=[
            _entity(e, f"Provenance.entity[{i}]")
            for i, e in enumerate(_list(body, "entity", most=_MAX_ENTITIES))
        ],
    )
    return fact_id, values


class AttestationWriter:
    """Written Provenance through ``record.writes`` (the rules: only about a fact the
    writer's organisation wrote through the API; only that organisation changes it)."""

    def create(self, ctx: Context, body: JSON) -> Attestation:
        writer = _writer(ctx)
        fact_id, values = attestation_values(ctx, body)
        _check_target(ctx, fact_id, values.target_type)
        return record_writes.attestation_create(writer=writer, fact_id=fact_id, values=values)

    def update(self, ctx: Context, row: Attestation, body: JSON) -> Attestation:
        writer = _writer(ctx)
        fact_id, values = attestation_values(ctx, body)
        if fact_id != row.fact_id:
            raise Unprocessable(
                "a statement stays about its resource: write a new Provenance for another",
                where="Provenance.target[0]",
            )
        _check_target(ctx, fact_id, values.target_type)
        return record_writes.attestation_replace(
            writer=writer, attestation_id=row.pk, values=values
        )


def _writer(ctx: Context) -> record_writes.Writer:
    if not ctx.user.has_role_permission(Permission.VIEW_PERSON):
        raise AccessDenied("your role does not give access to care records")
    return record_writes.writer_of(ctx.user, client_id=ctx.grant.client_id)


def _check_target(ctx: Context, fact_id: int, target_type: str) -> None:
    """The target is a resource the caller may see (a stranger's: 403, audited by the
    provider), not a feed's (409), and shown as the type named."""
    found = domain.facts(ctx.user).filter(id=fact_id)
    if ctx.grant.patient_id is not None:
        found = found.filter(identity__person_id=ctx.grant.patient_id)
    fact = found.order_by().first()
    where = "Provenance.target[0]"
    if fact is None:
        if domain.fact_exists(fact_id, tuple(mapping.TYPE_OF_KIND)):
            raise AccessDenied("you have no care relationship with the person this record is about")
        raise Unprocessable("there is no such resource in the record", where=where)
    if fact.source != record_writes.API_SOURCE:
        raise record_writes.FeedOwned(
            f"{target_type}/{fact_id} came from a feed: its Provenance is the feed's delivery "
            f"(Provenance/{fact_id}), which only the feed states",
            where=where,
        )
    shown = mapping.views_of(fact.kind, fact.display)
    if target_type not in shown:
        raise Unprocessable(
            f"this resource is {' and '.join(f'{t}/{fact_id}' for t in shown)}", where=where
        )


# -- written: the provider


def _attestations(user: User) -> QuerySet[Attestation]:
    return Attestation.objects.visible_to(user)


def _attestation_exists(attestation_id: Any) -> bool:
    return Attestation.objects.for_system(_EXISTS).filter(id=attestation_id).exists()


def _written_ids(modifier: str, value: str, where: str) -> Q:
    """``_id`` of written Provenance: ``a<n>``; any other id matches none of them."""
    if modifier == "missing":  # every statement has an id
        return fs.NOTHING if value == "true" else Q()
    if modifier not in {"", "not"}:
        raise InvalidInput(f"_id takes :not or :missing, not :{modifier}", where=where)
    ids = [int(m.group(1)) for part in value.split(",") if (m := _WRITTEN_ID.match(part))]
    found = Q(id__in=ids)
    return ~found if modifier == "not" else found


WRITTEN_PARAMS: dict[str, fs.SearchParam] = {
    "_id": P("_id", "token", ("id",), "The resource's logical id", build=_written_ids),
    "target": P(
        "target",
        "reference",
        ("fact_id",),
        "The resource it is about",
        targets=tuple(mapping.FACT_TYPES),
    ),
    "patient": P(
        "patient",
        "reference",
        ("fact__identity__person_id",),
        "Whose record",
        targets=("Patient",),
    ),
    "recorded": P("recorded", "date", ("recorded",), "When it was recorded"),
}


class WrittenProvenanceProvider(ModelProvider):
    """Written Provenance (``a<n>``); not registered: ``ProvenanceProvider`` serves it."""

    def __init__(self) -> None:
        super().__init__(
            resource_type="Provenance",
            model=Attestation,
            queryset=_attestations,
            to_fhir=attestation_to_fhir,
            last_updated_field="updated_at",
            params=WRITTEN_PARAMS,
            id_field="id",
            person_field="fact__identity__person_id",
            patient_param="patient",
            exists=_attestation_exists,
            related=("fact__identity",),
            writer=AttestationWriter(),
        )

    def _id_value(self, logical_id: str) -> Any:
        found = _WRITTEN_ID.match(logical_id)
        return int(found.group(1)) if found else None

    def referenced(self, ctx: Context, page: SearchPage, param: str) -> list[tuple[str, str]]:
        """A statement's target as the type it named (the generic answer takes the first)."""
        if param == "target":
            return sorted({(row.target_type, str(row.fact_id)) for row in page.rows})
        return super().referenced(ctx, page, param)

    def matching(
        self, ctx: Context, request: fs.SearchRequest
    ) -> tuple[QuerySet[Attestation], list[tuple[str, bool]]]:
        """The request's conditions and sort, read again for this model (the request was
        parsed for the derived kind's)."""
        rows = self.scoped(ctx)
        sort: list[tuple[str, bool]] = []
        for raw_name, value in request.used:
            name, _, modifier = raw_name.partition(":")
            if name == "_sort":
                sort = fs._sort(value, self.search_params)
            elif name not in fs.RESULT_PARAMS:
                spec = self.search_params[name]
                rows = rows.filter(
                    fs.condition(spec, modifier, value, model=Attestation, where=raw_name)
                )
        return rows, sort


# -- both kinds


class ProvenanceProvider(ModelProvider):
    """Where each clinical resource came from (derived, read-only), and what writing
    systems stated about their own resources (written, ``a<n>``); ``target`` searches by
    the resource, either kind."""

    def __init__(self) -> None:
        super().__init__(
            resource_type="Provenance",
            model=Fact,
            queryset=_provenance_facts,
            to_fhir=_derived,
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
            documentation="One derived Provenance per clinical resource (id: the resource's "
            "id): its source system and delivery, read-only (409). A system that wrote a "
            "resource through this API may also create and update its own Provenance of it "
            "(id a<n>): agents (a Practitioner, or an Organization by ODS code; author, "
            "enterer, performer or verifier), recorded, occurredDateTime, one activity "
            "coding, reasons and entities (source, derivation or quotation); anything else "
            "is refused (422). Not about a feed's resource (409) or another organisation's "
            "(403).",
        )
        self.written = WrittenProvenanceProvider()
        self.interactions = self.interactions | {"create", "update"}

    # -- one resource: by its id space

    def read(self, ctx: Context, logical_id: str) -> Resource:
        if _WRITTEN_ID.match(logical_id):
            return self.written.read(ctx, logical_id)
        return super().read(ctx, logical_id)

    def vread(self, ctx: Context, logical_id: str, version: int) -> Resource:
        if _WRITTEN_ID.match(logical_id):
            return self.written.vread(ctx, logical_id, version)
        return super().vread(ctx, logical_id, version)

    def history(self, ctx: Context, logical_id: str) -> list[Resource]:
        if _WRITTEN_ID.match(logical_id):
            return self.written.history(ctx, logical_id)
        return super().history(ctx, logical_id)

    def create(self, ctx: Context, body: JSON) -> Resource:
        return self.written.create(ctx, body)

    def update(self, ctx: Context, logical_id: str, body: JSON, if_match: int | None) -> Resource:
        if _WRITTEN_ID.match(logical_id):
            return self.written.update(ctx, logical_id, body, if_match)
        return self._refuse_derived(ctx, logical_id)

    def _refuse_derived(self, ctx: Context, logical_id: str) -> Resource:
        """Refused (409) for a resource the caller may read: its Provenance is derived."""
        current = super().read(ctx, logical_id)
        target = current.body["target"][0]["reference"]
        source = self.scoped(ctx).filter(id=int(logical_id)).values_list("source", flat=True)
        if source.first() != record_writes.API_SOURCE:
            raise record_writes.FeedOwned(
                f"this Provenance records a feed's delivery of {target}: it changes only "
                "with that feed's next delivery",
                where="Provenance",
            )
        raise Conflict(
            f"this Provenance records how {target} was written through this API and "
            f"changes with each update of {target}: update that resource instead, or "
            "create your own Provenance of it",
            where="Provenance",
        )

    # -- many: both kinds

    def read_many(self, ctx: Context, logical_ids: Iterable[str]) -> list[Resource]:
        ids = list(logical_ids)
        written = [i for i in ids if _WRITTEN_ID.match(i)]
        derived = [i for i in ids if not _WRITTEN_ID.match(i)]
        return [*super().read_many(ctx, derived), *self.written.read_many(ctx, written)]

    def referring(self, ctx: Context, param: str, ids: list[str]) -> list[Resource]:
        return [*super().referring(ctx, param, ids), *self.written.referring(ctx, param, ids)]

    def compartment(self, ctx: Context, person_id: uuid.UUID) -> list[Resource]:
        return [*super().compartment(ctx, person_id), *self.written.compartment(ctx, person_id)]

    def referenced(self, ctx: Context, page: SearchPage, param: str) -> list[tuple[str, str]]:
        facts = [row for row in page.rows if isinstance(row, Fact)]
        written = [row for row in page.rows if isinstance(row, Attestation)]
        # A derived Provenance's target is its own fact, as the type that fact is served as
        # (the generic answer would name the parameter's first target type for every row).
        derived = (
            sorted({(mapping.TYPE_OF_KIND[f.kind], str(f.pk)) for f in facts})
            if param == "target"
            else super().referenced(ctx, SearchPage([], None, None, facts), param)
        )
        return [
            *derived,
            *self.written.referenced(ctx, SearchPage([], None, None, written), param),
        ]

    def search(self, ctx: Context, request: fs.SearchRequest) -> SearchPage:
        """Both kinds in one order: the sort's values, then derived before written, then
        id; the cursor is the last row's values, its kind (0, 1) and its id."""
        ctx.grant.require(self.resource_type, "s")
        derived = self.scoped(ctx)
        for condition in request.conditions:
            derived = derived.filter(condition)
        written, written_sort = self.written.matching(ctx, request)
        total = None
        if request.total or request.summary_count:
            total = derived.count() + written.count()
        if request.summary_count or request.count == 0:
            return SearchPage([], total, None)
        found = [
            *_first_rows(request, 0, derived, request.sort, self),
            *_first_rows(request, 1, written, written_sort, self.written),
        ]
        found.sort(key=lambda item: item[0])
        page, more = found[: request.count], len(found) > request.count
        rows_ = [row for _, _, row in page]
        cursor = page[-1][1] if more and page else None
        return SearchPage(self._rendered_both(rows_), total, cursor, rows_)

    def _rendered_both(self, rows: list[Any]) -> list[Resource]:
        """Mixed rows rendered by their kind's provider, in the rows' order."""
        facts = iter(self.rendered([row for row in rows if isinstance(row, Fact)]))
        written = iter(self.written.rendered([row for row in rows if isinstance(row, Attestation)]))
        return [next(facts) if isinstance(row, Fact) else next(written) for row in rows]


_Found = tuple[tuple[Any, ...], list[Any], Any]  # (order key, cursor values, row)


def _first_rows(
    request: fs.SearchRequest,
    kind: int,
    rows: QuerySet[Any],
    sort: list[tuple[str, bool]],
    provider: ModelProvider,
) -> list[_Found]:
    """One kind's first rows after the cursor, enough for a page and one more."""
    if request.cursor is not None:
        resume = _resume(request.cursor, len(sort), kind)
        rows = rows.filter(fs.after(provider.model, [*sort, ("id", False)], resume, "_cursor"))
    out: list[_Found] = []
    for row in provider.ordered(rows, sort)[: request.count + 1]:
        values = [_path_value(row, path) for path, _ in sort]
        out.append((_order_key(values, sort, kind, row.pk), [*values, kind, row.pk], row))
    return out


def _resume(cursor: list[Any], sorted_by: int, kind: int) -> list[Any]:
    """Where one kind's rows resume after the cursor row (of either kind): after its id if
    the same kind, at the same sort values if a later kind, after them if an earlier."""
    if (
        len(cursor) != sorted_by + 2
        or cursor[-2] not in (0, 1)
        or not isinstance(cursor[-1], int)
        or isinstance(cursor[-1], bool)
    ):
        raise InvalidInput("the paging cursor does not fit this search", where="_cursor")
    values, cursor_kind, row_id = cursor[:-2], cursor[-2], cursor[-1]
    if kind == cursor_kind:
        return [*values, row_id]
    return [*values, 0 if kind > cursor_kind else 2**62]


@functools.total_ordering
class _Descending:
    """A value that sorts the other way round (for a descending sort key)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    def __lt__(self, other: _Descending) -> bool:
        return bool(self.value > other.value)

    def __hash__(self) -> int:
        return hash(self.value)


def _order_key(
    values: list[Any], sort: list[tuple[str, bool]], kind: int, row_id: int
) -> tuple[Any, ...]:
    """The merged order of a row: each sort value (nulls last), then kind, then id."""
    parts: list[Any] = []
    for value, (_, descending) in zip(values, sort, strict=True):
        parts.append((value is None, None if value is None else _sortable(value, descending)))
    return (*parts, kind, row_id)


def _sortable(value: Any, descending: bool) -> Any:
    return _Descending(value) if descending else value
