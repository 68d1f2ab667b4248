"""The provider registry: which resource types the API serves, and who serves each.

A provider reads, searches and (where the domain allows) writes one resource type, and
says which search parameters and interactions it supports; the CapabilityStatement is
built from the registry, so it can only claim what a provider really does. Other apps
plug in by registering a provider (``register``), typically a ``ModelProvider`` over their
own scoped selector and a pure ``<thing>_to_fhir`` mapping function.

A provider must never read person-level rows except through a scoped queryset
(``visible_to(user)``), and must audit what it returns (``audit_reads``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.db import models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction
from joinedup.errors import AccessDenied, InvalidInput, NotFound
from joinedup.fhir import roundtrip, versions
from joinedup.fhir import search as fs
from joinedup.fhir.errors import NotSupported

if TYPE_CHECKING:
    from joinedup.core.models import User
    from joinedup.fhir.auth import Grant

JSON = dict[str, Any]


@dataclass(frozen=True)
class Context:
    """One request's caller and the server's base URL (for absolute links)."""

    grant: Grant
    base: str

    @property
    def user(self) -> User:
        return self.grant.user


@dataclass(frozen=True)
class Resource:
    """A resource as served: its body (meta included), version and whose record it is."""

    resource_type: str
    logical_id: str
    body: JSON
    version: int
    last_updated: datetime
    person_id: uuid.UUID | None = None


@dataclass
class SearchPage:
    resources: list[Resource]
    total: int | None
    next_cursor: list[Any] | None
    rows: list[Any] = field(default_factory=list)  # the model rows, for _include


class Provider:
    """What a resource type's provider offers. Subclasses override what they support."""

    resource_type: str = ""
    interactions: frozenset[str] = frozenset()
    profile: str | None = None
    documentation: str = ""

    @property
    def search_params(self) -> Mapping[str, fs.SearchParam]:
        return {}

    @property
    def patient_param(self) -> str | None:
        """The reference parameter that puts a resource in a Patient's compartment."""
        return None

    def read(self, ctx: Context, logical_id: str) -> Resource:  # noqa: ARG002 - the interface
        raise NotSupported(f"read of {self.resource_type} is not supported")

    def vread(self, ctx: Context, logical_id: str, version: int) -> Resource:  # noqa: ARG002 - the interface
        raise NotSupported(f"vread of {self.resource_type} is not supported")

    def history(self, ctx: Context, logical_id: str) -> list[Resource]:  # noqa: ARG002 - the interface
        raise NotSupported(f"history of {self.resource_type} is not supported")

    def search(self, ctx: Context, request: fs.SearchRequest) -> SearchPage:  # noqa: ARG002 - the interface
        raise NotSupported(f"search of {self.resource_type} is not supported")

    def referenced(self, ctx: Context, page: SearchPage, param: str) -> list[tuple[str, str]]:  # noqa: ARG002 - the interface
        """The (type, id) pairs that ``param`` points at from the page's rows."""
        return []

    def read_many(self, ctx: Context, logical_ids: Iterable[str]) -> list[Resource]:  # noqa: ARG002 - the interface
        return []

    def create(self, ctx: Context, body: JSON) -> Resource:  # noqa: ARG002 - the interface
        raise NotSupported(f"this server does not store {self.resource_type} resources")

    def update(self, ctx: Context, logical_id: str, body: JSON, if_match: int | None) -> Resource:  # noqa: ARG002 - the interface
        raise NotSupported(f"this server does not store {self.resource_type} resources")


_REGISTRY: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    """Serve a resource type through ``provider`` (the last registration wins)."""
    if not provider.resource_type:
        raise ValueError("a provider must name its resource type")
    _REGISTRY[provider.resource_type] = provider


def provider_for(resource_type: str) -> Provider:
    _ensure_loaded()
    provider = _REGISTRY.get(resource_type)
    if provider is None:
        raise NotSupported(
            f"this server does not serve {resource_type} resources (see /metadata)",
            where=resource_type,
        )
    return provider


def registered() -> dict[str, Provider]:
    _ensure_loaded()
    return dict(sorted(_REGISTRY.items()))


def _ensure_loaded() -> None:
    if not _REGISTRY:
        from joinedup.fhir import resources

        resources.register_all()


def audit_reads(ctx: Context, resources: Iterable[Resource], *, label: str) -> None:
    """One audit event for each person whose record the response shows."""
    seen: set[uuid.UUID] = set()
    for resource in resources:
        if resource.person_id is not None and resource.person_id not in seen:
            seen.add(resource.person_id)
            audit_record(
                actor=ctx.user,
                action=AuditAction.READ,
                resource=label,
                person_id=resource.person_id,
            )


def audit_denied(ctx: Context, resource_type: str, reason: str) -> None:
    """One audit event for a refusal of access to ``resource_type`` (reason cut to fit)."""
    audit_record(
        actor=ctx.user,
        action=AuditAction.DENY,
        resource=f"fhir.{resource_type}",
        outcome="denied",
        reason=reason[:200],
    )


def with_versions(out: list[Resource], stored: dict[str, tuple[int, datetime]]) -> list[Resource]:
    """Resources at their current versions (``versions.current_version``) where ``stored``
    holds a version for them."""
    for index, resource in enumerate(out):
        version = versions.current_version(stored.get(resource.logical_id), resource.last_updated)
        if version != resource.version:
            resource.body["meta"]["versionId"] = str(version)
            out[index] = replace(resource, version=version)
    return out


def meta(version: int, last_updated: datetime, profile: str | None) -> JSON:
    out: JSON = {"versionId": str(version), "lastUpdated": instant(last_updated)}
    if profile:
        out["profile"] = [profile]
    return out


def instant(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


class RowWriter(Protocol):
    """How an app makes and changes its rows from a written resource, through its own
    services (which check its rules and may raise its errors). The provider does the rest:
    scopes, version checks, the loss check, versions and the audit (``ModelProvider``)."""

    def create(self, ctx: Context, body: JSON) -> Any:
        """Make and save the row ``body`` describes; return it."""

    def update(self, ctx: Context, row: Any, body: JSON) -> Any:
        """Change the caller-visible, locked ``row`` to what ``body`` says; return it."""


class ModelProvider(Provider):
    """A provider over a scoped queryset and a pure mapping function.

    ``queryset(user)`` must be scoped (``visible_to``); ``exists(id_value)`` answers, for
    the audit and the right status, whether a row the user cannot see exists at all.

    With a ``writer`` it also takes create and update: the app's writer makes or changes the
    row, the row is rendered with the same ``to_fhir`` reads use and compared with what was
    sent (``roundtrip``: anything that would not come back is refused, 422, and the write
    rolled back), and the result is kept as a version (``versions``) and audited, in one
    transaction. An update must name the current version in ``If-Match`` if it names one.
    """

    def __init__(
        self,
        *,
        resource_type: str,
        model: type[models.Model],
        queryset: Callable[[User], QuerySet[Any]],
        to_fhir: Callable[[Any], JSON],
        last_updated_field: str,
        params: Mapping[str, fs.SearchParam] = {},
        id_field: str = "pk",
        person_field: str | None = None,
        patient_param: str | None = None,
        exists: Callable[[Any], bool] | None = None,
        related: tuple[str, ...] = (),
        profile: str | None = None,
        documentation: str = "",
        writer: RowWriter | None = None,
    ) -> None:
        self.resource_type = resource_type
        self.model = model
        self.writer = writer
        self._queryset = queryset
        self.to_fhir = to_fhir
        self.last_updated_field = last_updated_field
        self.id_field = id_field
        self.person_field = person_field
        self._patient_param = patient_param
        self._exists = exists
        self.related = related
        self.profile = profile
        self.documentation = documentation
        self.interactions = frozenset({"read", "vread", "search-type", "history-instance"})
        if writer is not None:
            self.interactions = self.interactions | {"create", "update"}
        common = {"_id": fs.SearchParam("_id", "token", (id_field,), "The resource's logical id")}
        if last_updated_field:
            common["_lastUpdated"] = fs.SearchParam(
                "_lastUpdated", "date", (last_updated_field,), "When the resource last changed"
            )
        self._params = {**common, **params}

    @property
    def search_params(self) -> Mapping[str, fs.SearchParam]:
        return self._params

    @property
    def patient_param(self) -> str | None:
        return self._patient_param

    # -- reading

    def scoped(self, ctx: Context) -> QuerySet[Any]:
        rows = self._queryset(ctx.user)
        if ctx.grant.patient_id is not None:
            if self.person_field is None:
                if self._is_person_level():
                    return rows.none()
            else:
                rows = rows.filter(**{self.person_field: ctx.grant.patient_id})
        return rows.select_related(*self.related) if self.related else rows

    def _is_person_level(self) -> bool:
        return self._exists is not None

    def _id_value(self, logical_id: str) -> Any:
        value = fs._typed(self.model, self._id_path(), logical_id)
        if isinstance(value, fs._NoMatch):
            return None
        return value

    def _id_path(self) -> str:
        pk = self.model._meta.pk
        return pk.name if self.id_field == "pk" and pk is not None else self.id_field

    def render_rows(self, rows: list[Any]) -> list[Resource]:
        """Rows as resources (override to fetch what rendering a page needs at once)."""
        return [self.render(row) for row in rows]

    def rendered(self, rows: list[Any]) -> list[Resource]:
        """Rows as served: rendered, at their current versions when the type is written."""
        out = self.render_rows(rows)
        if self.writer is None or not out:
            return out
        return with_versions(out, versions.newest(self.resource_type, [r.logical_id for r in out]))

    def render(self, row: Any) -> Resource:
        body = self.to_fhir(row)
        moment = _path_value(row, self.last_updated_field)
        body["meta"] = meta(1, moment, self.profile)
        person = _path_value(row, self.person_field) if self.person_field else None
        return Resource(self.resource_type, body["id"], body, 1, moment, person)

    def read(self, ctx: Context, logical_id: str) -> Resource:
        ctx.grant.require(self.resource_type, "r")
        value = self._id_value(logical_id)
        row = None
        if value is not None:
            row = next(iter(self.read_rows(ctx, value)), None)
        if row is None:
            self._refuse(ctx, value)
        resource = self.rendered([row])[0]
        audit_reads(ctx, [resource], label=f"fhir.{self.resource_type}")
        return resource

    def read_rows(self, ctx: Context, value: Any) -> QuerySet[Any]:
        """The row a read returns (override to fetch what rendering it needs in one query)."""
        # The logical id is unique, so one row at most and no ordering to compute.
        return self.scoped(ctx).filter(**{self.id_field: value}).order_by()[:1]

    def _refuse(self, ctx: Context, value: Any) -> None:
        """Not found, or (audited) found but outside the caller's care: the web's rule."""
        if value is not None and self._exists is not None and self._exists(value):
            audit_denied(ctx, self.resource_type, "no legitimate relationship")
            raise AccessDenied("you have no care relationship with the person this record is about")
        raise NotFound(f"there is no {self.resource_type} with this id")

    def vread(self, ctx: Context, logical_id: str, version: int) -> Resource:
        resource = self.read(ctx, logical_id)
        if version == resource.version:
            return resource
        if self.writer is not None:
            for stored in versions.history(self.resource_type, logical_id):
                if stored.version == version:
                    return stored
        raise NotFound(f"{self.resource_type}/{logical_id} has no version {version}")

    def history(self, ctx: Context, logical_id: str) -> list[Resource]:
        current = self.read(ctx, logical_id)
        if self.writer is None:
            return [current]
        older = versions.history(self.resource_type, logical_id)
        return [current, *[r for r in older if r.version < current.version]]

    # -- writing (with a writer)

    def create(self, ctx: Context, body: JSON) -> Resource:
        if self.writer is None:
            return super().create(ctx, body)
        ctx.grant.require(self.resource_type, "c")
        roundtrip.refuse_labels(self.resource_type, body)
        with self._refusals_audited(ctx), transaction.atomic():
            row = self.writer.create(ctx, body)
            return self._written(ctx, row, body, version=1, method="POST")

    def update(self, ctx: Context, logical_id: str, body: JSON, if_match: int | None) -> Resource:
        if self.writer is None:
            return super().update(ctx, logical_id, body, if_match)
        ctx.grant.require(self.resource_type, "u")
        if body.get("id") != logical_id:
            raise InvalidInput(
                "the resource's id must match the id in the URL", where=f"{self.resource_type}.id"
            )
        roundtrip.refuse_labels(self.resource_type, body)
        with self._refusals_audited(ctx), transaction.atomic():
            current = self.read(ctx, logical_id)
            versions.require_current(current, if_match)
            if not versions.is_stored(current):
                versions.store(current, method="PUT")  # what it was before this change
            row = (
                self.scoped(ctx)
                .select_for_update(of=("self",))
                .get(**{self.id_field: self._id_value(logical_id)})
            )
            row = self.writer.update(ctx, row, body)
            return self._written(ctx, row, body, version=current.version + 1, method="PUT")

    @contextmanager
    def _refusals_audited(self, ctx: Context) -> Iterator[None]:
        """A refusal of access inside the write's transaction is audited there and undone
        with the write, so it is audited again after the rollback. Inside a Bundle the
        Bundle's own rollback undoes this one too, and the Bundle audits it once."""
        try:
            yield
        except AccessDenied as exc:
            audit_denied(ctx, self.resource_type, f"{exc.detail} (the write was undone)")
            raise

    def _written(
        self, ctx: Context, row: Any, body: JSON, *, version: int, method: str
    ) -> Resource:
        """The row as the record now reads, compared with what was sent, kept and audited."""
        resource = self.render_rows([row])[0]
        roundtrip.require_lossless(
            self.resource_type, body, {k: v for k, v in resource.body.items() if k != "meta"}
        )
        resource.body["meta"]["versionId"] = str(version)
        resource = replace(resource, version=version)
        versions.store(resource, method=method)
        audit_record(
            actor=ctx.user,
            action=AuditAction.CREATE if method == "POST" else AuditAction.UPDATE,
            resource=f"fhir.{self.resource_type}",
            person_id=resource.person_id,
            reason=f"{self.resource_type}/{resource.logical_id} version {version}",
        )
        return resource

    def read_many(self, ctx: Context, logical_ids: Iterable[str]) -> list[Resource]:
        if not ctx.grant.allows(self.resource_type, "r"):
            return []
        values = [v for v in (self._id_value(i) for i in logical_ids) if v is not None]
        if not values:
            return []
        rows = self.scoped(ctx).filter(**{f"{self.id_field}__in": values})
        return self.rendered(list(rows))

    def ordered(self, rows: QuerySet[Any], sort: list[tuple[str, bool]]) -> QuerySet[Any]:
        keys = [*sort, (self._id_path(), False)]
        return rows.order_by(
            *[
                F(path).desc(nulls_last=True) if desc else F(path).asc(nulls_last=True)
                for path, desc in keys
            ]
        )

    def search(self, ctx: Context, request: fs.SearchRequest) -> SearchPage:
        ctx.grant.require(self.resource_type, "s")
        rows = self.scoped(ctx)
        for condition in request.conditions:
            rows = rows.filter(condition)
        total = rows.count() if request.total or request.summary_count else None
        if request.summary_count or request.count == 0:
            return SearchPage([], total, None)
        keys = [*request.sort, (self._id_path(), False)]
        if request.cursor is not None:
            rows = rows.filter(fs.after(self.model, keys, request.cursor, "_cursor"))
        page = list(self.ordered(rows, request.sort)[: request.count + 1])
        more = len(page) > request.count
        page = page[: request.count]
        cursor = None
        if more and page:
            cursor = [_path_value(page[-1], path) for path, _ in keys]
        return SearchPage(self.rendered(page), total, cursor, page)

    def referenced(
        self,
        ctx: Context,  # noqa: ARG002 - the interface
        page: SearchPage,
        param: str,
    ) -> list[tuple[str, str]]:
        spec = self._params.get(param)
        if spec is None or spec.type != "reference" or not page.rows:
            return []
        ids = {_path_value(row, spec.fields[0]) for row in page.rows}
        target = spec.targets[0]
        return [(target, str(value)) for value in ids if value is not None]

    def referring(self, ctx: Context, param: str, ids: list[str]) -> list[Resource]:
        """Resources whose ``param`` points at one of ``ids`` (for _revinclude)."""
        spec = self._params.get(param)
        if (
            spec is None
            or spec.type != "reference"
            or not ctx.grant.allows(self.resource_type, "s")
        ):
            return []
        condition = fs.NOTHING
        for one in ids:
            condition |= fs.condition(spec, "", one, model=self.model, where=param)
        rows = self.ordered(self.scoped(ctx).filter(condition), [])[: fs.MAX_COUNT]
        return self.rendered(list(rows))

    def compartment(self, ctx: Context, person_id: uuid.UUID) -> list[Resource]:
        """Every resource of this type in one (already opened) person's compartment."""
        if self.person_field is None or not ctx.grant.allows(self.resource_type, "r"):
            return []
        rows = self.scoped(ctx).filter(Q(**{self.person_field: person_id}))
        return self.rendered(list(self.ordered(rows, [])))


def _path_value(row: Any, path: str | None) -> Any:
    if path is None:
        return None
    value = row
    for part in path.split("__"):
        if value is None:
            return None
        value = getattr(value, part)
    return value


# -- rows that keep no change time

WRITTEN_AT = "fhir_written_at"  # set on a row a writer has just saved: the write's moment


class _Stamping:
    """A writer whose saved rows carry the moment they were written (``WRITTEN_AT``)."""

    def __init__(self, writer: RowWriter) -> None:
        self.writer = writer

    def create(self, ctx: Context, body: JSON) -> Any:
        return _stamped(self.writer.create(ctx, body))

    def update(self, ctx: Context, row: Any, body: JSON) -> Any:
        return _stamped(self.writer.update(ctx, row, body))


def _stamped(row: Any) -> Any:
    setattr(row, WRITTEN_AT, timezone.now())
    return row


class UnstampedProvider(ModelProvider):
    """A written type whose rows keep no change time (users, organisations, locations).

    A row never written through FHIR is version 1, last updated when the server started
    (``base_moment``). Once written, its current version is its newest stored one while it
    still renders as that version did, and one more once it renders differently (the
    register, a feed or a web page changed it since): the content decides, because no
    change time can. A restart therefore never makes a new version.
    """

    STARTED = datetime.now().astimezone()

    def __init__(self, *, writer: RowWriter | None = None, **kwargs: Any) -> None:
        super().__init__(writer=_Stamping(writer) if writer else None, **kwargs)

    def base_moment(self, row: Any) -> datetime:  # noqa: ARG002 - subclasses read the row
        return self.STARTED

    def render_rows(self, rows: list[Any]) -> list[Resource]:
        out = []
        for row in rows:
            moment = getattr(row, WRITTEN_AT, None) or self.base_moment(row)
            body = self.to_fhir(row)
            body["meta"] = meta(1, moment, self.profile)
            out.append(Resource(self.resource_type, body["id"], body, 1, moment))
        return out

    def rendered(self, rows: list[Any]) -> list[Resource]:
        out = self.render_rows(rows)
        stored = versions.newest_bodies(self.resource_type, [r.logical_id for r in out])
        for index, resource in enumerate(out):
            found = stored.get(resource.logical_id)
            if found is None:
                continue
            version, moment = found.version, found.last_updated
            if _content(found.body) != _content(resource.body):
                version, moment = version + 1, max(moment, resource.last_updated)
            resource.body["meta"] = meta(version, moment, self.profile)
            out[index] = replace(resource, version=version, last_updated=moment)
        return out


def _content(body: JSON) -> JSON:
    return {k: v for k, v in body.items() if k != "meta"}
