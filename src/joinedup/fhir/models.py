"""The FHIR facade's own tables: API clients, bearer tokens, and the version history of
resources written through FHIR.

The shared record (``people``, ``record``) stays the source of truth; ``ResourceVersion``
only keeps what each FHIR write produced, so ``vread`` and ``_history`` can return the
versions a client saw. Tokens are stored as SHA-256 hashes, never as issued.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Self

from django.db import models
from django.utils import timezone

from joinedup.core.access import ScopedQuerySet

if TYPE_CHECKING:
    from joinedup.core.models import User


class ApiClient(models.Model):
    """A system registered to call the API with client credentials.

    A client acts as its service account (``user``): the same role permissions and care
    relationships decide what it may read, so there is one access rule for every channel.
    """

    client_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    secret_hash = models.CharField(max_length=64)
    user = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    scopes = models.CharField(max_length=500)  # the most the client may ask for
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return f"API client {self.client_id}"


class AccessToken(models.Model):
    """One bearer token: only its hash is kept; it expires and can be revoked."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(
        ApiClient, on_delete=models.PROTECT, null=True, blank=True, related_name="tokens"
    )
    scopes = models.CharField(max_length=500)
    # A patient-scoped token (SMART ``patient/...`` scopes) opens this one record only.
    patient_id = models.UUIDField(null=True, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-issued_at"]

    def __str__(self) -> str:
        return f"Token {self.pk} for user {self.user_id}"


class ResourceVersionQuerySet(ScopedQuerySet["ResourceVersion"]):
    def visible_to(self, user: User) -> Self:
        """Versions of the records of people the user may see (the same rule as the web)."""
        from joinedup.people.selectors import people_cared_for

        people = people_cared_for(user=user).values("id")
        return self.filter(person_id__in=people)._scoped(f"user:{user.pk}")


class ResourceVersion(models.Model):
    """The body of one version of a resource, as a FHIR write left it."""

    resource_type = models.CharField(max_length=40)
    logical_id = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    last_updated = models.DateTimeField()
    method = models.CharField(max_length=10)  # POST, PUT
    # The person whose record this is (for the audit trail), never shown on its own.
    person_id = models.UUIDField(null=True, blank=True)
    body = models.JSONField()

    objects = ResourceVersionQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["resource_type", "logical_id", "version"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["resource_type", "logical_id", "version"], name="one_fhir_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.logical_id}/_history/{self.version}"
