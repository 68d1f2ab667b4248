"""The platform's own tables: organisations, neighbourhoods, teams, users, sign-in
throttling, public-form rate windows, break-glass grants and the append-only,
hash-chained audit trail.

Nothing here holds clinical data. Person identifiers appear only as opaque
UUIDs (in audit events and break-glass grants), never as names or NHS numbers.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from joinedup.core.roles import Permission, Role, role_has


class OrganisationKind(models.TextChoices):
    GP_PRACTICE = "gp_practice", "GP practice"
    ACUTE_TRUST = "acute_trust", "Hospital trust"
    COMMUNITY_PROVIDER = "community_provider", "Community services provider"
    MENTAL_HEALTH_TRUST = "mental_health_trust", "Mental health trust"
    LOCAL_AUTHORITY = "local_authority", "Council"
    HOSPICE = "hospice", "Hospice"
    OUT_OF_HOURS = "out_of_hours", "Out-of-hours GP service"
    CARE_HOME = "care_home", "Care home"
    VOLUNTARY = "voluntary", "Voluntary organisation"
    PARTNERSHIP = "partnership", "Partnership"


class Organisation(models.Model):
    ods_code = models.CharField("ODS code", max_length=10, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=OrganisationKind.choices)
    # A GP practice's neighbourhood, from the borough's organisation register.
    neighbourhood = models.ForeignKey(
        "Neighbourhood",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
    )

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})"


class Neighbourhood(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamKind(models.TextChoices):
    INT = "int", "Integrated Neighbourhood Team"
    DISCHARGE_HUB = "discharge_hub", "Discharge hub"
    PRACTICE = "practice", "GP practice team"
    SOCIAL_CARE = "social_care", "Social care team"
    CORPORATE = "corporate", "Corporate team"


class Team(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=TeamKind.choices)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="teams")
    neighbourhood = models.ForeignKey(
        Neighbourhood, on_delete=models.PROTECT, null=True, blank=True, related_name="teams"
    )

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.CheckConstraint(
                name="int_has_neighbourhood",
                condition=~models.Q(kind="int") | models.Q(neighbourhood__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(max_length=30, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    teams = models.ManyToManyField(Team, blank=True, related_name="members")
    # The identity provider's subject for this user, when they sign in with OIDC.
    oidc_subject = models.CharField(max_length=255, null=True, blank=True, unique=True)

    def has_role_permission(self, permission: Permission) -> bool:
        return self.is_active and role_has(self.role, permission)

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role in Role.values else "No role"


class SignInThrottle(models.Model):
    """Failed sign-ins per username (known or not, so lockout reveals nothing)."""

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True)
    locked_until = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.failures} failed sign-ins for {self.username}"


class RateWindow(models.Model):
    """How many times one client used one public form in one fixed window of time.

    The client is an HMAC of its address (or of an email address), never the address
    itself, so the table holds nothing that identifies anyone.
    """

    scope = models.CharField(max_length=40)
    client = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["scope", "client", "window_start"], name="one_count_per_window"
            )
        ]
        indexes: ClassVar = [models.Index(fields=["window_start"])]

    def __str__(self) -> str:
        return f"{self.count} uses of {self.scope} from {self.window_start:%Y-%m-%d %H:%M}"


class BreakGlassReason(models.TextChoices):
    EMERGENCY = "emergency", "Emergency care: the person needs care now"
    SAFEGUARDING = "safeguarding", "Safeguarding concern"
    UNPLANNED = "unplanned", "Unplanned contact: the person is with me and consents"
    OTHER = "other", "Another reason (explain below)"


class BreakGlassOutcome(models.TextChoices):
    APPROPRIATE = "appropriate", "Appropriate"
    INAPPROPRIATE = "inappropriate", "Not appropriate: refer to the Caldicott Guardian"


class BreakGlassGrant(models.Model):
    """Time-limited access to one person's record without a prior relationship."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="break_glass_grants")
    person_id = models.UUIDField(db_index=True)
    reason = models.CharField(max_length=20, choices=BreakGlassReason.choices)
    explanation = models.TextField()
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=BreakGlassOutcome.choices, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["-granted_at"]
        indexes: ClassVar = [models.Index(fields=["user", "person_id", "expires_at"])]

    def __str__(self) -> str:
        return f"Break-glass by user {self.user_id} at {self.granted_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()


class AuditAction(models.TextChoices):
    READ = "read", "Read"
    SEARCH = "search", "Search"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    EXPORT = "export", "Export"
    DENY = "deny", "Access denied"
    BREAK_GLASS = "break_glass", "Break-glass"
    REVIEW = "review", "Review"
    SIGN_IN = "sign_in", "Sign in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    SIGN_OUT = "sign_out", "Sign out"
    ADMIN = "admin", "Administration"


class Channel(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    FHIR = "fhir", "FHIR API"
    CLI = "cli", "Command line"
    SYSTEM = "system", "System"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("the audit trail is append-only: events are never updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("the audit trail is append-only: events are never deleted")


class AuditEvent(models.Model):
    """One append-only entry in the hash-chained audit trail (see joinedup.core.audit)."""

    occurred_at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True)  # not a foreign key: the trail outlives users
    actor_username = models.CharField(max_length=150)
    actor_role = models.CharField(max_length=30, blank=True)
    actor_organisation = models.CharField(max_length=10, blank=True)
    person_id = models.UUIDField(null=True, db_index=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    resource = models.CharField(max_length=100)
    outcome = models.CharField(max_length=10, default="allowed")
    reason = models.TextField(blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["id"]
        # "What happened to this thing" (a milestone's history, a panel's draws) reads by
        # resource; without it such a page scans the whole trail (0.7 s at a million events).
        indexes: ClassVar = [models.Index(fields=["resource", "id"], name="audit_by_resource")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.action} {self.resource}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("the audit trail is append-only: events are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("the audit trail is append-only: events are never deleted")


class AuditChainHead(models.Model):
    """A single row holding the newest hash; locking it serialises appends to the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    # The head before the newest event: lets PostgreSQL move the head and insert the event in
    # one statement (core.audit), since an UPDATE's RETURNING sees only the new values.
    prev_hash = models.CharField(max_length=64, default="")
    length = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Audit chain of {self.length} events ending {self.last_hash[:12]}"
