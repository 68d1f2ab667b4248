"""People and the care relationships that open their records to a team.

A ``CareRelationship`` is the legitimate relationship behind every read: a team
(or one named professional) caring for the person, through a care team, an
open referral or a caseload. Ending it (``ended_on``) closes the record to them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence, Sized
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.db import models
from django.db.models import BooleanField, Expression, F, Q
from django.db.models.expressions import Col
from django.db.models.lookups import Exact, In
from django.db.models.sql import Query
from django.db.models.sql.where import AND, WhereNode
from django.utils import timezone

from joinedup.core.access import ScopedQuerySet
from joinedup.core.models import BreakGlassGrant, Organisation, Team
from joinedup.core.roles import Permission

if TYPE_CHECKING:
    from joinedup.core.models import User


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Not known"


class PersonQuerySet(ScopedQuerySet["Person"]):
    def visible_to(self, user: User) -> Self:
        """People this user has a legitimate relationship with, or a live break-glass grant for."""
        if not (user.is_authenticated and user.has_role_permission(Permission.VIEW_PERSON)):
            return self.none()._scoped(f"user:{user.pk}")
        return self.filter(person_visibility(user))._scoped(f"user:{user.pk}")


def person_visibility(user: User, *, via: str = "id") -> Q:
    """The access rule for ``user`` as one filter condition on the person at path ``via``.

    A person is visible through a live care relationship (started on or before today, not
    ended before today) with one of the user's teams or with the user, or through the
    user's unexpired break-glass grant, and only to a role that gives direct care. ``via``
    names the person's id on the filtered model (``"id"`` for Person itself,
    ``"person_id"`` or ``"identity__person_id"`` for rows about a person), so querysets
    of rows about a person can apply the rule directly, without a subquery over Person
    (which would read the whole caseload even to show one person's rows).
    """
    if not (user.is_authenticated and user.has_role_permission(Permission.VIEW_PERSON)):
        return Q(pk__in=[])
    rule = VisibleTo(F(via), user_id=user.pk, today=timezone.localdate(), now=timezone.now())
    return Q(rule)


class VisibleTo(Expression):
    """The access rule as one WHERE condition that picks its SQL shape when compiled.

    ``id IN (the user's caseload)`` suits a list: the database reads the caseload once and
    checks each row against it. For a query that pins one person (or a few), by its id,
    its NHS number or another unique column, or through the person's id, that form still
    reads the whole caseload first: about 14 ms for a caseload of 10,000 on both SQLite
    and PostgreSQL. So such a query gets the same rule as correlated ``EXISTS`` probes,
    which read only that person's relationships. Correlated probes are never used for
    lists: for a small caseload in a large population they would test every person in
    the table (200 ms against 20 ms at 100,000 people on SQLite). The caseload is one
    ``IN`` over a union of its three sources (the user's teams, the user by name, live
    grants): PostgreSQL joins that with the person table from the caseload's side, where
    an ``OR`` of two ``IN``s made it test all 295,000 people (a name search for a
    200-person caseload: 230-380 ms before, 1-2 ms after; docs/benchmarks.md).

    The SQL is written here rather than built with the ORM because building the two
    subqueries through querysets cost more than running them (about 3 ms a request). It is
    plain SQL that SQLite and PostgreSQL both run, over table and column names taken from
    the models; ``tests/integration/people/test_visibility_shapes.py`` holds both shapes to
    the rule worked out in Python, case by case (ended, not yet started, another team's,
    named user, break-glass). A change to the rule is made here, in both shapes.
    """

    output_field = BooleanField()
    few = 100  # an ``__in`` list of at most this many values pins rows

    def __init__(self, anchor: Any, *, user_id: int, today: date, now: datetime) -> None:
        super().__init__()
        self.anchor: Any = anchor
        self.user_id = user_id
        self.today = today
        self.now = now

    def get_source_expressions(self) -> list[Any]:
        return [self.anchor]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.anchor,) = exprs

    def resolve_expression(
        self,
        query: Any = None,
        allow_joins: bool = True,
        reuse: Any = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> VisibleTo:
        resolved = self.copy()
        resolved.anchor = self.anchor.resolve_expression(query, allow_joins, reuse, summarize)
        return resolved

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        anchor, anchor_params = compiler.compile(self.anchor)
        rel, glass, member = _rule_tables(connection.ops.quote_name)
        today = connection.ops.adapt_datefield_value(self.today)
        now = connection.ops.adapt_datetimefield_value(self.now)
        uid = self.user_id
        # Only table and column names (from the models) are formatted in; values are parameters.
        teams = f"SELECT jv_m.{member.team} FROM {member.table} jv_m WHERE jv_m.{member.user} = %s"  # noqa: S608
        dates = f"jv_r.{rel.started} <= %s AND (jv_r.{rel.ended} IS NULL OR jv_r.{rel.ended} >= %s)"
        granted = f"jv_g.{glass.user} = %s AND jv_g.{glass.expires} > %s"
        if _pins_rows(compiler.query.where, compiler.query.base_table, self.anchor):
            sql = (
                f"(EXISTS (SELECT 1 FROM {rel.table} jv_r WHERE jv_r.{rel.person} = {anchor}"  # noqa: S608
                f" AND {dates} AND (jv_r.{rel.user} = %s OR jv_r.{rel.team} IN ({teams})))"
                f" OR EXISTS (SELECT 1 FROM {glass.table} jv_g"
                f" WHERE jv_g.{glass.person} = {anchor} AND {granted}))"
            )
            # The anchor comes first in each probe, then the relationship rule, then the grant.
            params = [*anchor_params, today, today, uid, uid, *anchor_params, uid, now]
            return sql, params
        # One IN over a union, not an OR of two: PostgreSQL can join a single IN with the
        # caseload (reading only those people), but tests every person in the table against
        # an OR of subqueries; and the team and named-user branches are separate so each
        # reads its own index rather than every relationship.
        sql = (
            f"{anchor} IN (SELECT jv_r.{rel.person} FROM {rel.table} jv_r"  # noqa: S608
            f" WHERE jv_r.{rel.team} IN ({teams}) AND {dates}"
            f" UNION ALL SELECT jv_r.{rel.person} FROM {rel.table} jv_r"
            f" WHERE jv_r.{rel.user} = %s AND {dates}"
            f" UNION ALL SELECT jv_g.{glass.person} FROM {glass.table} jv_g WHERE {granted})"
        )
        return sql, [*anchor_params, uid, today, today, uid, today, today, uid, now]


@dataclass(frozen=True)
class _Columns:
    table: str
    person: str = ""
    team: str = ""
    user: str = ""
    started: str = ""
    ended: str = ""
    expires: str = ""


def _rule_tables(quote: Callable[[str], str]) -> tuple[_Columns, _Columns, _Columns]:
    """The quoted tables and columns the access rule reads, from the models themselves."""
    from joinedup.core.models import User

    def column(model: type[models.Model], name: str) -> str:
        field = model._meta.get_field(name)
        if not isinstance(field, models.Field):
            raise TypeError(f"{model.__name__}.{name} is not a column")
        return quote(field.column)

    rel = _Columns(
        table=quote(CareRelationship._meta.db_table),
        person=column(CareRelationship, "person"),
        team=column(CareRelationship, "team"),
        user=column(CareRelationship, "user"),
        started=column(CareRelationship, "started_on"),
        ended=column(CareRelationship, "ended_on"),
    )
    glass = _Columns(
        table=quote(BreakGlassGrant._meta.db_table),
        person=column(BreakGlassGrant, "person_id"),
        user=column(BreakGlassGrant, "user"),
        expires=column(BreakGlassGrant, "expires_at"),
    )
    through = User.teams.through
    member = _Columns(
        table=quote(through._meta.db_table),
        team=column(through, "team"),
        user=column(through, "user"),
    )
    return rel, glass, member


def _pins_rows(node: Any, base: str | None, anchor: Any) -> bool:
    """Whether ``node`` limits the query to one or a few rows: one of its AND-ed conditions
    does, or every branch of its OR does (FHIR search writes ``a=1`` as ``nothing OR a=1``)."""
    if node.negated or not node.children:
        return False
    pins = [
        _pins_rows(child, base, anchor)
        if isinstance(child, WhereNode)
        else _pins(child, base, anchor)
        for child in node.children
    ]
    return any(pins) if node.connector == AND else all(pins)


def _pins(lookup: Any, base: str | None, anchor: Any) -> bool:
    """An exact match, or a short list of values, on a unique column or the person's id."""
    if not (isinstance(lookup, Exact | In) and _pins_column(lookup.lhs, base, anchor)):
        return False
    rhs = lookup.rhs
    if isinstance(rhs, Query):
        return False
    return not isinstance(lookup, In) or (isinstance(rhs, Sized) and len(rhs) <= VisibleTo.few)


def _pins_column(lhs: Any, base: str | None, anchor: Any) -> bool:
    if not isinstance(lhs, Col):
        return False
    if isinstance(anchor, Col) and (lhs.alias, lhs.target) == (anchor.alias, anchor.target):
        return True
    target = lhs.target
    return lhs.alias == base and bool(target.primary_key or target.unique)


class Person(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    nhs_number = models.CharField("NHS number", max_length=10, null=True, blank=True, unique=True)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    registered_practice = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    date_of_death = models.DateField(null=True, blank=True)
    # NHS Data Dictionary ethnic category as the person stated it to their GP (Z: not stated).
    ethnic_category = models.CharField(max_length=1, blank=True)
    # The National Data Opt-out: not used beyond the person's own care.
    opted_out_secondary_use = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()
    # Set by people.services.person_open on a person it has checked and audited for a user.
    opened_for: int | None = None

    class Meta:
        ordering: ClassVar = ["family_name", "given_name"]
        indexes: ClassVar = [
            models.Index(fields=["family_name", "given_name", "date_of_birth"]),
            models.Index(fields=["postcode"]),
        ]

    def __str__(self) -> str:
        return f"Person {self.id}"  # never a name: str() ends up in logs

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name.upper()}"

    def age_on(self, day: date) -> int | None:
        born = self.date_of_birth
        if born is None:
            return None
        end = self.date_of_death if self.date_of_death and self.date_of_death < day else day
        return end.year - born.year - ((end.month, end.day) < (born.month, born.day))


class RelationshipKind(models.TextChoices):
    CARE_TEAM = "care_team", "Care team"
    REFERRAL = "referral", "Open referral"
    CASELOAD = "caseload", "Caseload"
    REGISTERED = "registered", "Registered patient"


class CareRelationship(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relationships")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="relationships")
    # A named professional, when the relationship is with one person rather than the team.
    user = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=RelationshipKind.choices)
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["started_on"]
        indexes: ClassVar = [models.Index(fields=["team", "person"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.team} for {self.person_id}"


class LinkMethod(models.TextChoices):
    UNLINKED = "unlinked", "Not yet linked"
    NHS_NUMBER = "nhs_number", "NHS number"
    PROBABILISTIC = "probabilistic", "Probabilistic match"
    CONFIRMED = "confirmed", "Confirmed by a reviewer"
    NEW_PERSON = "new_person", "New person"
    MANUAL = "manual", "Linked by hand"
    WRITER = "writer", "Named by the writing system"


class SourceIdentityQuerySet(ScopedQuerySet["SourceIdentity"]):
    def visible_to(self, user: User) -> Self:
        """Identities of the people the user may see (see PersonQuerySet.visible_to)."""
        return self.filter(person_visibility(user, via="person_id"))._scoped(f"user:{user.pk}")


class SourceIdentity(models.Model):
    """One person as one source system knows them: its own identifier and demographics.

    Facts hang off the identity, never off the person, so linking an identity to a
    person, or unlinking it, never moves or loses a fact.
    """

    source = models.CharField(max_length=40)  # the feed, e.g. "hospital"
    source_id = models.CharField(max_length=100)  # the source system's local identifier
    nhs_number = models.CharField(max_length=10, blank=True)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True)
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    practice_code = models.CharField(max_length=10, blank=True)
    date_of_death = models.DateField(null=True)
    # NHS Data Dictionary ethnic category (A-S, Z not stated); blank where the source has none.
    ethnic_category = models.CharField(max_length=1, blank=True)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="identities"
    )
    link_method = models.CharField(
        max_length=20, choices=LinkMethod.choices, default=LinkMethod.UNLINKED
    )
    link_probability = models.FloatField(null=True)
    link_explanation = models.JSONField(default=list)
    delivery_id = models.BigIntegerField()  # provenance: the latest delivery that sent it
    received_at = models.DateTimeField()

    objects = SourceIdentityQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["source", "source_id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["source", "source_id"], name="one_identity_per_source_id"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["nhs_number"]),
            models.Index(fields=["person"]),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_id}"


class LinkageRun(models.Model):
    """One run of the linker: the trained model it used, its thresholds and what it did."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    incremental = models.BooleanField(default=False)
    model_json = models.TextField()
    auto_link_threshold = models.FloatField()
    review_threshold = models.FloatField()
    stats = models.JSONField(default=dict)

    class Meta:
        ordering: ClassVar = ["-started_at"]

    def __str__(self) -> str:
        return f"Linkage run {self.pk} at {self.started_at:%Y-%m-%d %H:%M}"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    CONFIRMED = "confirmed", "Same person"
    REJECTED = "rejected", "Different people"


class LinkReviewQuerySet(ScopedQuerySet["LinkReview"]):
    pass


class LinkReview(models.Model):
    """A possible match the linker was not sure of; a reviewer decides, records side by side."""

    run = models.ForeignKey(LinkageRun, on_delete=models.PROTECT, related_name="reviews")
    left = models.ForeignKey(SourceIdentity, on_delete=models.PROTECT, related_name="+")
    right = models.ForeignKey(SourceIdentity, on_delete=models.PROTECT, related_name="+")
    match_probability = models.FloatField()
    match_weight = models.FloatField()
    explanation = models.JSONField(default=list)
    status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    decided_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = LinkReviewQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-match_probability", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["left", "right"], name="one_review_per_pair")
        ]

    def __str__(self) -> str:
        return f"Review {self.pk}: {self.left_id} ~ {self.right_id} ({self.status})"
