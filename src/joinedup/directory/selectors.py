"""Reads of the directory: search by need, eligibility, opening times and distance.

The directory is public information, so there is no access scope here; what a page may
change is checked in ``services`` and the views. ``services_search`` is the one search the
resident page, the staff page and the neighbourhood front door's referral form all use;
the ORUK API filters with ``service_filter`` and pages with ``page_slice``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, time, timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from joinedup.core.models import User
from joinedup.core.roles import Role
from joinedup.directory import geo
from joinedup.directory.models import (
    Attribute,
    Postcode,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    Taxonomy,
    TaxonomyTerm,
)
from joinedup.errors import InvalidInput, NotFound

REVIEW_EVERY_DAYS = 91  # "not reviewed in 3 months"
MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50
DAY_CODES = {
    "monday": "MO",
    "tuesday": "TU",
    "wednesday": "WE",
    "thursday": "TH",
    "friday": "FR",
    "saturday": "SA",
    "sunday": "SU",
}


@dataclass(frozen=True)
class Filters:
    """What a search asks for; every field optional. Ages are years, times local."""

    text: str = ""
    taxonomy_term_id: uuid.UUID | None = None
    taxonomy_id: uuid.UUID | None = None
    minimum_age: float | None = None  # ORUK: services whose minimum age is at least this
    maximum_age: float | None = None  # ORUK: services whose maximum age is at most this
    age: float | None = None  # a person's age: services they are eligible for
    day: str = ""  # MO..SU
    start_time: time | None = None
    end_time: time | None = None
    active_only: bool = False


@dataclass(frozen=True)
class Hit:
    """One service at one place, and how far it is from the searcher's postcode."""

    service: Service
    at: ServiceAtLocation | None
    distance_m: float | None

    @property
    def distance_text(self) -> str:
        return geo.distance_text(self.distance_m) if self.distance_m is not None else ""


def day_code(text: str) -> str:
    """'MO', 'mo' or 'Monday' -> 'MO'; InvalidInput otherwise."""
    value = text.strip()
    if not value:
        return ""
    code = DAY_CODES.get(value.lower(), value.upper())
    if code not in DAY_CODES.values():
        raise InvalidInput("the day is one of MO, TU, WE, TH, FR, SA, SU", where="day")
    return code


def postcode_centroid(text: str) -> Postcode:
    """The centroid of a borough postcode, or an error saying what is wrong with it."""
    normal = geo.postcode_normalise(text)
    if normal is None:
        raise InvalidInput("enter a full postcode, like SK4 3QX", where="postcode")
    found = Postcode.objects.filter(postcode=normal).first()
    if found is None:
        raise InvalidInput(
            f"{normal} is not a postcode we know: the directory covers the borough",
            where="postcode",
        )
    return found


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w'-]+", text.lower()) if len(w) > 1][:8]


def _text_query(text: str) -> Q:
    """Every word must appear in the name, the description, the organisation or a term."""
    query = Q()
    for word in _words(text):
        term_links = Attribute.objects.filter(
            Q(taxonomy_term__name__icontains=word) | Q(taxonomy_term__term__icontains=word)
        ).values("link_id")
        query &= (
            Q(name__icontains=word)
            | Q(description__icontains=word)
            | Q(organization__name__icontains=word)
            | Q(id__in=term_links)
        )
    return query


def service_filter(services: QuerySet[Service], filters: Filters) -> QuerySet[Service]:
    """The services matching ``filters`` (ORUK's /services parameters, and an age)."""
    if filters.active_only:
        services = services.filter(status=ServiceStatus.ACTIVE)
    if filters.text.strip():
        services = services.filter(_text_query(filters.text))
    if filters.taxonomy_term_id is not None:
        services = services.filter(
            id__in=Attribute.objects.filter(taxonomy_term_id=filters.taxonomy_term_id).values(
                "link_id"
            )
        )
    if filters.taxonomy_id is not None:
        services = services.filter(
            id__in=Attribute.objects.filter(taxonomy_term__taxonomy_id=filters.taxonomy_id).values(
                "link_id"
            )
        )
    if filters.minimum_age is not None:
        services = services.filter(minimum_age__gte=filters.minimum_age)
    if filters.maximum_age is not None:
        services = services.filter(maximum_age__lte=filters.maximum_age)
    if filters.age is not None:
        services = services.filter(
            Q(minimum_age__isnull=True) | Q(minimum_age__lte=filters.age),
            Q(maximum_age__isnull=True) | Q(maximum_age__gte=filters.age),
        )
    return _schedule_filter(services, filters)


def _schedule_filter(services: QuerySet[Service], filters: Filters) -> QuerySet[Service]:
    """Day and times must hold on one schedule of the service (one join, not three)."""
    conditions = Q()
    if filters.day:
        conditions &= Q(schedules__byday__contains=filters.day)
    if filters.start_time is not None:
        conditions &= Q(schedules__opens_at__gte=filters.start_time)
    if filters.end_time is not None:
        conditions &= Q(schedules__closes_at__lte=filters.end_time)
    if not conditions:
        return services
    return services.filter(id__in=Service.objects.filter(conditions).values("id"))


def page_slice(total: int, page: int, per_page: int) -> tuple[int, int]:
    """The [start, end) of a page; pages past the end are empty, never an error."""
    start = (page - 1) * per_page
    return min(start, total), min(start + per_page, total)


def services_listed() -> QuerySet[Service]:
    return Service.objects.select_related("organization").order_by("name", "id")


def service_full(service_id: uuid.UUID) -> Service:
    """A service with everything nested in it fetched in a fixed, small number of queries."""
    found = (
        Service.objects.select_related("organization")
        .prefetch_related(
            "schedules",
            "service_areas",
            "languages",
            "funding",
            "cost_options",
            "contacts",
            "organization__identifiers",
            Prefetch(
                "at_locations",
                queryset=ServiceAtLocation.objects.select_related("location").prefetch_related(
                    "location__addresses", "location__accessibility"
                ),
            ),
        )
        .filter(id=service_id)
        .first()
    )
    if found is None:
        raise NotFound("there is no service with that id", where=str(service_id))
    return found


def service_at_locations_listed() -> QuerySet[ServiceAtLocation]:
    return ServiceAtLocation.objects.select_related(
        "location", "service", "service__organization"
    ).order_by("service__name", "id")


def service_at_location_full(sal_id: uuid.UUID) -> ServiceAtLocation:
    found = service_at_locations_listed().filter(id=sal_id).first()
    if found is None:
        raise NotFound("there is no service at a location with that id", where=str(sal_id))
    found.service = service_full(found.service_id)
    return found


def within(
    sals: QuerySet[ServiceAtLocation], centre: Postcode, proximity_m: float | None
) -> list[tuple[uuid.UUID, float]]:
    """Ids of places with coordinates, nearest first, within ``proximity_m`` metres if given.

    Only ids and coordinates are read here; callers fetch the rows of the page they show.
    """
    if proximity_m is not None:
        box = geo.bounding_box(centre.latitude, centre.longitude, proximity_m)
        sals = sals.filter(
            location__latitude__gte=box.south,
            location__latitude__lte=box.north,
            location__longitude__gte=box.west,
            location__longitude__lte=box.east,
        )
    rows = sals.filter(
        location__latitude__isnull=False, location__longitude__isnull=False
    ).values_list("id", "location__latitude", "location__longitude", "service__name")
    out = []
    for sal_id, lat, lon, name in rows:
        if lat is None or lon is None or not geo.coordinates_valid(lat, lon):
            continue
        metres = geo.distance_m(centre.latitude, centre.longitude, lat, lon)
        if proximity_m is None or metres <= proximity_m:
            out.append((metres, name, str(sal_id), sal_id))
    out.sort()
    return [(sal_id, metres) for metres, _, _, sal_id in out]


def rows_in_order(
    sals: QuerySet[ServiceAtLocation], ids: list[uuid.UUID]
) -> list[ServiceAtLocation]:
    found = sals.in_bulk(ids)
    return [found[i] for i in ids if i in found]


def services_search(
    *,
    text: str = "",
    postcode: str = "",
    proximity_m: float | None = None,
    age: float | None = None,
    taxonomy_term_id: uuid.UUID | None = None,
    day: str = "",
    limit: int = 50,
) -> list[Hit]:
    """Active services for a need, nearest first from a postcode when one is given.

    Without a postcode, services come in name order, one entry per place. With one,
    each place is measured from the postcode's centroid (metres, great circle) and
    services that have no place with coordinates (telephone or online ones) follow the
    places, so nothing that matches is hidden. ``InvalidInput`` names the bad field.
    """
    filters = Filters(
        text=text,
        age=age,
        taxonomy_term_id=taxonomy_term_id,
        day=day_code(day),
        active_only=True,
    )
    services = service_filter(Service.objects.all(), filters)
    sals = (
        service_at_locations_listed()
        .filter(service__in=services)
        .prefetch_related("service__schedules", "location__addresses")
    )
    services = services.prefetch_related("schedules")
    if postcode.strip():
        centre = postcode_centroid(postcode)
        placed = within(sals, centre, proximity_m)[:limit]
        found = sals.in_bulk([sal_id for sal_id, _ in placed])
        hits = [Hit(found[i].service, found[i], metres) for i, metres in placed if i in found]
        if proximity_m is None and len(hits) < limit:
            measured = {h.service.pk for h in hits}
            hits += [
                Hit(s, None, None)
                for s in services.select_related("organization")
                .exclude(pk__in=measured)
                .exclude(
                    at_locations__location__latitude__isnull=False,
                )
                .order_by("name")[: limit - len(hits)]
            ]
        return hits
    listed = list(sals[:limit])
    hits = [Hit(sal.service, sal, None) for sal in listed]
    if len(hits) < limit:
        placed_ids = {sal.service_id for sal in listed}
        hits += [
            Hit(s, None, None)
            for s in services.select_related("organization")
            .exclude(pk__in=placed_ids)
            .filter(at_locations__isnull=True)
            .order_by("name")[: limit - len(hits)]
        ]
    return hits


def service_summary(service_id: uuid.UUID | str) -> Hit:
    """One service and its first place, for a page or a referral that names it."""
    try:
        key = uuid.UUID(str(service_id))
    except ValueError:
        raise NotFound("there is no service with that id", where=str(service_id)) from None
    service = service_full(key)
    at = next(iter(service.at_locations.all()), None)
    return Hit(service, at, None)


def service_terms(service: Service) -> list[TaxonomyTerm]:
    return [
        a.taxonomy_term
        for a in Attribute.objects.filter(link_id=service.id).select_related("taxonomy_term")
    ]


def needs() -> list[TaxonomyTerm]:
    """The terms services are filed under, for a 'what do you need help with' list."""
    used = Attribute.objects.filter(link_entity="service").values("taxonomy_term_id")
    return list(TaxonomyTerm.objects.filter(id__in=used).order_by("name"))


def taxonomies_listed() -> QuerySet[Taxonomy]:
    return Taxonomy.objects.order_by("name", "id")


def taxonomy_terms_of(taxonomy: Taxonomy) -> list[TaxonomyTerm]:
    return list(TaxonomyTerm.objects.filter(taxonomy_id=taxonomy.id).order_by("name", "id"))


def taxonomy_terms_listed() -> QuerySet[TaxonomyTerm]:
    return TaxonomyTerm.objects.order_by("name", "id")


def review_due_before(today: date | None = None) -> date:
    """Services last assured before this date are due a review."""
    return (today or timezone.localdate()) - timedelta(days=REVIEW_EVERY_DAYS)


def services_due_review(*, user: User, everyone: bool = False) -> QuerySet[Service]:
    """Active services not reviewed in 3 months (or never): the user's own, or all."""
    due = services_listed().filter(
        Q(assured_date__isnull=True) | Q(assured_date__lt=review_due_before()),
        status=ServiceStatus.ACTIVE,
    )
    if everyone and user.role == Role.ADMINISTRATOR:
        return due.select_related("owner").order_by("assured_date", "name")
    return due.filter(owner=user).order_by("assured_date", "name")


def service_schedules(service: Service) -> list[Schedule]:
    """The service's schedules in a fixed order, as its edit page lists them."""
    return list(Schedule.objects.filter(service=service).order_by("id"))


def service_version(service: Service) -> str:
    """The optimistic-concurrency token of an entry: when it was last saved, exactly."""
    return service.last_modified.isoformat()


def can_review(user: User, service: Service) -> bool:
    """The service's owner keeps it up to date; an administrator may step in."""
    return service.owner_id == user.pk or user.role == Role.ADMINISTRATOR
