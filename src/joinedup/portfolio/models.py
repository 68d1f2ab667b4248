"""The portfolio office: programmes, projects, milestones, the board's decisions, the
shared risk register and benefits tied to live outcome measures.

Nothing here is person-level data about the people cared for: owners and accountable
people are named as the board papers name them.
"""

from __future__ import annotations

from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from joinedup.core.models import Organisation

SCORE = [MinValueValidator(1), MaxValueValidator(5)]


class Programme(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    aim = models.CharField(max_length=60, blank=True)
    lead_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    owner = models.CharField("senior responsible owner", max_length=200, blank=True)
    start_date = models.DateField()
    end_date = models.DateField()
    budget_gbp = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=30, default="Active")

    class Meta:
        ordering: ClassVar = ["code"]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="projects")
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    owner = models.CharField(max_length=200, blank=True)
    owner_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["code"]

    def __str__(self) -> str:
        return self.name


class MilestoneStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    LATE = "late", "Late"
    COMPLETE = "complete", "Complete"


class Rag(models.TextChoices):
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"
    COMPLETE = "complete", "Complete"


class Milestone(models.Model):
    code = models.CharField(max_length=20, unique=True)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="milestones")
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="milestones"
    )
    title = models.CharField(max_length=200)
    owner = models.CharField(max_length=200, blank=True)
    planned_date = models.DateField()
    forecast_date = models.DateField(null=True, blank=True)
    completed_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=MilestoneStatus.choices)
    rag = models.CharField("RAG", max_length=10, choices=Rag.choices)
    depends_on = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="dependants"
    )

    class Meta:
        ordering: ClassVar = ["programme", "planned_date", "code"]

    def __str__(self) -> str:
        return self.title

    @property
    def expected(self):  # type: ignore[no-untyped-def]
        """When it happened or is now expected."""
        return self.completed_date or self.forecast_date or self.planned_date


class Decision(models.Model):
    code = models.CharField(max_length=20, unique=True)
    decided_on = models.DateField()
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, null=True, blank=True, related_name="decisions"
    )
    decision = models.TextField()
    rationale = models.TextField(blank=True)
    accountable_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+"
    )
    accountable_person = models.CharField(max_length=200, blank=True)
    present = models.TextField("who was present", blank=True)  # one per line
    recorded_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-decided_on", "-code"]

    def __str__(self) -> str:
        return f"{self.code}: {self.decision[:60]}"

    @property
    def attendees(self) -> list[str]:
        return [line.strip() for line in self.present.splitlines() if line.strip()]


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class DecisionAction(models.Model):
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=300)
    owner = models.CharField(max_length=200, blank=True)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )

    class Meta:
        ordering: ClassVar = ["decision", "due_date", "id"]

    def __str__(self) -> str:
        return self.action


class Risk(models.Model):
    code = models.CharField(max_length=20, unique=True)
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, null=True, blank=True, related_name="risks"
    )
    description = models.TextField()
    owner_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    likelihood_before = models.PositiveSmallIntegerField(validators=SCORE)
    impact_before = models.PositiveSmallIntegerField(validators=SCORE)
    likelihood_after = models.PositiveSmallIntegerField(null=True, blank=True, validators=SCORE)
    impact_after = models.PositiveSmallIntegerField(null=True, blank=True, validators=SCORE)
    status = models.CharField(max_length=20, default="Open")

    class Meta:
        ordering: ClassVar = ["code"]
        constraints: ClassVar = [
            models.CheckConstraint(
                name="risk_scores_1_to_5",
                condition=models.Q(likelihood_before__gte=1, likelihood_before__lte=5)
                & models.Q(impact_before__gte=1, impact_before__lte=5),
            )
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.description[:60]}"

    @property
    def score_before(self) -> int:
        return self.likelihood_before * self.impact_before

    @property
    def score_after(self) -> int | None:
        if self.likelihood_after is None or self.impact_after is None:
            return None
        return self.likelihood_after * self.impact_after


class Mitigation(models.Model):
    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="mitigations")
    action = models.CharField(max_length=300)
    owner = models.CharField(max_length=200)
    owner_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )

    class Meta:
        ordering: ClassVar = ["risk", "due_date", "id"]

    def __str__(self) -> str:
        return self.action


class RiskReview(models.Model):
    """One review of a risk: the scores it was given then, and why."""

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField()
    reviewed_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    likelihood = models.PositiveSmallIntegerField(validators=SCORE)
    impact = models.PositiveSmallIntegerField(validators=SCORE)
    note = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["risk", "-reviewed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.risk_id} reviewed {self.reviewed_on}"


class Benefit(models.Model):
    code = models.CharField(max_length=20, unique=True)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="benefits")
    description = models.CharField(max_length=300, blank=True)
    measure_code = models.CharField(max_length=80)
    baseline = models.FloatField()
    target = models.FloatField()
    target_date = models.DateField()

    class Meta:
        ordering: ClassVar = ["code"]

    def __str__(self) -> str:
        return f"{self.code}: {self.measure_code}"
