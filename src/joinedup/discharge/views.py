"""Discharge pages: the home summary, the board (per ward and for the hub), a stay with
its live updates, the metrics with downloads, and the capacity planner.

Every page needs the discharge role permission. The board and stay pages show people:
they read through ``Stay.objects.visible_to`` (via selectors and ``services.stay_open``)
and write an audit event. Metrics and the planner are aggregate only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from joinedup.core.access import permission_required, person_data, require_user
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, User
from joinedup.core.roles import Permission
from joinedup.discharge import planner as planning
from joinedup.discharge import reasons, selectors, services
from joinedup.discharge.presenters import (
    MetricsView,
    metrics_view,
    planner_form_values,
    planner_inputs_from_form,
    scenario_tables,
    scenario_view,
)
from joinedup.errors import InvalidInput, NotFound
from joinedup.web.tables import csv_response, xlsx_response

VIEW = Permission.VIEW_DISCHARGE


@require_GET
@permission_required(VIEW)
def home(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    today = timezone.localdate()
    rows = selectors.board(user=user, today=today)
    ready = [r for r in rows if r.ready_on is not None]
    latest = selectors.mean_delay_days(today=today)
    return render(
        request,
        "discharge/home.jinja",
        {
            "inpatients": len(rows),
            "ready": len(ready),
            "waiting_long": sum(1 for r in ready if (r.days_waiting or 0) >= 7),
            "latest": latest,
        },
    )


@require_GET
@permission_required(VIEW)
def board(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    ward = request.GET.get("ward", "").strip()
    show = request.GET.get("show", "ready")
    rows = selectors.board(user=user, ward=ward, today=timezone.localdate())
    if show != "all":
        rows = [r for r in rows if r.ready_on is not None]
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource="discharge.board",
        reason=f"{len(rows)} patients listed" + (f" on ward {ward}" if ward else ""),
    )
    return render(
        request,
        "discharge/board.jinja",
        {
            "rows": rows,
            "ward": ward,
            "show": show,
            "wards": selectors.wards_with_inpatients(user=user),
            "label": reasons.label,
            "owner_label": reasons.owner_label,
        },
    )


_ACTIONS = ("criteria", "pathway", "reason", "reason_end", "progress", "discharge")


@person_data
@require_http_methods(["GET", "POST"])
@permission_required(VIEW)
def stay(request: HttpRequest, stay_id: int) -> HttpResponse:
    user = require_user(request)
    opened = services.stay_open(user=user, stay_id=stay_id)
    error, where, action = "", "", ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            _apply(user, opened, action, request.POST)
            return redirect("discharge:stay", stay_id=stay_id)
        except InvalidInput as exc:
            error, where = exc.detail[0].upper() + exc.detail[1:], exc.where or ""
    today = timezone.localdate()
    return render(
        request,
        "discharge/stay.jinja",
        {
            "stay": opened,
            "person": opened.person,
            "history": selectors.stay_history(opened),
            "days": selectors.criteria_days(opened, today=today),
            "current": services.open_episode(opened),
            "today": today,
            "reasons": [r for r in reasons.REASONS if r.code != "unmapped"],
            "owners": reasons.OWNERS,
            "label": reasons.label,
            "owner_label": reasons.owner_label,
            "error": error,
            "where": where,
            "action": action,
            "values": request.POST if error else {},
            "page_error": bool(error),
        },
        status=400 if error else 200,
    )


def _date(data: Any, name: str, *, required: bool = True) -> date | None:
    text = str(data.get(name, "")).strip()
    if not text:
        if required:
            raise InvalidInput("enter the date", where=name)
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "enter the date as YYYY-MM-DD, for example 2026-03-31", where=name
        ) from None


def _apply(user: User, opened: Any, action: str, data: Any) -> None:
    if action not in _ACTIONS:
        raise InvalidInput("choose what to record", where="action")
    if action == "criteria":
        meets = data.get("meets", "")
        if meets not in ("yes", "no"):
            raise InvalidInput(
                "say whether the patient meets the criteria to reside", where="meets"
            )
        on = _date(data, "criteria_on")
        assert on is not None
        services.criteria_record(user=user, stay=opened, on=on, meets=meets == "yes")
    elif action == "pathway":
        text = data.get("pathway", "")
        if text not in ("0", "1", "2", "3"):
            raise InvalidInput("choose a pathway", where="pathway")
        on = _date(data, "pathway_on")
        assert on is not None
        services.pathway_change(user=user, stay=opened, pathway=int(text), on=on)
    elif action == "reason":
        on = _date(data, "reason_on")
        assert on is not None
        services.delay_reason_add(
            user=user,
            stay=opened,
            code=data.get("code", ""),
            started_on=on,
            note=data.get("note", ""),
            owner=data.get("owner", ""),
        )
    elif action == "reason_end":
        on = _date(data, "reason_end_on")
        assert on is not None
        text = data.get("reason_id", "")
        if not text.isdigit():
            raise InvalidInput("choose the reason to end", where="reason_end_on")
        services.delay_reason_end(user=user, stay=opened, reason_id=int(text), ended_on=on)
    elif action == "progress":
        services.progress_update(
            user=user,
            stay=opened,
            dates={m: _date(data, m, required=False) for m in services.MILESTONES},
            provider=data.get("provider", ""),
            care_home_resident=data.get("care_home_resident") == "yes",
            package_status=data.get("package_status", ""),
        )
    else:
        on = _date(data, "discharge_on")
        assert on is not None
        services.discharge_record(
            user=user, stay=opened, on=on, destination=data.get("destination", "")
        )


# --- metrics ---------------------------------------------------------------------------


def _metrics(request: HttpRequest) -> MetricsView:
    period = request.GET.get("period", "month")
    if period not in ("week", "month", "year"):
        raise InvalidInput("show by week, month or year", where="period")
    span = selectors.data_span()
    today = timezone.localdate()
    end = span[1] if span else today
    default_from = end - timedelta(days=90)
    since = _date(request.GET, "from", required=False) or default_from
    until = _date(request.GET, "to", required=False) or end
    if until < since:
        raise InvalidInput("the end is before the start", where="to")
    return metrics_view(period=period, since=since, until=until)


@require_GET
@permission_required(VIEW)
def metrics_page(request: HttpRequest) -> HttpResponse:
    require_user(request)
    try:
        view = _metrics(request)
        error, where = "", ""
    except InvalidInput as exc:
        error, where = exc.detail[0].upper() + exc.detail[1:], exc.where or ""
        view = metrics_view(period="month", since=None, until=None)
    return render(
        request,
        "discharge/metrics.jinja",
        {"view": view, "error": error, "where": where, "page_error": bool(error), "identity": str},
        status=400 if error else 200,
    )


@require_GET
@permission_required(VIEW)
def metrics_download(request: HttpRequest, key: str, extension: str) -> HttpResponse:
    require_user(request)
    if extension not in ("csv", "xlsx"):
        raise NotFound("tables download as csv or xlsx")
    view = _metrics(request)
    tables = view.tables()
    if key == "all" and extension == "xlsx":
        return xlsx_response(list(tables.values()), filename=f"discharge-metrics-{view.until}")
    if key not in tables:
        raise NotFound("there is no such table")
    name = f"discharge-{key}-{view.since}-to-{view.until}"
    if extension == "csv":
        return csv_response(tables[key], filename=name)
    return xlsx_response(tables[key], filename=name)


# --- the planner -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required(VIEW)
def planner(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    fitted = planning.planner_inputs(today=timezone.localdate())
    error, where = "", ""
    values = planner_form_values(fitted)
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            inputs, name, description = planner_inputs_from_form(fitted, request.POST)
            results = planning.plan_run(inputs)
            saved = services.scenario_save(
                user=user, name=name, description=description, inputs=inputs, results=results
            )
            return redirect("discharge:scenario", scenario_id=saved.pk)
        except InvalidInput as exc:
            error, where = exc.detail[0].upper() + exc.detail[1:], exc.where or ""
    return render(
        request,
        "discharge/planner.jinja",
        {
            "fitted": fitted,
            "values": values,
            "saved": selectors.scenarios(),
            "error": error,
            "where": where,
            "page_error": bool(error),
        },
        status=400 if error else 200,
    )


@require_GET
@permission_required(VIEW)
def scenario_page(request: HttpRequest, scenario_id: int) -> HttpResponse:
    require_user(request)
    found = selectors.scenario(scenario_id)
    return render(request, "discharge/scenario.jinja", {"view": scenario_view(found)})


@require_GET
@permission_required(VIEW)
def scenario_download(request: HttpRequest, scenario_id: int) -> HttpResponse:
    require_user(request)
    found = selectors.scenario(scenario_id)
    return xlsx_response(scenario_tables(found), filename=f"discharge-scenario-{found.pk}")


@require_GET
@permission_required(VIEW)
def compare(request: HttpRequest) -> HttpResponse:
    require_user(request)
    ids = [int(i) for i in request.GET.getlist("id") if i.isdigit()]
    chosen = [selectors.scenario(i) for i in ids[:4]]
    return render(
        request,
        "discharge/compare.jinja",
        {
            "views": [scenario_view(s) for s in chosen],
            "saved": selectors.scenarios(),
            "ids": ids,
        },
    )
