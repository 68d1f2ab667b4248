"""Person pages: the caseload list, a person's record, and break-glass access."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from joinedup.carehomes.selectors import care_home_residents
from joinedup.core.access import permission_required, person_data, require_user
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, User
from joinedup.core.roles import Permission
from joinedup.errors import InvalidInput
from joinedup.neighbourhoods import selectors as neighbourhood_selectors
from joinedup.people import linking, selectors, services
from joinedup.people.models import Person
from joinedup.people.presenters import PersonHeader, TimelineEntry
from joinedup.population import services as population_services
from joinedup.population.selectors import efi_reference
from joinedup.record import selectors as record_selectors
from joinedup.record.models import FactKind
from joinedup.record.selectors import SOURCE_LABELS, TimelineFilter


@require_GET
@permission_required(Permission.VIEW_PERSON)
def people_list(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    people = list(selectors.people_cared_for(user=user)[:500])
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource="person.caseload",
        reason=f"{len(people)} people listed",
    )
    return render(
        request,
        "people/list.jinja",
        {"people": [PersonHeader.of(p, today=timezone.localdate()) for p in people]},
    )


@person_data
@require_GET
@permission_required(Permission.VIEW_PERSON)
def person_detail(request: HttpRequest, person_id: uuid.UUID) -> HttpResponse:
    user = require_user(request)
    person = services.person_open(user=user, person_id=person_id)
    chosen = TimelineFilter(
        sources=frozenset(request.GET.getlist("source")) & SOURCE_LABELS.keys(),
        kinds=frozenset(request.GET.getlist("kind")) & set(FactKind.values),
    )
    counts = record_selectors.counts_by_source(user=user, person=person)
    return render(
        request,
        "people/detail.jinja",
        {
            "person": PersonHeader.of(person, today=timezone.localdate()),
            "relationships": selectors.person_relationships(person=person),
            "break_glass": selectors.live_break_glass(user=user, person=person),
            "timeline": [TimelineEntry.of(row) for row in _timeline(user, person, chosen)],
            "problems": record_selectors.active_problems(user=user, person=person),
            "medications": record_selectors.current_medications(user=user, person=person),
            "allergies": selectors.person_allergies(user=user, person=person),
            "safeguarding": record_selectors.safeguarding_flag(user=user, person=person),
            "frailty": _frailty(user=user, person=person),
            "care_home": care_home_residents([person.id]).get(person.id, ""),
            "source_counts": [(s, SOURCE_LABELS[s], n) for s, n in sorted(counts.items())],
            "kinds": FactKind.choices,
            "chosen": chosen,
        },
    )


def _timeline(user: User, person: Person, chosen: TimelineFilter) -> list[dict[str, Any]]:
    """The record's facts and, unfiltered, the neighbourhood teams' MDT minutes, newest first."""
    rows = list(record_selectors.timeline(user=user, person=person, only=chosen))
    if not chosen.sources and not chosen.kinds:
        rows += neighbourhood_selectors.timeline_rows(user=user, person=person)
        rows.sort(key=lambda row: row["occurred_at"], reverse=True)
    return rows


_FRAILTY_LABELS = {
    "fit": "Fit",
    "mild": "Mild frailty",
    "moderate": "Moderate frailty",
    "severe": "Severe frailty",
}


def _frailty(*, user: User, person: Person) -> str:
    """The person's electronic Frailty Index category for the header (65 and over only)."""
    if person.age_on(timezone.localdate()) is None or efi_reference() is None:
        return "Not available"
    category = population_services.frailty_category([person.id], user=user).get(person.id)
    return _FRAILTY_LABELS.get(category or "", "Not assessed (under 65)")


@require_GET
@permission_required(Permission.VIEW_PERSON)
def people_search(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    query = request.GET.get("q", "").strip()
    result, error = None, ""
    if query:
        try:
            result = services.person_search(user=user, query=query)
        except InvalidInput as exc:
            error = exc.detail[0].upper() + exc.detail[1:]
    return render(
        request,
        "people/search.jinja",
        {"query": query, "result": result, "error": error, "page_error": bool(error)},
        status=400 if error else 200,
    )


@person_data
@require_POST
@permission_required(Permission.BREAK_GLASS)
def person_break_glass(request: HttpRequest, person_id: uuid.UUID) -> HttpResponse:
    services.person_break_glass(
        user=require_user(request),
        person_id=person_id,
        reason=request.POST.get("reason", ""),
        explanation=request.POST.get("explanation", ""),
    )
    return redirect("people:detail", person_id=person_id)


@require_GET
@permission_required(Permission.REVIEW_LINKS)
def reviews_list(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    pending = list(selectors.reviews_pending(limit=200))
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource="person_index.reviews",
        reason=f"{len(pending)} possible matches listed",
    )
    return render(request, "people/reviews.jinja", {"reviews": pending})


@require_http_methods(["GET", "POST"])
@permission_required(Permission.REVIEW_LINKS)
def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    user = require_user(request)
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        if decision not in {"same", "different"}:
            raise InvalidInput("choose whether these are the same person", where="decision")
        linking.review_decide(user=user, review_id=review_id, same_person=decision == "same")
        return redirect("people:reviews")
    review = selectors.review_for(review_id=review_id)
    audit_record(
        actor=user,
        action=AuditAction.READ,
        resource=f"person_index.review:{review.pk}",
        person_id=review.left.person_id,
    )
    return render(request, "people/review.jinja", {"review": review})
