"""Population health pages: the planning zone for analysts, and one direct-care list.

Analysts' pages (VIEW_POPULATION) show only aggregated, small-number-suppressed figures
from the pseudonymised warehouse. The frail-people list is direct care (VIEW_PERSON):
identifiable, scoped to the user's relationships and audited, and never from the warehouse.
"""

from __future__ import annotations

import csv
import io

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from joinedup.core.access import permission_required, require_user
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction
from joinedup.core.roles import Permission
from joinedup.errors import NotFound
from joinedup.population import presenters, selectors, services
from joinedup.population.indicators import Table


def _render(request: HttpRequest, template: str, context: dict[str, object]) -> HttpResponse:
    return render(
        request,
        f"population/{template}",
        {"active_module": "population", "cell": presenters.cell, **context},
    )


@require_GET
@permission_required(Permission.VIEW_POPULATION)
def home(request: HttpRequest) -> HttpResponse:
    report = selectors.population_report()
    return _render(request, "home.jinja", {"page": presenters.home(report)})


@require_GET
@permission_required(Permission.VIEW_POPULATION)
def life_expectancy(request: HttpRequest) -> HttpResponse:
    report = selectors.population_report()
    return _render(request, "section.jinja", {"page": presenters.life_expectancy(report)})


@require_GET
@permission_required(Permission.VIEW_POPULATION)
def mortality(request: HttpRequest) -> HttpResponse:
    report = selectors.population_report()
    return _render(request, "section.jinja", {"page": presenters.mortality(report)})


@require_GET
@permission_required(Permission.VIEW_POPULATION)
def frailty(request: HttpRequest) -> HttpResponse:
    report = selectors.population_report()
    return _render(request, "section.jinja", {"page": presenters.frailty(report)})


@require_GET
@permission_required(Permission.VIEW_POPULATION)
def vaccines(request: HttpRequest) -> HttpResponse:
    report = selectors.population_report()
    return _render(request, "section.jinja", {"page": presenters.vaccines(report)})


@require_GET
@permission_required(Permission.VIEW_POPULATION)
def scorecard(request: HttpRequest, slug: str) -> HttpResponse:
    report = selectors.population_report()
    card = report.scorecards.get(slug)
    if card is None:
        raise NotFound("there is no neighbourhood with this name")
    return _render(request, "scorecard.jinja", {"page": presenters.scorecard(report, card)})


@require_GET
@permission_required(Permission.VIEW_POPULATION)
def download(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise NotFound("tables download as .csv or .xlsx")
    table = selectors.population_report().table(slug)
    audit_record(
        actor=require_user(request),
        action=AuditAction.EXPORT,
        resource=f"population.table.{slug}",
        reason=fmt,
    )
    if fmt == "csv":
        response = HttpResponse(_csv(table), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            presenters.xlsx(table),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{slug}.{fmt}"'
    return response


def _csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([heading for _, heading in table.columns])
    for row in table.rows:
        writer.writerow(["" if row.get(k) is None else row.get(k) for k, _ in table.columns])
    return out.getvalue()


@require_GET
@permission_required(Permission.VIEW_PERSON)
def frail_people(request: HttpRequest) -> HttpResponse:
    people = services.frail_not_on_caseload(user=require_user(request))
    return render(request, "population/frail.jinja", {"active_module": "people", "people": people})
