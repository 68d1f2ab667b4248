"""Care-home pages: the register and each home, the alignment planner, the round lists.

The register and the planner hold no person-level data (homes, beds, practices, list
sizes: public information), so every signed-in role that may use the service directory
may see them; changing an alignment needs ``MANAGE_PERMISSION``. The round list is
person-level: direct care roles only, each resident shown only through the access
boundary, and each one audited (``selectors.round_list``).
"""

from __future__ import annotations

import datetime as dt
import math

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from joinedup.carehomes import charts, planner, presenters, selectors, services
from joinedup.carehomes.alignment import DEFAULT_BALANCE_WEIGHT, Rules
from joinedup.core.access import permission_required, person_data, require_user
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, User
from joinedup.core.roles import Permission
from joinedup.errors import InvalidInput, NotFound
from joinedup.web.tables import csv_response, xlsx_response

# Aligning homes to practices is a decision of the partnership's care-home programme,
# which its portfolio office runs (a dedicated permission would be better: see the ADR).
MANAGE_PERMISSION = Permission.MANAGE_CARE_HOMES
VIEW_PERMISSION = Permission.VIEW_DIRECTORY


def _can_manage(user: User) -> bool:
    return user.has_role_permission(MANAGE_PERMISSION)


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


@require_GET
@permission_required(VIEW_PERMISSION)
def home(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    homes = selectors.homes_all()
    return render(
        request,
        "carehomes/home.jinja",
        {
            "homes": homes,
            "beds": sum(h.beds for h in homes),
            "unaligned": sum(1 for h in homes if h.aligned_practice_id is None),
            "practices": selectors.practices_all(),
            "sees_people": user.has_role_permission(Permission.VIEW_PERSON),
            "can_manage": _can_manage(user),
            "imports": selectors.imports_recent(5) if _can_manage(user) else [],
        },
    )


@require_GET
@permission_required(VIEW_PERMISSION)
def register_download(request: HttpRequest, extension: str) -> HttpResponse:
    table = presenters.register_table(selectors.homes_all())
    if extension == "csv":
        return csv_response(table, filename="care-home-register")
    if extension == "xlsx":
        return xlsx_response(table, filename="care-home-register")
    raise NotFound("the register downloads as csv or xlsx")


@require_http_methods(["GET", "POST"])
@permission_required(VIEW_PERMISSION)
def home_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = require_user(request)
    care_home, changes = selectors.home_detail(code)
    error, where = "", ""
    values = {
        "practice": request.POST.get("practice", ""),
        "reason": request.POST.get("reason", ""),
    }
    if request.method == "POST":
        if not _can_manage(user):
            raise NotFound("there is no such page")
        try:
            services.alignment_set(
                user=user,
                home_code=care_home.code,
                practice_code=values["practice"],
                reason=values["reason"],
            )
            return redirect("carehomes:home-detail", code=care_home.code)
        except InvalidInput as exc:
            error, where = _first_upper(exc.detail), exc.where or "practice"
    site = selectors.practice_sites().get(care_home.aligned_practice_id or 0)
    return render(
        request,
        "carehomes/home_detail.jinja",
        {
            "home": care_home,
            "changes": changes,
            "distance": presenters.distance_to(care_home, site),
            "practices": selectors.practices_all(),
            "can_manage": _can_manage(user),
            "values": values,
            "error": error,
            "where": where,
            "page_error": bool(error),
        },
        status=400 if error else 200,
    )


def _rules(request: HttpRequest) -> tuple[Rules, dict[str, str]]:
    source = request.POST if request.method == "POST" else request.GET
    values = {k: source.get(k, "").strip() for k in ("balance_weight", "min_homes", "max_homes")}
    try:
        weight = float(values["balance_weight"]) if values["balance_weight"] else None
    except ValueError:
        raise InvalidInput(
            "enter the balance weight as a number, like 0.1", where="balance_weight"
        ) from None
    if weight is not None and not (math.isfinite(weight) and 0 <= weight <= 100):
        raise InvalidInput("enter a balance weight from 0 to 100", where="balance_weight")
    bounds: dict[str, int | None] = {}
    for key in ("min_homes", "max_homes"):
        text = values[key]
        if text and not (text.isdigit() and int(text) <= 100):
            raise InvalidInput("enter a whole number from 0 to 100, or leave it empty", where=key)
        bounds[key] = int(text) if text else None
    return Rules(
        balance_weight=DEFAULT_BALANCE_WEIGHT if weight is None else weight,
        min_homes=bounds["min_homes"],
        max_homes=bounds["max_homes"],
    ), values


@require_GET
@permission_required(VIEW_PERMISSION)
def planner_page(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    error, where, comparison = "", "", None
    values = {"balance_weight": "", "min_homes": "", "max_homes": ""}
    try:
        rules, values = _rules(request)
        comparison = planner.compare(rules)
    except InvalidInput as exc:
        error, where = _first_upper(exc.detail), exc.where or ""
    problem = ""
    if error and where not in values:
        # Not a field's fault (an empty register, rules no alignment can meet): say so plainly.
        problem, error, where = error, "", ""
    query = "&".join(f"{k}={v}" for k, v in values.items() if v)
    return render(
        request,
        "carehomes/planner.jinja",
        {
            "c": comparison,
            "values": values,
            "default_weight": DEFAULT_BALANCE_WEIGHT,
            "error": error,
            "where": where,
            "page_error": bool(error),
            "problem": problem,
            "query": query,
            "chart": charts.rates_chart(comparison) if comparison else "",
            "totals": presenters.totals_rows(comparison) if comparison else [],
            "signed": presenters.signed,
            "rate": presenters.rate,
            "km": presenters.km,
            "can_manage": _can_manage(user),
            "adopted": request.GET.get("adopted"),
        },
        status=400 if error else 200,
    )


@require_GET
@permission_required(VIEW_PERMISSION)
def planner_download(request: HttpRequest, key: str, extension: str) -> HttpResponse:
    rules, _ = _rules(request)
    comparison = planner.compare(rules)
    tables = presenters.planner_tables(comparison)
    if key == "all" and extension == "xlsx":
        return xlsx_response(list(tables.values()), filename="care-home-alignment")
    if key not in tables or extension not in ("csv", "xlsx"):
        raise NotFound("there is no such table")
    name = f"care-home-alignment-{key}"
    if extension == "csv":
        return csv_response(tables[key], filename=name)
    return xlsx_response(tables[key], filename=name)


@require_POST
@permission_required(MANAGE_PERMISSION)
def planner_adopt(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    rules, values = _rules(request)
    moved = services.alignment_adopt(
        user=user, rules=rules, fingerprint=request.POST.get("fingerprint", "")
    )
    query = "&".join(f"{k}={v}" for k, v in values.items() if v)
    return redirect(f"{reverse('carehomes:planner')}?adopted={moved}&{query}")


@require_GET
@permission_required(Permission.VIEW_PERSON)
def rounds(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("practice", "").strip()
    if code:
        if not code.isalnum():
            raise NotFound("there is no GP practice with this code")
        return redirect("carehomes:round-list", practice_code=code.upper())
    user = require_user(request)
    homes = selectors.homes_all()
    counts: dict[str, int] = {}
    for h in homes:
        if h.aligned_practice is not None:
            counts[h.aligned_practice.ods_code] = counts.get(h.aligned_practice.ods_code, 0) + 1
    own = user.organisation.ods_code if user.organisation else ""
    return render(
        request,
        "carehomes/rounds.jinja",
        {"practices": selectors.practices_all(), "counts": counts, "own": own},
    )


def _on(request: HttpRequest) -> dt.date:
    text = request.GET.get("on", "").strip()
    if not text:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "enter the date as YYYY-MM-DD, for example 2026-03-31", where="on"
        ) from None


@person_data
@require_GET
@permission_required(Permission.VIEW_PERSON)
def round_list(request: HttpRequest, practice_code: str) -> HttpResponse:
    user = require_user(request)
    error = ""
    try:
        on = _on(request)
    except InvalidInput as exc:
        error, on = _first_upper(exc.detail), timezone.localdate()
    listing = selectors.round_list(user=user, practice_code=practice_code, on=on)
    if request.GET.get("format") in ("csv", "xlsx") and not error:
        table = presenters.round_table(listing)
        audit_record(
            actor=user,
            action=AuditAction.EXPORT,
            resource="carehomes.round_list",
            reason=f"{listing.practice.ods_code} on {on}: {len(listing.entries)} residents",
        )
        name = f"home-round-{listing.practice.ods_code}-{on}"
        if request.GET["format"] == "csv":
            return csv_response(table, filename=name)
        return xlsx_response(table, filename=name)
    return render(
        request,
        "carehomes/round_list.jinja",
        {
            "listing": listing,
            "on": on,
            "on_text": request.GET.get("on", "") if error else on.isoformat(),
            "error": error,
            "page_error": bool(error),
            "stale": presenters.stale(listing),
        },
        status=400 if error else 200,
    )
