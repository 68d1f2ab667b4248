"""The care-home register: homes, the practices they can align to, and every alignment change.

A care home here is the scheme's view of it (beds, type, location, aligned practice);
the home as an organisation (its ODS code and name, shared with the workforce baseline)
stays in ``core.Organisation`` and is linked, never copied. Nothing here is person-level:
residents are found from the shared record when a page needs them (``selectors``).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone

from joinedup.core.models import Neighbourhood, Organisation


class CareHomeKind(models.TextChoices):
    RESIDENTIAL = "residential", "Residential"
    NURSING = "nursing", "Nursing"


class CareHome(models.Model):
    code = models.CharField("code", max_length=10, unique=True)  # the register's ODS-style code
    cqc_location_id = models.CharField("CQC location ID", max_length=20, blank=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=CareHomeKind.choices)
    beds = models.PositiveIntegerField()
    postcode = models.CharField(max_length=10)
    latitude = models.FloatField()
    longitude = models.FloatField()
    lsoa_code = models.CharField("LSOA", max_length=12, blank=True)
    neighbourhood = models.ForeignKey(
        Neighbourhood, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The same home in the organisation register (synced there by the reference data).
    organisation = models.OneToOneField(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    aligned_practice = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    aligned_since = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PracticeSite(models.Model):
    """Where a GP practice is and how many patients it has: what alignment needs."""

    practice = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="+")
    latitude = models.FloatField()
    longitude = models.FloatField()
    lsoa_code = models.CharField("LSOA", max_length=12, blank=True)
    list_size = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["practice__name"]

    def __str__(self) -> str:
        return f"Site of practice {self.practice_id}"


class AlignmentChange(models.Model):
    """One home moving from one practice to another (or gaining its first), and why."""

    home = models.ForeignKey(CareHome, on_delete=models.CASCADE, related_name="changes")
    from_practice = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_practice = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=300)

    class Meta:
        ordering: ClassVar = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"Alignment change {self.pk} of home {self.home_id}"


class RegisterImport(models.Model):
    """One register file read: how many rows were accepted, and each one kept back."""

    filename = models.CharField(max_length=300)
    kind = models.CharField(max_length=20)  # "care_homes" or "practices"
    imported_at = models.DateTimeField(default=timezone.now)
    imported_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rows_read = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    # One entry per row kept back: its line, every reason, and the row as received.
    problems = models.JSONField(default=list)

    class Meta:
        ordering: ClassVar = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"Register import {self.pk} ({self.kind})"

    @property
    def rejected(self) -> int:
        return len(self.problems)
