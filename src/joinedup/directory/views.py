"""Directory pages: the public search for residents (no sign-in), and for staff the same
search (also used from a referral form), a service's page, the services to review, and
the owner's edit page (which a stale save cannot silently overwrite)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from joinedup.core.access import permission_required, require_user
from joinedup.core.roles import Permission, Role
from joinedup.directory import forms, presenters, selectors, services
from joinedup.directory.models import Schedule, Service, ServiceStatus
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
            "edited": request.GET.get("edited") == "1",
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


@dataclass(frozen=True)
class Difference:
    """A field the other person saved differently from what this user typed."""

    label: str
    theirs: str
    yours: str


def _schedule_fields(schedules: list[Schedule]) -> list[tuple[str, str, str]]:
    """(field id, label, hint) for each schedule's words, or for a first one."""
    if not schedules:
        return [
            (
                forms.schedule_field(forms.NEW_SCHEDULE),
                "Opening times",
                "In words, for example: Tuesdays 10am to noon, not on bank holidays",
            )
        ]
    out = []
    for n, schedule in enumerate(schedules, start=1):
        label = "Opening times" + (f" ({n} of {len(schedules)})" if len(schedules) > 1 else "")
        shown = presenters.opening_times([schedule])
        hint = "Words shown when the days and hours do not say it all"
        if shown and shown[0] != schedule.description:
            hint += f". The page already shows: {shown[0]}"
        out.append((forms.schedule_field(str(schedule.id)), label, hint))
    return out


def _differences(
    typed: dict[str, str], saved: dict[str, str], labels: dict[str, str]
) -> list[Difference]:
    return [
        Difference(labels[key], saved.get(key, ""), value)
        for key, value in typed.items()
        if key in labels and value != saved.get(key, "")
    ]


def _edit_page(
    request: HttpRequest,
    service: Service,
    schedules: list[Schedule],
    *,
    status: int = 200,
    **context: Any,
) -> HttpResponse:
    fields = _schedule_fields(schedules)
    base = {
        "service": service,
        "values": forms.service_edit_values(service, schedules),
        "version": selectors.service_version(service),
        "errors": {},
        "differences": [],
        "schedule_fields": fields,
        "statuses": ServiceStatus.choices,
        "note_limit": forms.NOTE_LIMIT,
        "conflict": False,
    }
    base.update(context)
    base["page_error"] = bool(base["errors"])
    return render(request, "directory/edit.jinja", base, status=status)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VIEW_DIRECTORY)
def edit(request: HttpRequest, service_id: str) -> HttpResponse:
    """The owner (or an administrator) corrects a service's details; saving reviews it."""
    user = require_user(request)
    key = _service_id(service_id)
    service = services.service_editable(user=user, service_id=key)
    schedules = selectors.service_schedules(service)
    if request.method == "GET":
        return _edit_page(request, service, schedules)
    form = forms.service_edit_clean(
        request.POST.dict(), schedule_keys=forms.schedule_keys(schedules)
    )
    version = request.POST.get("version", "")
    if form.edit is None:
        # The version stays the one the user started from, so a later save still conflicts.
        return _edit_page(
            request,
            service,
            schedules,
            status=400,
            values=form.values,
            errors=form.errors,
            version=version,
        )
    try:
        services.service_edit(
            user=user, service_id=key, edit=form.edit, version=version, note=form.values["note"]
        )
    except services.ServiceEditConflict as exc:
        saved = forms.service_edit_values(exc.service, exc.schedules)
        labels = {**forms.LABELS, **{f: text for f, text, _ in _schedule_fields(exc.schedules)}}
        return _edit_page(
            request,
            exc.service,
            exc.schedules,
            status=409,
            values={**saved, "note": form.values["note"]},
            differences=_differences(form.values, saved, labels),
            conflict=True,
        )
    return redirect(reverse("directory:service", args=[service_id]) + "?edited=1")


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
