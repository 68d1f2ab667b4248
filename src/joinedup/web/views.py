"""The shell's own pages: each role's home, health checks, and the statements every service owes."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from joinedup.core.roles import Role
from joinedup.web.navigation import ROLE_INTRODUCTIONS, first_tasks_for


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("core:sign-in")
    role = Role(user.role) if user.role in Role.values else None
    return render(
        request,
        "web/home.jinja",
        {
            "role_label": user.role_label,
            "introduction": ROLE_INTRODUCTIONS.get(role, "") if role else "",
            "tasks": first_tasks_for(user),
            "teams": user.teams.select_related("neighbourhood"),
        },
    )


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the process answers."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers too. 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any database failure means not ready
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/static_page.jinja",
        {
            "page_title": "Accessibility statement",
            "paragraphs": [
                (
                    "joinedup is built to meet the Web Content Accessibility Guidelines (WCAG) 2.2 "
                    "at level AA. It uses the NHS.UK design system and every page is checked with "
                    "automated accessibility tests and by keyboard before it is released."
                ),
                (
                    "If you find a part of the service you cannot use, tell your service desk: we "
                    "treat it as a defect."
                ),
            ],
        },
    )


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/static_page.jinja",
        {
            "page_title": "How we use personal data",
            "paragraphs": [
                (
                    "Staff see a person's record only when they care for that person: "
                    "through a care team, an open referral or their team's caseload. "
                    "Every time a record is opened, the service records who opened it, "
                    "when, and why."
                ),
                (
                    "In an emergency, a member of staff may open a record without such a "
                    "relationship after giving a reason. This break-glass access is "
                    "time-limited and every use is reviewed."
                ),
                (
                    "Data used to plan services is pseudonymised, and people who have "
                    "registered a National Data Opt-out are left out of it."
                ),
            ],
        },
    )
