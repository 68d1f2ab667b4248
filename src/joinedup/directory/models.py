"""The service directory in the Open Referral UK (ORUK) 3.0 data model.

Every table follows an ORUK 3.0 entity and keeps its field names, so the API
(``joinedup.directory.openreferral``) is a plain projection and an imported feed keeps
its identifiers: ids are the feed's UUIDs. Three things are ours, not ORUK's: each
service's ``owner`` (who keeps it up to date), the postcode centroids used for
distances, and the import batches with the records they kept back.

Nothing here is person-level data about the people cared for: the directory is public.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models


class ServiceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    DEFUNCT = "defunct", "Defunct"
    TEMPORARILY_CLOSED = "temporarily closed", "Temporarily closed"


class LocationType(models.TextChoices):
    PHYSICAL = "physical", "Physical"
    POSTAL = "postal", "Postal"
    VIRTUAL = "virtual", "Virtual"


class Taxonomy(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    uri = models.CharField(max_length=500, blank=True)
    version = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name_plural = "taxonomies"

    def __str__(self) -> str:
        return self.name


class TaxonomyTerm(models.Model):
    """A need or category; ``parent_id`` may name a term another feed holds, so no FK."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    parent_id = models.UUIDField(null=True, blank=True)
    taxonomy_id = models.UUIDField(null=True, blank=True, db_index=True)
    taxonomy_name = models.CharField(max_length=200, blank=True)  # ORUK's free-text `taxonomy`
    term_uri = models.CharField(max_length=500, blank=True)
    term = models.CharField(max_length=200, blank=True)  # the term's code in its taxonomy

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class Organization(models.Model):
    """An organisation that runs services (ORUK spelling, to keep the standard's names)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    email = models.CharField(max_length=254, blank=True)
    website = models.CharField(max_length=500, blank=True)
    logo = models.CharField(max_length=500, blank=True)
    uri = models.CharField(max_length=500, blank=True)
    parent_organization_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganizationIdentifier(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="identifiers"
    )
    identifier_scheme = models.CharField(max_length=50, blank=True)
    identifier_type = models.CharField(max_length=100)
    identifier = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"{self.identifier_type} {self.identifier}"


class Location(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    location_type = models.CharField(max_length=10, choices=LocationType.choices)
    name = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    external_identifier = models.CharField(max_length=100, blank=True)
    external_identifier_type = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering: ClassVar = ["name"]
        indexes: ClassVar = [models.Index(fields=["latitude", "longitude"])]

    def __str__(self) -> str:
        return self.name or str(self.id)


class Address(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="addresses")
    attention = models.CharField(max_length=200, blank=True)
    address_1 = models.CharField(max_length=300)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    state_province = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2)
    address_type = models.CharField(max_length=10, choices=LocationType.choices)

    class Meta:
        ordering: ClassVar = ["address_type", "id"]

    def __str__(self) -> str:
        return f"{self.address_1}, {self.postal_code}"


class Accessibility(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="accessibility")
    description = models.TextField(blank=True)
    details = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    accessibility = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "accessibility"

    def __str__(self) -> str:
        return self.description[:60]


class Service(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="services"
    )
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    email = models.CharField(max_length=254, blank=True)
    status = models.CharField(max_length=20, choices=ServiceStatus.choices)
    fees = models.TextField(blank=True)
    accreditations = models.TextField(blank=True)
    minimum_age = models.FloatField(null=True, blank=True)
    maximum_age = models.FloatField(null=True, blank=True)
    assured_date = models.DateField(null=True, blank=True)
    assurer_email = models.CharField(max_length=254, blank=True)
    alert = models.TextField(blank=True)
    last_modified = models.DateTimeField()
    # Ours, not ORUK's: who keeps the entry up to date, and where it came from.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="directory_services",
    )
    source = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)  # ORUK 3.0 has no phones; HSDS does

    class Meta:
        ordering: ClassVar = ["name", "id"]
        indexes: ClassVar = [
            models.Index(fields=["status", "name"]),
            models.Index(fields=["assured_date"]),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceAtLocation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="at_locations")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="services_here")

    class Meta:
        ordering: ClassVar = ["service", "id"]

    def __str__(self) -> str:
        return f"{self.service_id} at {self.location_id}"


class Schedule(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="schedules"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="schedules",
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    dtstart = models.DateField(null=True, blank=True)
    freq = models.CharField(max_length=10, blank=True)  # WEEKLY or MONTHLY
    interval = models.PositiveIntegerField(null=True, blank=True)
    byday = models.CharField(max_length=40, blank=True)  # "MO,TU"
    bymonthday = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    schedule_link = models.CharField(max_length=500, blank=True)
    attending_type = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return f"{self.byday} {self.opens_at}-{self.closes_at}"


class ServiceArea(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="service_areas")
    name = models.TextField(blank=True)
    extent = models.TextField(blank=True)
    extent_type = models.CharField(max_length=30, blank=True)
    uri = models.CharField(max_length=500, blank=True)
    service_area = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name[:60]


class Language(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="languages")
    phone_id = models.UUIDField(null=True, blank=True)

    def __str__(self) -> str:
        return str(self.id)


class Funding(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="funding")
    source = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.source[:60]


class CostOption(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="cost_options")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    option = models.CharField(max_length=300, blank=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    amount_description = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return self.option


class Contact(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name


class Attribute(models.Model):
    """Links a taxonomy term to a service, organisation, location or contact."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    link_id = models.UUIDField(db_index=True)
    link_entity = models.CharField(max_length=30)  # service, organization, location, contact
    link_type = models.CharField(max_length=100, blank=True)
    taxonomy_term = models.ForeignKey(
        TaxonomyTerm, on_delete=models.PROTECT, related_name="attributes"
    )

    class Meta:
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return f"{self.link_entity} {self.link_id}: {self.taxonomy_term_id}"


class Postcode(models.Model):
    """A postcode's centroid, for distances: the normalised form ("SK4 3QX") is the key."""

    postcode = models.CharField(max_length=8, primary_key=True)
    latitude = models.FloatField()
    longitude = models.FloatField()
    lsoa_code = models.CharField(max_length=12, blank=True)

    def __str__(self) -> str:
        return self.postcode


class ImportBatch(models.Model):
    """One feed read into the directory, and what became of each record in it."""

    source = models.CharField(max_length=100)
    filename = models.CharField(max_length=255)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    records_read = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source} {self.filename}: {self.accepted}/{self.records_read}"


class ImportProblem(models.Model):
    """A record kept back (or accepted with a warning), where it was, why, and as it came."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="problems")
    where = models.CharField(max_length=200)  # e.g. "services[3].schedules[0]"
    entity = models.CharField(max_length=40)
    kept_back = models.BooleanField(default=True)  # False: accepted with a warning
    reasons = models.JSONField(default=list)
    raw = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["batch", "id"]

    def __str__(self) -> str:
        return f"{self.where}: {'; '.join(self.reasons)}"
