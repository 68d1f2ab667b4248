"""Integrated Neighbourhood Teams: the front door, caseloads, tasks, care plans, packages
of care and MDT meetings.

Every row about a person is read through a scoped queryset (``visible_to(user)`` or
``for_system(purpose)``, see ``joinedup.core.access``): a team sees the people it has a
care relationship with. Referrals are the one exception to "relationship first": the
team a referral is routed to, and the person who made it, may read the referral itself
(not the person's record) before any relationship exists; that is what a referral is.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar, Self, TypeVar

from django.db import models
from django.db.models import Q

from joinedup.core.access import ScopedQuerySet
from joinedup.core.models import Neighbourhood, Team
from joinedup.core.roles import Permission, Role
from joinedup.people.models import Person, person_visibility

if TYPE_CHECKING:
    from joinedup.core.models import User


def _visible_people(user: User) -> Q:
    """The access rule on the row's own ``person_id`` (see ``PersonQuerySet.visible_to``)."""
    return person_visibility(user, via="person_id")


M = TypeVar("M", bound=models.Model)


class PersonScopedQuerySet(ScopedQuerySet[M]):
    """Rows about a person: visible when the person is (see ``PersonQuerySet.visible_to``)."""

    def visible_to(self, user: User) -> Self:
        return self.filter(_visible_people(user))._scoped(f"user:{user.pk}")


# ---------------------------------------------------------------------------- front door


class Need(models.TextChoices):
    NURSING = "nursing", "Nursing care at home (for example wounds, injections, catheters)"
    PERSONAL_CARE = "personal_care", "Help with personal care or daily living (social care)"
    MOBILITY = "mobility", "Mobility, falls or equipment at home"
    FRAILTY = "frailty", "Frailty or several long-term conditions"
    MENTAL_HEALTH = "mental_health", "Mental health or memory"
    END_OF_LIFE = "end_of_life", "Care towards the end of life"
    CARER = "carer", "Support for a carer"
    CHILD_FAMILY = "child_family", "A child, young person or family needs support"
    OTHER = "other", "Something else"


class Urgency(models.TextChoices):
    URGENT = "urgent", "Urgent: needs a response today"
    ROUTINE = "routine", "Routine"


class ReferrerKind(models.TextChoices):
    PROFESSIONAL = "professional", "A professional"
    SELF = "self", "The person themselves"
    CARER = "carer", "A carer, relative or friend"


class ReferralStatus(models.TextChoices):
    DRAFT = "draft", "Draft (not sent)"
    RECEIVED = "received", "Received"
    TRIAGED = "triaged", "Triaged"
    ACCEPTED = "accepted", "Accepted"
    REDIRECTED = "redirected", "Redirected"
    CLOSED = "closed", "Closed"


# Which states may follow which. A referral is never rejected: declining means redirecting.
TRANSITIONS: dict[str, frozenset[str]] = {
    ReferralStatus.DRAFT: frozenset({ReferralStatus.RECEIVED}),
    ReferralStatus.RECEIVED: frozenset({ReferralStatus.TRIAGED, ReferralStatus.REDIRECTED}),
    ReferralStatus.REDIRECTED: frozenset({ReferralStatus.TRIAGED, ReferralStatus.REDIRECTED}),
    ReferralStatus.TRIAGED: frozenset({ReferralStatus.ACCEPTED, ReferralStatus.REDIRECTED}),
    ReferralStatus.ACCEPTED: frozenset({ReferralStatus.CLOSED}),
    ReferralStatus.CLOSED: frozenset(),
}
WAITING_FOR_TRIAGE = (ReferralStatus.RECEIVED, ReferralStatus.REDIRECTED)


class PostcodeArea(models.Model):
    """Which neighbourhood a postcode lies in (from the borough's postcode register)."""

    postcode = models.CharField(max_length=10, unique=True)
    neighbourhood = models.ForeignKey(Neighbourhood, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"{self.postcode} in {self.neighbourhood_id}"


class RoutingRule(models.Model):
    """One routing rule: conditions left empty match anything (see ``routing.py``)."""

    name = models.CharField(max_length=200)
    priority = models.PositiveIntegerField(help_text="Lower numbers are tried first.")
    active = models.BooleanField(default=True)
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)
    need = models.CharField(max_length=20, choices=Need.choices, blank=True)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, blank=True)
    safeguarding = models.BooleanField(null=True, blank=True)
    neighbourhood = models.ForeignKey(
        Neighbourhood, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Empty: the Integrated Neighbourhood Team of the referral's neighbourhood.
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["priority", "id"]

    def __str__(self) -> str:
        return f"Rule {self.priority}: {self.name}"


class ReferralQuerySet(ScopedQuerySet["Referral"]):
    def visible_to(self, user: User) -> Self:
        """Referrals the user made, or that are with their teams; care coordinators also
        see referrals no rule could route, so that a person sends each one on by hand."""
        seen = Q(created_by=user) | Q(team__in=user.teams.all())
        if user.role == Role.CARE_COORDINATOR:
            seen |= Q(team__isnull=True, status__in=WAITING_FOR_TRIAGE)
        if not user.has_role_permission(Permission.VIEW_PERSON):
            seen = Q(created_by=user)
        return (
            self.filter(seen)
            .exclude(Q(status=ReferralStatus.DRAFT) & ~Q(created_by=user))
            ._scoped(f"user:{user.pk}")
        )


class Referral(models.Model):
    """A referral through the one front door: kept from the first keystroke as a draft."""

    id = models.BigAutoField(primary_key=True)
    # Everything typed into the form, as typed: a half-filled referral is never lost.
    form = models.JSONField(default=dict)
    draft_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT
    )
    referrer_kind = models.CharField(max_length=12, choices=ReferrerKind.choices)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    referrer_name = models.CharField(max_length=200, blank=True)
    referrer_contact = models.CharField(max_length=200, blank=True)
    # The person, as the referrer describes them.
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    nhs_number = models.CharField(max_length=10, blank=True)
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    need = models.CharField(max_length=20, choices=Need.choices, blank=True)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, blank=True)
    safeguarding = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    consent = models.BooleanField(default=False)
    # The person in the index the referral was matched to (never shown to the referrer).
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    neighbourhood = models.ForeignKey(
        Neighbourhood, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    rule = models.ForeignKey(
        RoutingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    received_at = models.DateTimeField(null=True, blank=True)
    arrived_at_team = models.DateTimeField(null=True, blank=True)  # the SLA clock's start
    triage_due_at = models.DateTimeField(null=True, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    triage_note = models.TextField(blank=True)
    outcome = models.TextField(blank=True)
    # When anything about it last changed (its FHIR version and lastUpdated follow this).
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-received_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["team", "status"])]

    def __str__(self) -> str:
        return f"Referral {self.reference}"

    @property
    def reference(self) -> str:
        return f"R{self.pk:06d}"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name.upper()}".strip()


class ReferralEvent(models.Model):
    """Each change of state, timed, with who did it and why (the audit trail has it too)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    status_from = models.CharField(max_length=12, choices=ReferralStatus.choices, blank=True)
    status_to = models.CharField(max_length=12, choices=ReferralStatus.choices)
    from_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.referral_id}: {self.status_from} -> {self.status_to}"


# ------------------------------------------------------------------------------ caseloads


class LivesAlone(models.TextChoices):
    YES = "yes", "Lives alone"
    NO = "no", "Lives with others"
    UNKNOWN = "unknown", "Not known"


class CaseloadQuerySet(PersonScopedQuerySet["CaseloadEntry"]):
    pass


class CaseloadEntry(models.Model):
    """A person on a team's caseload: why, who is their key worker, when to review."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="caseload")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300)
    key_worker = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lives_alone = models.CharField(
        max_length=10, choices=LivesAlone.choices, default=LivesAlone.UNKNOWN
    )
    last_contact_on = models.DateField(null=True, blank=True)
    next_review_on = models.DateField(null=True, blank=True)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)  # why they left the caseload
    referral = models.ForeignKey(
        Referral, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Risk as last computed (services.caseload_risk_refresh): pages read it, never compute it.
    frailty = models.CharField(max_length=10, blank=True)
    emergency_admissions = models.PositiveSmallIntegerField(null=True, blank=True)
    risk_updated_at = models.DateTimeField(null=True, blank=True)
    # When the entry itself last changed (not its risk): its FHIR version follows this.
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseloadQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["next_review_on", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["team", "person"],
                condition=Q(ended_on__isnull=True),
                name="one_open_caseload_entry",
            )
        ]
        indexes: ClassVar = [models.Index(fields=["team", "ended_on"])]

    def __str__(self) -> str:
        return f"Caseload entry {self.pk} of team {self.team_id}"


# ---------------------------------------------------------------------------------- tasks


class TaskStatus(models.TextChoices):
    OPEN = "open", "To do"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class TaskQuerySet(ScopedQuerySet["Task"]):
    def visible_to(self, user: User) -> Self:
        """Tasks of the user's teams, or the user's own, about people the user may see."""
        about = Q(person__isnull=True) | _visible_people(user)
        mine = Q(owner=user) | Q(team__in=user.teams.all())
        return self.filter(about & mine)._scoped(f"user:{user.pk}")


class Task(models.Model):
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    decision = models.ForeignKey(
        "MdtDecision", on_delete=models.PROTECT, null=True, blank=True, related_name="tasks"
    )
    # When it last changed (reassigned, done): its FHIR version and lastUpdated follow this.
    updated_at = models.DateTimeField(auto_now=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["due_on", "id"]
        indexes: ClassVar = [
            models.Index(fields=["owner", "status", "due_on"]),
            models.Index(fields=["person", "status"]),
        ]

    def __str__(self) -> str:
        return f"Task {self.pk}"


# ----------------------------------------------------------------------------- care plans


class CarePlanQuerySet(PersonScopedQuerySet["CarePlan"]):
    pass


class CarePlan(models.Model):
    """One shared care plan per person, versioned; saves use optimistic concurrency."""

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="+")
    what_matters = models.TextField(blank=True)
    goals = models.JSONField(default=list)  # [{"id", "text"}]
    actions = models.JSONField(default=list)  # [{"id", "text", "responsible", "organisation"}]
    contingency = models.TextField(blank=True)
    review_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = CarePlanQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Care plan {self.pk} v{self.version}"


class CarePlanVersion(models.Model):
    """The plan's content as saved at each version, for history and three-way merges."""

    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    content = models.JSONField()
    saved_at = models.DateTimeField()
    saved_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["plan", "-version"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["plan", "version"], name="one_row_per_plan_version")
        ]

    def __str__(self) -> str:
        return f"Care plan {self.plan_id} version {self.version}"


# ------------------------------------------------------------------------ packages of care


class Service(models.TextChoices):
    HOME_CARE = "home_care", "Home care"
    REABLEMENT = "reablement", "Reablement"
    DISTRICT_NURSING = "district_nursing", "District nursing visits"
    EQUIPMENT = "equipment", "Equipment"
    DAY_CARE = "day_care", "Day care"
    RESPITE = "respite", "Respite"


class CarePackageQuerySet(PersonScopedQuerySet["CarePackage"]):
    pass


class CarePackage(models.Model):
    """One service a person receives, from one provider, for a period, at a weekly cost."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    service = models.CharField(max_length=20, choices=Service.choices)
    provider = models.CharField(max_length=200)
    hours_per_week = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    visits_per_week = models.PositiveSmallIntegerField(null=True, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    weekly_cost = models.DecimalField(max_digits=10, decimal_places=2)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = CarePackageQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-starts_on", "id"]
        indexes: ClassVar = [models.Index(fields=["team", "ends_on"])]

    def __str__(self) -> str:
        return f"Package {self.pk} ({self.service})"


# ---------------------------------------------------------------------------- MDT meetings


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held: minutes written"


class MdtMeeting(models.Model):
    """A team's multidisciplinary meeting (team-level; its items are person-level)."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    attendees = models.ManyToManyField("core.User", blank=True, related_name="+")
    other_attendees = models.TextField(blank=True)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    held_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-starts_at"]

    def __str__(self) -> str:
        return f"MDT {self.pk} of team {self.team_id}"


class AgendaReason(models.TextChoices):
    REVIEW_DUE = "review_due", "Review due"
    HIGH_RISK = "high_risk", "New high-risk person"
    REFERRAL = "referral", "Referral needing discussion"
    ADDED = "added", "Added by the team"


class MdtItemQuerySet(ScopedQuerySet["MdtItem"]):
    def visible_to(self, user: User) -> Self:
        """Items of the user's teams' meetings, about people (or referrals) they may see."""
        about = _visible_people(user) | Q(person__isnull=True, referral__team__in=user.teams.all())
        return self.filter(about, meeting__team__in=user.teams.all())._scoped(f"user:{user.pk}")


class MdtItem(models.Model):
    meeting = models.ForeignKey(MdtMeeting, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=12, choices=AgendaReason.choices)
    detail = models.CharField(max_length=300, blank=True)
    discussion = models.TextField(blank=True)
    discussed = models.BooleanField(default=False)

    objects = MdtItemQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["meeting", "position"]

    def __str__(self) -> str:
        return f"MDT item {self.pk}"


class MdtDecision(models.Model):
    item = models.ForeignKey(MdtItem, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"MDT decision {self.pk}"
