"""The Discharge to Assess tracker's tables: stays, discharge ready dates, pathways,
delay reasons, the community referrals owed, the feed builds and saved planner scenarios.

A ``Stay`` is one hospital spell as the tracker knows it: built from the hospital feed
(``services.tracker_build``) and then kept current by the hub's live updates. Stays are
person-level data: they are read through ``Stay.objects.visible_to(user)`` (the user's
care relationships: the hub gets one per admission) or ``for_system("why")`` for
aggregate metrics, never through a bare manager.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Self

from django.conf import settings
from django.db import models

from joinedup.core.access import ScopedQuerySet
from joinedup.people.models import Person, person_visibility

if TYPE_CHECKING:
    from joinedup.core.models import User


class Source(models.TextChoices):
    FEED = "feed", "Hospital feed"
    BOARD = "board", "Discharge board"


class PackageStatus(models.TextChoices):
    NONE = "", "No package before admission"
    ACTIVE = "active", "Package in place"
    PAUSED = "paused", "Package paused"
    LAPSED = "lapsed", "Package lapsed"


class FlagSource(models.TextChoices):
    NONE = "", "Not known"
    RECORD = "record", "Derived from the shared care record"
    BOARD = "board", "Recorded on the discharge board"


class StayQuerySet(ScopedQuerySet["Stay"]):
    def visible_to(self, user: User) -> Self:
        """Stays of the people the user may see (see ``PersonQuerySet.visible_to``)."""
        return self.filter(person_visibility(user, via="person_id"))._scoped(f"user:{user.pk}")


class Stay(models.Model):
    """One hospital spell, from admission to discharge."""

    spell_id = models.CharField(max_length=100, unique=True)  # the hospital's own identifier
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fact_id = models.BigIntegerField(null=True)  # provenance: the record's admission fact
    ward_code = models.CharField(max_length=20, blank=True)
    ward_name = models.CharField(max_length=200, blank=True)
    admitted_at = models.DateTimeField()
    admission_method = models.CharField(max_length=4, blank=True)
    pathway = models.PositiveSmallIntegerField(null=True, blank=True)  # planned, 0-3
    care_home_resident = models.BooleanField(default=False)
    package_status = models.CharField(
        max_length=10, choices=PackageStatus.choices, blank=True, default=PackageStatus.NONE
    )
    # Who set the two flags above: derived from the record at each build, until the board
    # records them (the board always wins).
    flags_source = models.CharField(
        max_length=10, choices=FlagSource.choices, blank=True, default=FlagSource.NONE
    )
    hub_referred_on = models.DateField(null=True, blank=True)
    assessed_on = models.DateField(null=True, blank=True)
    accepted_on = models.DateField(null=True, blank=True)
    service_start_on = models.DateField(null=True, blank=True)
    provider = models.CharField(max_length=200, blank=True)
    discharged_on = models.DateField(null=True, blank=True)
    destination = models.CharField(max_length=100, blank=True)
    died = models.BooleanField(default=False)
    # The hub's care relationships this stay opened (people.CareRelationship ids).
    hub_relationships = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StayQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["admitted_at", "id"]
        indexes: ClassVar = [
            models.Index(fields=["discharged_on"]),
            models.Index(fields=["ward_code", "discharged_on"]),
            models.Index(fields=["person"]),
        ]

    def __str__(self) -> str:
        return f"Stay {self.spell_id}"  # never a name: str() ends up in logs


class ReadyEpisode(models.Model):
    """A time the patient did not meet the criteria to reside, from its discharge ready
    date (DRD). Meeting the criteria again ends it (``ended_on``); the next time they
    stop meeting them, a new episode with a new DRD begins. The open episode at
    discharge is the one whose DRD the delay is counted from."""

    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="episodes")
    ready_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["stay", "ready_on", "id"]
        indexes: ClassVar = [models.Index(fields=["stay", "ended_on"])]

    def __str__(self) -> str:
        return f"DRD {self.ready_on} of stay {self.stay_id}"


class PathwayChange(models.Model):
    """The planned pathway and every change to it."""

    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="pathway_changes")
    pathway = models.PositiveSmallIntegerField()
    changed_on = models.DateField()
    source = models.CharField(max_length=10, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["stay", "changed_on", "id"]

    def __str__(self) -> str:
        return f"pathway {self.pathway} of stay {self.stay_id} from {self.changed_on}"


class DelayReason(models.Model):
    """Why a ready patient is still in hospital: a national situation-report category
    (``reasons.REASONS``), who must act on it, from when to when."""

    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="delay_reasons")
    code = models.CharField(max_length=40)
    text = models.CharField(max_length=300, blank=True)  # the source's own words, or a note
    owner = models.CharField(max_length=40)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["stay", "started_on", "id"]

    def __str__(self) -> str:
        return f"delay {self.code} of stay {self.stay_id}"


class ReferralStatus(models.TextChoices):
    WAITING = "waiting", "Waiting to go to the neighbourhood front door"
    SENT = "sent", "Sent to the neighbourhood front door"


class CommunityReferral(models.Model):
    """A referral the community side is owed: a pathway 1-3 patient became ready.

    Recorded by ``services.community_referral_needed``; the neighbourhoods front door
    takes it from here (see the report on wiring)."""

    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="community_referrals")
    pathway = models.PositiveSmallIntegerField()
    ready_on = models.DateField()
    status = models.CharField(
        max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.WAITING
    )
    front_door_reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["created_at", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["stay", "ready_on", "pathway"], name="one_referral_per_ready_pathway"
            )
        ]

    def __str__(self) -> str:
        return f"community referral for stay {self.stay_id} (pathway {self.pathway})"


class DeliveryBuild(models.Model):
    """One hospital delivery built into the tracker: the build step's resume point."""

    delivery_id = models.BigIntegerField(unique=True)
    built_at = models.DateTimeField()
    stays_created = models.PositiveIntegerField(default=0)
    stays_updated = models.PositiveIntegerField(default=0)
    kept_back = models.JSONField(default=list)  # [[spell id, reason], ...]

    class Meta:
        ordering: ClassVar = ["built_at", "id"]

    def __str__(self) -> str:
        return f"build of delivery {self.delivery_id}"


class PlannerScenario(models.Model):
    """A capacity question saved by name: its inputs and what the simulator answered.

    Aggregate only: fitted rates, capacities and estimates, never a person."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    inputs = models.JSONField()
    results = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name
