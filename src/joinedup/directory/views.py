"""Directory pages: the public search for residents (no sign-in), and for staff the same
search (also used from a referral form), a service's page, and the services to review."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from joinedup.core.access import permission_required, require_user
from joinedup.core.roles import Permission, Role
from joinedup.directory import presenters, selectors, services
from joinedup.errors import InvalidInput, NotFound
from joinedup.web.tables import Table, csv_response, xlsx_response

PROXIMITY_CHOICES = (
    ("", "Any distance"),
    ("1609", "Within 1 mile"),
    ("3219", "Within 2 miles"),
    ("8047", "Within 5 miles"),
)


@dataclass
class Search:
    """A search form's values, its results and the first problem with it."""

    values: dict[str, str]
    cards: list[presenters.ServiceCard]
    searched: bool
    error: str = ""
    where: str = ""


def _age(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput("enter an age in years, like 72", where="age") from None
    if not 0 <= value <= 120:
        raise InvalidInput("enter an age from 0 to 120", where="age")
    return value


def _search(request: HttpRequest, keys: tuple[str, ...]) -> Search:
    values = {k: request.GET.get(k, "").strip()[:100] for k in keys}
    searched = any(values.values())
    if not searched:
        return Search(values, [], False)
    try:
        proximity = values.get("within", "")
        hits = selectors.services_search(
            text=values.get("need", ""),
            postcode=values.get("postcode", ""),
            proximity_m=float(proximity) if proximity.isdigit() else None,
            age=_age(values.get("age", "")),
            day=values.get("day", ""),
        )
    except InvalidInput as exc:
        return Search(values, [], True, exc.detail[0].upper() + exc.detail[1:], exc.where or "need")
    return Search(values, presenters.service_cards(hits), True)


@require_GET
def find(request: HttpRequest) -> HttpResponse:
    """The public directory: anyone may search it, signed in or not."""
    search = _search(request, ("need", "postcode"))
    return render(
        request,
        "directory/find.jinja",
        {"search": search, "page_error": bool(search.error), "needs": selectors.needs()},
        status=400 if search.error else 200,
    )


def _service_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("there is no such service") from None


@require_GET
def public_service(request: HttpRequest, service_id: str) -> HttpResponse:
    hit = selectors.service_summary(_service_id(service_id))
    return render(request, "directory/public_service.jinja", _service_context(hit, request))


def _service_context(hit: selectors.Hit, request: HttpRequest) -> dict[str, Any]:
    service = hit.service
    places = list(service.at_locations.all())
    return {
        "service": service,
        "card": presenters.service_cards([hit])[0],
        "places": [(p, presenters.address(p)) for p in places],
        "opening": presenters.opening_times(list(service.schedules.all())),
        "terms": selectors.service_terms(service),
        "costs": list(service.cost_options.all()),
        "back": request.GET.get("back", ""),
    }


def _return_to(request: HttpRequest) -> str:
    """Where 'Choose this service' goes back to: only a path on this site."""
    target = request.GET.get("return_to", "")
    if (
        target
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and target.startswith("/")
    ):
        return target
    return ""


@require_GET
@permission_required(Permission.VIEW_DIRECTORY)
def home(request: HttpRequest) -> HttpResponse:
    """Staff search: need, postcode, distance, age and day; can hand a choice to a referral."""
    user = require_user(request)
    search = _search(request, ("need", "postcode", "within", "age", "day"))
    return_to = _return_to(request)
    return render(
        request,
        "directory/home.jinja",
        {
            "search": search,
            "page_error": bool(search.error),
            "return_to": return_to,
            "choose_separator": "&" if "?" in return_to else "?",
            "proximity_choices": PROXIMITY_CHOICES,
            "days": presenters.DAY_NAMES,
            "due": selectors.services_due_review(user=user).count(),
            "needs": selectors.needs(),
        },
        status=400 if search.error else 200,
    )


@require_GET
@permission_required(Permission.VIEW_DIRECTORY)
def service(request: HttpRequest, service_id: str) -> HttpResponse:
    user = require_user(request)
    hit = selectors.service_summary(_service_id(service_id))
    context = _service_context(hit, request)
    context.update(
        {
            "can_review": selectors.can_review(user, hit.service),
            "due_before": selectors.review_due_before(),
            "return_to": _return_to(request),
        }
    )
    return render(request, "directory/service.jinja", context)


@require_POST
@permission_required(Permission.VIEW_DIRECTORY)
def review(request: HttpRequest, service_id: str) -> HttpResponse:
    user = require_user(request)
    services.service_review(user=user, service_id=_service_id(service_id))
    return redirect(reverse("directory:service", args=[service_id]) + "?reviewed=1")


_DUE_COLUMNS = ("Service", "Organisation", "Status", "Last reviewed", "Owner", "Source")


@require_GET
@permission_required(Permission.VIEW_DIRECTORY)
def due(request: HttpRequest) -> HttpResponse:
    """Services not reviewed in 3 months: the user's own, or (administrators) everyone's."""
    user = require_user(request)
    everyone = user.role == Role.ADMINISTRATOR and request.GET.get("all") == "1"
    rows = list(selectors.services_due_review(user=user, everyone=everyone))
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "xlsx"):
        table = Table(
            "Services to review",
            _DUE_COLUMNS,
            [
                (
                    s.name,
                    s.organization.name if s.organization else "",
                    s.get_status_display(),
                    s.assured_date,
                    s.owner.username if s.owner else "",
                    s.source,
                )
                for s in rows
            ],
            note=(
                "Active services last reviewed before "
                f"{selectors.review_due_before():%-d %B %Y}, or never."
            ),
        )
        respond = csv_response if fmt == "csv" else xlsx_response
        return respond(table, filename="directory-services-to-review")
    return render(
        request,
        "directory/due.jinja",
        {
            "rows": rows,
            "everyone": everyone,
            "is_admin": user.role == Role.ADMINISTRATOR,
            "due_before": selectors.review_due_before(),
        },
    )
