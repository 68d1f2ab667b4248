"""Staff in post and the funded establishment across every partner organisation.

A ``StaffRecord`` is one person in one post at one employer, as that employer's extract
describes them: no names, only the employer's own reference. Only workforce leads and
administrators read these rows (``Permission.VIEW_WORKFORCE``); everyone else sees the
baseline's aggregates with small numbers suppressed (``joinedup.workforce.suppression``).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from joinedup.core.models import Neighbourhood, Organisation, OrganisationKind, Team


class Sector(models.TextChoices):
    NHS = "nhs", "NHS"
    GENERAL_PRACTICE = "general_practice", "General practice"
    SOCIAL_CARE = "social_care", "Social care"


# Which classification an employer's staff are counted in.
SECTOR_OF_KIND: dict[str, Sector] = {
    OrganisationKind.GP_PRACTICE: Sector.GENERAL_PRACTICE,
    OrganisationKind.LOCAL_AUTHORITY: Sector.SOCIAL_CARE,
    OrganisationKind.CARE_HOME: Sector.SOCIAL_CARE,
    OrganisationKind.VOLUNTARY: Sector.SOCIAL_CARE,
}


def sector_of(kind: str) -> Sector:
    return SECTOR_OF_KIND.get(kind, Sector.NHS)


class StaffGroup(models.Model):
    sector = models.CharField(max_length=20, choices=Sector.choices)
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100)

    class Meta:
        ordering: ClassVar = ["sector", "code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["sector", "code"], name="staff_group_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_sector_display()}: {self.name}"


class Role(models.Model):
    """A job role within a staff group (an NHS job role is free text from the extract)."""

    staff_group = models.ForeignKey(StaffGroup, on_delete=models.PROTECT, related_name="roles")
    name = models.CharField(max_length=120)
    listed = models.BooleanField(default=False)  # from a shipped classification list

    class Meta:
        ordering: ClassVar = ["staff_group", "name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["staff_group", "name"], name="role_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ExtractFormat(models.TextChoices):
    ESR = "esr", "ESR-like NHS extract"
    SOCIAL_CARE = "socialcare", "Social care extract"
    ESTABLISHMENT = "establishment", "Establishment"
    BOROUGH = "borough", "Synthetic borough (demonstration)"


class ImportBatch(models.Model):
    format = models.CharField(max_length=20, choices=ExtractFormat.choices)
    filename = models.CharField(max_length=255)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rows_read = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_format_display()} {self.filename}: {self.accepted}/{self.rows_read}"


class ImportProblem(models.Model):
    """A row the import kept back, with why: nothing is dropped silently."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="problems")
    line = models.PositiveIntegerField()
    field = models.CharField(max_length=60, blank=True)
    value = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=300)
    raw = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["batch", "line", "id"]

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ContractType(models.TextChoices):
    PERMANENT = "permanent", "Permanent"
    FIXED_TERM = "fixed_term", "Fixed term"
    BANK = "bank", "Bank"
    AGENCY = "agency", "Agency"


SUBSTANTIVE = (ContractType.PERMANENT, ContractType.FIXED_TERM)


class StaffRecord(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    staff_ref = models.CharField("employer's reference", max_length=40)
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    neighbourhood = models.ForeignKey(
        Neighbourhood, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    staff_group = models.ForeignKey(StaffGroup, on_delete=models.PROTECT, related_name="+")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    occupation_code = models.CharField(max_length=3, blank=True)
    pay_band = models.CharField(max_length=40, blank=True)
    contract = models.CharField(
        max_length=20, choices=ContractType.choices, default=ContractType.PERMANENT
    )
    contracted_hours = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    wte = models.DecimalField("WTE", max_digits=4, decimal_places=2)
    age_band = models.CharField(max_length=10, blank=True)
    sex = models.CharField(max_length=20, blank=True)
    ethnicity = models.CharField(max_length=60, blank=True)
    start_date = models.DateField()
    leaving_date = models.DateField(null=True, blank=True)
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="records")

    class Meta:
        ordering: ClassVar = ["organisation", "staff_ref"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organisation", "staff_ref"], name="staff_ref_unique"),
            models.CheckConstraint(
                name="staff_leaves_after_start",
                condition=models.Q(leaving_date__isnull=True)
                | models.Q(leaving_date__gte=models.F("start_date")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_ref} at {self.organisation_id}"


class Establishment(models.Model):
    """Funded WTE for a staff group (and optionally a role and a team) at one employer,
    or pooled across every employer of one kind (all GP practices, all care homes)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pooled_kind = models.CharField(max_length=30, choices=OrganisationKind.choices, blank=True)
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    staff_group = models.ForeignKey(StaffGroup, on_delete=models.PROTECT, related_name="+")
    role = models.ForeignKey(
        Role, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    funded_wte = models.DecimalField(max_digits=8, decimal_places=2)
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="establishment")

    class Meta:
        ordering: ClassVar = ["organisation", "pooled_kind", "staff_group"]
        constraints: ClassVar = [
            models.CheckConstraint(
                name="establishment_org_or_pool",
                condition=(models.Q(organisation__isnull=False) & models.Q(pooled_kind=""))
                | (models.Q(organisation__isnull=True) & ~models.Q(pooled_kind="")),
            ),
            models.CheckConstraint(
                name="establishment_not_negative", condition=models.Q(funded_wte__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.funded_wte} WTE {self.staff_group}"


class TeamContact(models.Model):
    """How to reach a team, for the cross-partner staff directory."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="contact")
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    base = models.CharField("where the team is based", max_length=200, blank=True)
    hours = models.CharField("when to call", max_length=120, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Contact for {self.team_id}"
