"""Person pages: the caseload list, a person's record, and break-glass access."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from joinedup.core.access import permission_required, person_data, require_user
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction
from joinedup.core.roles import Permission
from joinedup.people import selectors, services
from joinedup.people.presenters import PersonHeader


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
    return render(
        request,
        "people/detail.jinja",
        {
            "person": PersonHeader.of(person, today=timezone.localdate()),
            "relationships": selectors.person_relationships(person=person),
            "break_glass": selectors.live_break_glass(user=user, person=person),
        },
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
