"""Workforce pages: the baseline (everyone signed in, suppressed unless a workforce lead),
the staff list and imports (workforce leads and administrators), the team directory."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from joinedup.core.access import permission_required, require_user
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, User
from joinedup.core.roles import Permission
from joinedup.errors import InvalidInput, NotFound
from joinedup.web.tables import Table, csv_response, xlsx_response
from joinedup.workforce import charts, selectors, services
from joinedup.workforce.presenters import BaselineView, baseline_view, fmt_number, fmt_rate

MAX_UPLOAD = 20 * 1024 * 1024


def _as_at(request: HttpRequest) -> date:
    """The date asked for, or else today — or the data's latest date when the staff
    extract ends before today (turnover over a year the data does not reach would be
    understated)."""
    text = request.GET.get("as_at", "").strip()
    if not text:
        today = timezone.localdate()
        latest = selectors.latest_data_date()
        return min(today, latest) if latest else today
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("enter the date as YYYY-MM-DD", where="as_at") from None


def _view(user: User, as_at: date) -> BaselineView:
    data = selectors.baseline_data()
    return baseline_view(data, selectors.period_ending(as_at), exact=selectors.sees_people(user))


def _note(view: BaselineView, as_at: date) -> str:
    period = selectors.period_ending(as_at)
    text = (
        f"Staff in post on {as_at:%-d %B %Y}; turnover and stability over the 12 months "
        f"from {period.start}."
    )
    if not view.exact:
        text += (
            " [c] = hidden: fewer than 5 staff, or hidden so a small number cannot be worked out."
        )
    return text


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    as_at = _as_at(request)
    view = _view(user, as_at)
    return render(
        request,
        "workforce/home.jinja",
        {
            "view": view,
            "as_at": as_at,
            "period": selectors.period_ending(as_at),
            "note": _note(view, as_at),
            "from_data": not request.GET.get("as_at") and as_at != timezone.localdate(),
            "fmt_number": fmt_number,
            "fmt_rate": fmt_rate,
            "sees_people": view.exact,
            "charts": {
                key: charts.bar_chart(
                    f"chart-{key}",
                    f"Vacancy rate by {label}",
                    view.chart_points(key),
                )
                for key, label in (
                    ("neighbourhood", "neighbourhood"),
                    ("staff_group", "staff group"),
                )
            },
        },
    )


@require_GET
def baseline_download(request: HttpRequest, key: str, extension: str) -> HttpResponse:
    user = require_user(request)
    if extension not in ("csv", "xlsx"):
        raise NotFound("tables download as csv or xlsx")
    as_at = _as_at(request)
    view = _view(user, as_at)
    note = _note(view, as_at)
    if key == "all" and extension == "xlsx":
        tables = [view.tables[k].export(note) for k in ("grid", *selectors.DIMENSIONS)]
        return xlsx_response(tables, filename=f"workforce-baseline-{as_at}")
    if key not in view.tables:
        raise NotFound("there is no such table")
    table = view.tables[key].export(note)
    name = f"workforce-{key.replace('_', '-')}-{as_at}"
    return (
        csv_response(table, filename=name)
        if extension == "csv"
        else xlsx_response(table, filename=name)
    )


_STAFF_COLUMNS = (
    "Organisation",
    "Reference",
    "Team",
    "Neighbourhood",
    "Staff group",
    "Role",
    "Occupation code",
    "Pay band",
    "Contract",
    "Contracted hours",
    "WTE",
    "Age band",
    "Sex",
    "Ethnicity",
    "Start date",
    "Leaving date",
)


@require_GET
@permission_required(Permission.VIEW_WORKFORCE)
def staff(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    filters = {
        k: request.GET.get(k, "")
        for k in ("organisation", "staff_group", "neighbourhood", "in_post")
    }
    if request.GET.get("format") == "xlsx":
        rows = [
            [
                r.organisation.name,
                r.staff_ref,
                r.team.name if r.team else "",
                r.neighbourhood.name if r.neighbourhood else "",
                str(r.staff_group),
                r.role.name,
                r.occupation_code,
                r.pay_band,
                r.get_contract_display(),
                float(r.contracted_hours) if r.contracted_hours is not None else None,
                float(r.wte),
                r.age_band,
                r.sex,
                r.ethnicity,
                r.start_date,
                r.leaving_date,
            ]
            for r in selectors.staff_all(user=user)
        ]
        audit_record(
            actor=user,
            action=AuditAction.EXPORT,
            resource="workforce.staff",
            reason=f"{len(rows)} staff records",
        )
        return xlsx_response(
            Table(
                "Staff records",
                _STAFF_COLUMNS,
                rows,
                note="Person-level: keep within the workforce team.",
            ),
            filename="workforce-staff",
        )
    page = selectors.staff_page(
        user=user,
        page=int(request.GET.get("page", "1") or 1)
        if request.GET.get("page", "1").isdigit()
        else 1,
        filters=filters,
    )
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource="workforce.staff",
        reason=f"page {page.number} of {page.paginator.num_pages}",
    )
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(
        request,
        "workforce/staff.jinja",
        {"page": page, "filters": filters, "choices": selectors.filter_choices(), "query": query},
    )


@require_GET
def teams(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    exact = selectors.sees_people(user)
    counts = selectors.team_headcounts(timezone.localdate())
    return render(
        request,
        "workforce/teams.jinja",
        {
            "teams": selectors.teams_directory(),
            "counts": {k: (v if exact or v >= 5 else None) for k, v in counts.items()},
            "can_edit": exact,
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VIEW_WORKFORCE)
def team_contact(request: HttpRequest, team_id: int) -> HttpResponse:
    user = require_user(request)
    team = next((t for t in selectors.teams_directory() if t.pk == team_id), None)
    if team is None:
        raise NotFound("there is no such team")
    error, where = "", ""
    values = {k: request.POST.get(k, "") for k in ("phone", "email", "base", "hours")}
    if request.method == "POST":
        try:
            services.team_contact_update(user=user, team_id=team_id, **values)
            return redirect("workforce:teams")
        except InvalidInput as exc:
            error, where = exc.detail[0].upper() + exc.detail[1:], exc.where or ""
    else:
        contact = getattr(team, "contact", None)
        if contact is not None:
            values = {k: getattr(contact, k) for k in values}
    return render(
        request,
        "workforce/team_contact.jinja",
        {"team": team, "values": values, "error": error, "where": where, "page_error": bool(error)},
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VIEW_WORKFORCE)
def imports(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("extract")
        fmt = request.POST.get("format", "")
        try:
            if upload is None:
                raise InvalidInput("choose an extract file to import", where="extract")
            if upload.size and upload.size > MAX_UPLOAD:
                raise InvalidInput("the file is larger than 20 MB", where="extract")
            path, content = Path(upload.name or "extract.csv"), upload.read()
            if fmt == "establishment":
                summary = services.establishment_import_file(path=path, user=user, content=content)
            else:
                summary = services.staff_import_file(path=path, fmt=fmt, user=user, content=content)
            return redirect("workforce:import", batch_id=summary.batch_id)
        except InvalidInput as exc:
            error = exc.one_line()[0].upper() + exc.one_line()[1:]
    return render(
        request,
        "workforce/imports.jinja",
        {"batches": selectors.imports_recent(), "error": error, "page_error": bool(error)},
        status=400 if error else 200,
    )


@require_GET
@permission_required(Permission.VIEW_WORKFORCE)
def import_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    require_user(request)
    batch, problems = selectors.import_problems(batch_id)
    if request.GET.get("format") == "csv":
        table = Table(
            f"Import {batch.pk} rows kept back",
            ("Line", "Reasons", "Row as received"),
            [(line, "; ".join(reasons), raw) for line, raw, reasons in problems],
        )
        return csv_response(table, filename=f"workforce-import-{batch.pk}-problems")
    return render(
        request,
        "workforce/import.jinja",
        {"batch": batch, "problems": problems[:500], "more": max(0, len(problems) - 500)},
    )
