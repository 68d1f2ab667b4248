"""Deliveries of source files, quarantined rows, and the facts accepted from them."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Self

from django.db import models

from joinedup.core.access import ScopedQuerySet, UnscopedQuery
from joinedup.people.models import Person, SourceIdentity, person_visibility

if TYPE_CHECKING:
    from joinedup.core.models import User


class DeliveryStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One file of one feed, as received. Its checksum makes a re-delivery a no-op."""

    feed = models.CharField(max_length=40)
    path = models.CharField(max_length=300)  # relative to the delivery folder
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    received_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    rows_in = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    # The next data line to read: everything before it is committed (the resume point).
    next_line = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["received_at", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["feed", "path", "sha256"], name="one_delivery_per_file")
        ]

    def __str__(self) -> str:
        return f"{self.feed}/{self.path} ({self.status})"


class QuarantinedRow(models.Model):
    """A row that failed validation, kept whole with the reason, for the source to correct."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="rejected")
    line = models.PositiveIntegerField()  # 1-based line in the file, header included
    field = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=300)
    raw = models.TextField()

    class Meta:
        ordering: ClassVar = ["delivery", "line"]
        indexes: ClassVar = [models.Index(fields=["delivery", "line"])]

    def __str__(self) -> str:
        return f"{self.delivery_id}:{self.line} {self.reason}"


class FactKind(models.TextChoices):
    ENCOUNTER = "encounter", "GP encounter"
    CONDITION = "condition", "Condition"
    OBSERVATION = "observation", "Observation"
    MEDICATION = "medication", "Medication"
    IMMUNISATION = "immunisation", "Immunisation"
    ALLERGY = "allergy", "Allergy"
    DIAGNOSTIC_REPORT = "diagnostic_report", "Lab report"
    ADMISSION = "admission", "Hospital admission"
    COMMUNITY_REFERRAL = "community_referral", "Community referral"
    COMMUNITY_CONTACT = "community_contact", "Community contact"
    ASSESSMENT = "assessment", "Social care assessment"
    PACKAGE = "package", "Package of care"
    CHILD_REFERRAL = "child_referral", "Children's social care referral"
    EARLY_HELP = "early_help", "Early help"
    HOSPICE_EPISODE = "hospice_episode", "Hospice episode"
    DEATH = "death", "Death registration"


class FactQuerySet(ScopedQuerySet["Fact"]):
    def visible_to(self, user: User) -> Self:
        """Facts about the people the user may see (see PersonQuerySet.visible_to), the rule
        applied on the fact's own person column (no subquery over Person)."""
        rule = person_visibility(user, via="identity__person_id")
        return self.filter(rule)._scoped(f"user:{user.pk}")

    def of_opened_person(self, person: Person) -> Self:
        """Facts about a person the caller opened through ``people.services.person_open``,
        which checked the relationship and audited the read; any other person is refused."""
        opened_for = getattr(person, "opened_for", None)
        if opened_for is None:
            raise UnscopedQuery("facts were asked for a person who was not opened with person_open")
        return self.filter(identity__person_id=person.id)._scoped(f"user:{opened_for}")


class Fact(models.Model):
    """One clinical or care event from one source, with its provenance."""

    identity = models.ForeignKey(SourceIdentity, on_delete=models.PROTECT, related_name="facts")
    source = models.CharField(max_length=40)
    record_id = models.CharField(max_length=100)  # the source system's own identifier
    kind = models.CharField(max_length=20, choices=FactKind.choices)
    occurred_at = models.DateTimeField(null=True)
    ended_at = models.DateTimeField(null=True)
    code_system = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=40, blank=True)
    display = models.CharField(max_length=300, blank=True)
    value = models.FloatField(null=True)
    value_text = models.CharField(max_length=200, blank=True)
    unit = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=40, blank=True)
    organisation = models.CharField(max_length=20, blank=True)  # ODS code of who recorded it
    detail = models.JSONField(default=dict)
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="facts")
    received_at = models.DateTimeField()

    objects = FactQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-occurred_at", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["source", "kind", "record_id"], name="one_fact_per_record"
            )
        ]
        indexes: ClassVar = [models.Index(fields=["identity", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.source}:{self.record_id}"


class AttestationQuerySet(ScopedQuerySet["Attestation"]):
    def visible_to(self, user: User) -> Self:
        """Statements about records of the people the user may see (the facts' rule)."""
        rule = person_visibility(user, via="fact__identity__person_id")
        return self.filter(rule)._scoped(f"user:{user.pk}")


class Attestation(models.Model):
    """A writing system's statement of how a record it wrote through the API came to be
    (a written FHIR Provenance): who took part, when, what was done, why, and from what.

    It is the writer's word, kept beside the record's own provenance (the fact's source
    and delivery), never instead of it: only the organisation that wrote the fact may
    state it, and a feed's fact has none (its feed is its provenance). The lists hold the
    statement's parts as ``record.writes.AttestationValues`` describes them.
    """

    fact = models.ForeignKey(Fact, on_delete=models.PROTECT, related_name="attestations")
    target_type = models.CharField(max_length=40)  # the resource type the statement named
    organisation = models.CharField(max_length=20)  # ODS code of the writing organisation
    system = models.CharField(max_length=100)  # the writing API client
    recorded = models.DateTimeField()  # when the writer says the statement was made
    occurred_at = models.DateTimeField(null=True)
    activity = models.JSONField(default=dict)  # one coding: system, code, display
    agents = models.JSONField(default=list)
    reasons = models.JSONField(default=list)
    entities = models.JSONField(default=list)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = AttestationQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return f"attestation {self.pk} of fact {self.fact_id}"
