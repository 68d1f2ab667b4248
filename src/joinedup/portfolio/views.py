"""Portfolio pages for the portfolio office (``Permission.MANAGE_PORTFOLIO``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from joinedup.core.access import permission_required, require_user
from joinedup.core.roles import Permission
from joinedup.portfolio import exports, selectors, services
from joinedup.portfolio.errors import FormInvalid
from joinedup.portfolio.timeline import financial_year, fy_label, timeline_svg
from joinedup.web.tables import xlsx_response

ACTION_ROWS = 3


def _timeline(items: list) -> object:  # type: ignore[type-arg]
    return timeline_svg("timeline", selectors.lanes(items), today=selectors.board_today())


@require_GET
@permission_required(Permission.MANAGE_PORTFOLIO)
def home(request: HttpRequest) -> HttpResponse:
    items = selectors.programmes()
    return render(
        request,
        "portfolio/home.jinja",
        {
            "programmes": items,
            "timeline": _timeline(items),
            "fy": lambda d: fy_label(financial_year(d)),
        },
    )


@require_GET
@permission_required(Permission.MANAGE_PORTFOLIO)
def programme_detail(request: HttpRequest, code: str) -> HttpResponse:
    item = selectors.programme(code)
    return render(
        request,
        "portfolio/programme.jinja",
        {
            "p": item,
            "timeline": _timeline([item]),
            "risks": [r for r in selectors.risks() if r.programme_id == item.pk],
            "benefits": [b for b in selectors.benefits() if b.benefit.programme_id == item.pk],
            "decisions": [d for d in selectors.decisions() if d.programme_id == item.pk],
            "fy": lambda d: fy_label(financial_year(d)),
        },
    )


@require_GET
@permission_required(Permission.MANAGE_PORTFOLIO)
def decisions(request: HttpRequest) -> HttpResponse:
    return render(request, "portfolio/decisions.jinja", {"decisions": selectors.decisions()})


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MANAGE_PORTFOLIO)
def decision_new(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    fields = (
        "decided_on",
        "decision",
        "rationale",
        "accountable_organisation",
        "accountable_person",
        "present",
        "programme",
    )
    values = {f: request.POST.get(f, "") for f in fields}
    actions = [
        services.ActionInput(
            request.POST.get(f"action_{n}", ""),
            request.POST.get(f"action_{n}_owner", ""),
            request.POST.get(f"action_{n}_due", ""),
        )
        for n in range(1, ACTION_ROWS + 1)
    ]
    problems: list[tuple[str, str]] = []
    if request.method == "POST":
        try:
            made = services.decision_record(user=user, actions=actions, **values)
            return redirect(reverse("portfolio:decisions") + f"#{made.code}")
        except FormInvalid as exc:
            problems = exc.problems
    return render(
        request,
        "portfolio/decision_new.jinja",
        {
            "values": values,
            "actions": actions,
            "problems": problems,
            "errors": dict(problems),
            "page_error": bool(problems),
            "organisations": selectors.organisations(),
            "programmes": selectors.programmes(),
        },
        status=400 if problems else 200,
    )


@require_GET
@permission_required(Permission.MANAGE_PORTFOLIO)
def risks(request: HttpRequest) -> HttpResponse:
    return render(request, "portfolio/risks.jinja", {"risks": selectors.risks()})


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MANAGE_PORTFOLIO)
def risk_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = require_user(request)
    problems: list[tuple[str, str]] = []
    form = request.POST.get("form", "")
    if request.method == "POST":
        try:
            if form == "review":
                services.risk_review_add(
                    user=user,
                    risk_code=code,
                    **{
                        k: request.POST.get(k, "")
                        for k in ("reviewed_on", "likelihood", "impact", "note")
                    },
                )
            else:
                services.mitigation_add(
                    user=user,
                    risk_code=code,
                    **{
                        k: request.POST.get(k, "")
                        for k in ("action", "owner", "owner_organisation", "due_date")
                    },
                )
            return redirect("portfolio:risk", code=code)
        except FormInvalid as exc:
            problems = exc.problems
    return render(
        request,
        "portfolio/risk.jinja",
        {
            "r": selectors.risk(code),
            "problems": problems,
            "errors": dict(problems),
            "form": form,
            "values": request.POST,
            "page_error": bool(problems),
            "organisations": selectors.organisations(),
        },
        status=400 if problems else 200,
    )


@require_GET
@permission_required(Permission.MANAGE_PORTFOLIO)
def benefits(request: HttpRequest) -> HttpResponse:
    return render(request, "portfolio/benefits.jinja", {"benefits": selectors.benefits()})


@require_GET
@permission_required(Permission.MANAGE_PORTFOLIO)
def board_pack(request: HttpRequest) -> HttpResponse:
    items = selectors.programmes()
    return render(
        request,
        "portfolio/board_pack.jinja",
        {
            "programmes": items,
            "timeline": _timeline(items),
            "decisions": selectors.decisions(),
            "risks": selectors.risks(),
            "benefits": selectors.benefits(),
            "today": selectors.board_today(),
        },
    )


@require_GET
@permission_required(Permission.MANAGE_PORTFOLIO)
def board_pack_xlsx(request: HttpRequest) -> HttpResponse:
    return xlsx_response(exports.board_tables(), filename=f"board-pack-{selectors.board_today()}")
