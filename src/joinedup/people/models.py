"""People and the care relationships that open their records to a team.

A ``CareRelationship`` is the legitimate relationship behind every read: a team
(or one named professional) caring for the person, through a care team, an
open referral or a caseload. Ending it (``ended_on``) closes the record to them.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, ClassVar, Self

from django.db import models
from django.db.models import Q
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
        today = timezone.localdate()
        live = Q(ended_on__isnull=True) | Q(ended_on__gte=today)
        related = CareRelationship.objects.filter(
            live, Q(team__in=user.teams.all()) | Q(user=user), started_on__lte=today
        ).values("person_id")
        glass = BreakGlassGrant.objects.filter(user=user, expires_at__gt=timezone.now()).values(
            "person_id"
        )
        return self.filter(Q(id__in=related) | Q(id__in=glass))._scoped(f"user:{user.pk}")


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


class SourceIdentityQuerySet(ScopedQuerySet["SourceIdentity"]):
    def visible_to(self, user: User) -> Self:
        """Identities of the people the user may see (see PersonQuerySet.visible_to)."""
        people = Person.objects.visible_to(user).values("id")
        return self.filter(person_id__in=people)._scoped(f"user:{user.pk}")


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
