"""The citizens' register, panels drawn from it, and what panels said and led to.

Volunteers are not patients: they are not in the people index and never linked to it.
A volunteer's row is the only place their name and contact details live; panels,
invitations, survey answers and audit events carry their random ``ref`` instead, so
erasing the row leaves nothing that points back to them.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, ClassVar, Self

from django.conf import settings
from django.db import models

from joinedup.core.access import ScopedQuerySet
from joinedup.core.models import Neighbourhood
from joinedup.core.roles import Permission

if TYPE_CHECKING:
    from joinedup.core.models import User

AGE_BANDS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")


def new_ref() -> str:
    """A random, meaningless reference: what panels and the audit trail know a volunteer by."""
    return "V" + secrets.token_hex(6).upper()


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"


class GenderSame(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_SAID = "not_said", "Prefer not to say"


class Ethnicity(models.TextChoices):
    WHITE_BRITISH = "White British", "White British"
    WHITE_OTHER = "White other", "White other (Irish, Gypsy or Irish Traveller, other White)"
    MIXED = "Mixed", "Mixed or multiple ethnic groups"
    ASIAN = "Asian", "Asian or Asian British"
    BLACK = "Black", "Black, Black British, Caribbean or African"
    OTHER = "Other", "Other ethnic group"
    NOT_SAID = "Prefer not to say", "Prefer not to say"


class YesNo(models.TextChoices):
    YES = "Yes", "Yes"
    NO = "No", "No"
    NOT_SAID = "Prefer not to say", "Prefer not to say"


class Tenure(models.TextChoices):
    OWNED = "Owned", "Own outright or with a mortgage"
    SOCIAL = "Social rent", "Rent from the council or a housing association"
    PRIVATE = "Private rent", "Rent privately"
    OTHER = "Other", "Other (living with family, shared ownership, other)"
    NOT_SAID = "Prefer not to say", "Prefer not to say"


class Contact(models.TextChoices):
    EMAIL = "Email", "Email"
    PHONE = "Phone", "Phone"
    POST = "Post", "Post"


INTERESTS = (
    "Urgent care",
    "Mental health",
    "Ageing well",
    "Children and families",
    "Carers",
    "Neighbourhood services",
    "Digital services",
    "Health inequalities",
)
CONSENT_VERSION = "2026-1"


class Lsoa(models.Model):
    """A small census area: its deprivation decile and neighbourhood (reference data)."""

    code = models.CharField(max_length=12, primary_key=True)
    name = models.CharField(max_length=100)
    imd_decile = models.PositiveSmallIntegerField()
    neighbourhood = models.ForeignKey(Neighbourhood, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return self.name

    @property
    def imd_quintile(self) -> int:
        return (self.imd_decile + 1) // 2


class Postcode(models.Model):
    postcode = models.CharField(max_length=8, primary_key=True)
    lsoa = models.ForeignKey(Lsoa, on_delete=models.CASCADE, related_name="postcodes")

    def __str__(self) -> str:
        return self.postcode


class PopulationCount(models.Model):
    """Residents aged 16+ by LSOA, sex and register age band (latest mid-year estimate)."""

    lsoa = models.ForeignKey(Lsoa, on_delete=models.CASCADE, related_name="+")
    sex = models.CharField(max_length=1, choices=Sex.choices)
    age_band = models.CharField(max_length=8)
    count = models.FloatField()
    year = models.PositiveSmallIntegerField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["lsoa", "sex", "age_band"], name="one_count_per_cell")
        ]

    def __str__(self) -> str:
        return f"{self.lsoa_id} {self.sex} {self.age_band}: {self.count}"


class VolunteerSource(models.TextChoices):
    WEB = "web", "Signed up online"
    IMPORT = "import", "Imported"


class VolunteerQuerySet(ScopedQuerySet["Volunteer"]):
    def visible_to(self, user: User) -> Self:
        """Every volunteer for a user whose role manages the register; nobody otherwise."""
        scope = f"user:{user.pk}"
        if not (user.is_authenticated and user.has_role_permission(Permission.MANAGE_CITIZENS)):
            return self.none()._scoped(scope)
        return self._scoped(scope)


class Volunteer(models.Model):
    """A resident who offered to take part. Read only through ``visible_to(user)`` (staff
    who manage the register) or ``for_system(purpose)`` (the volunteer's own signed link,
    imports, the draw); an unscoped read raises ``UnscopedQuery``."""

    ref = models.CharField(max_length=16, unique=True, default=new_ref)
    external_id = models.CharField(max_length=40, null=True, blank=True, unique=True)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    address_line_1 = models.CharField(max_length=200, blank=True)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=8)
    household_key = models.CharField(max_length=300, blank=True, db_index=True)
    age_band = models.CharField(max_length=8)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    gender_same_as_sex = models.CharField(
        max_length=10, choices=GenderSame.choices, default=GenderSame.NOT_SAID
    )
    ethnic_group = models.CharField(max_length=20, choices=Ethnicity.choices)
    disability = models.CharField(max_length=20, choices=YesNo.choices)
    carer = models.CharField(max_length=20, choices=YesNo.choices, default=YesNo.NOT_SAID)
    tenure = models.CharField(max_length=20, choices=Tenure.choices, default=Tenure.NOT_SAID)
    neighbourhood = models.ForeignKey(
        Neighbourhood, on_delete=models.PROTECT, null=True, related_name="+"
    )
    imd_quintile = models.PositiveSmallIntegerField(null=True)
    interests = models.JSONField(default=list)
    contact_preference = models.CharField(max_length=10, choices=Contact.choices)
    consent_version = models.CharField(max_length=20)
    consented_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=VolunteerSource.choices)
    joined = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = VolunteerQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["family_name", "given_name", "id"]

    def __str__(self) -> str:
        return self.ref

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class RegisterTally(models.Model):
    """Anonymous counts that outlive erasure: how many left the register, and when."""

    month = models.DateField()
    kind = models.CharField(max_length=20)  # "erased" (at their request) or "unconfirmed" (purged)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["month", "kind"], name="one_tally_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.kind}: {self.count}"


class ImportBatch(models.Model):
    filename = models.CharField(max_length=200)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    rows_read = models.PositiveIntegerField(default=0)
    rows_accepted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return self.filename


class ImportProblem(models.Model):
    """A row kept back from an import, with why; the row's text is not kept (it is personal)."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="problems")
    line = models.PositiveIntegerField()
    field = models.CharField(max_length=40)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering: ClassVar = ["line", "id"]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class PanelKind(models.TextChoices):
    FOCUS_GROUP = "focus_group", "Focus group"
    SURVEY = "survey", "Survey"
    REPRESENTATION = "representation", "Citizens Representation Panel"


class Panel(models.Model):
    """One draw: what was asked for, the kernel's report and its full audit record."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=PanelKind.choices)
    neighbourhood = models.ForeignKey(
        Neighbourhood, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    size = models.PositiveIntegerField()
    method = models.CharField(max_length=10)
    seed = models.BigIntegerField()
    quotas_csv = models.TextField()
    report = models.JSONField(default=dict)
    audit = models.JSONField(default=dict)
    audit_sha256 = models.CharField(max_length=64)
    lottery_digest = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    replacements = models.JSONField(default=list)  # audit records of each replacement draw
    public_number = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class MemberStatus(models.TextChoices):
    DRAWN = "drawn", "Drawn, not yet invited"
    INVITED = "invited", "Invited"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    DROPPED = "dropped", "Dropped out"


class PanelMember(models.Model):
    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="members")
    ref = models.CharField(max_length=16)
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.SET_NULL, null=True, related_name="memberships"
    )
    status = models.CharField(max_length=10, choices=MemberStatus.choices)
    invited_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    reminders = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    attended = models.BooleanField(null=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    replacement_for = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["panel", "ref"], name="one_seat_per_ref")
        ]

    def __str__(self) -> str:
        return f"{self.panel_id}:{self.ref}"


class Survey(models.Model):
    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="surveys")
    title = models.CharField(max_length=200)
    questions = models.JSONField(default=list)  # [{"text": ..., "options": [...]}]
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title


class SurveyResponse(models.Model):
    """Answers with the demographics they are reported by; no link to the volunteer."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    answers = models.JSONField(default=list)
    demographics = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"response {self.pk} to {self.survey_id}"


class Outcome(models.Model):
    """'You said, we did': what people said and what the partnership did about it."""

    panel = models.ForeignKey(
        Panel, on_delete=models.SET_NULL, null=True, blank=True, related_name="outcomes"
    )
    you_said = models.TextField()
    we_did = models.TextField()
    # The portfolio office's decision code (portfolio.selectors), checked when recorded;
    # a code, not a foreign key, so the citizens app never reaches into portfolio's tables.
    decision_code = models.CharField(max_length=20, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return self.you_said[:40]
