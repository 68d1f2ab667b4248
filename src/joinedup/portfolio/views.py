"""Portfolio pages for the portfolio office (``Permission.MANAGE_PORTFOLIO``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from joinedup.core.access import permission_required, require_user
from joinedup.core.roles import Permission
from joinedup.portfolio import exports, forms, selectors, services
from joinedup.portfolio.errors import FormInvalid
from joinedup.portfolio.models import MilestoneStatus, Rag
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
            "changes": selectors.milestone_changes([m.code for m in item.milestones.all()]),
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


def _form_context(problems: list[tuple[str, str]]) -> dict[str, object]:
    return {"problems": problems, "errors": dict(problems), "page_error": bool(problems)}


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MANAGE_PORTFOLIO)
def project_edit(request: HttpRequest, code: str, project: str = "") -> HttpResponse:
    """Add a project to a programme (no ``project``) or change one."""
    user = require_user(request)
    item = selectors.programme(code)
    saved = selectors.project(item, project) if project else None
    values = forms.project_initial(saved)
    problems: list[tuple[str, str]] = []
    if request.method == "POST":
        values = forms.project_input(request.POST)
        try:
            if saved is None:
                services.project_add(user=user, programme_code=code, data=values)
            else:
                services.project_update(
                    user=user, programme_code=code, project_code=saved.code, data=values
                )
            return redirect(reverse("portfolio:programme", args=[code]) + "#projects")
        except FormInvalid as exc:
            problems = exc.problems
    return render(
        request,
        "portfolio/project_form.jinja",
        {
            "p": item,
            "project": saved,
            "values": values,
            "organisations": [(o.ods_code, o.name) for o in selectors.organisations()],
            **_form_context(problems),
        },
        status=400 if problems else 200,
    )


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MANAGE_PORTFOLIO)
def milestone_edit(request: HttpRequest, code: str, milestone: str = "") -> HttpResponse:
    """Add a milestone to a programme (no ``milestone``) or update one, with a note of why."""
    user = require_user(request)
    item = selectors.programme(code)
    saved = selectors.milestone(item, milestone) if milestone else None
    values = forms.milestone_initial(saved)
    problems: list[tuple[str, str]] = []
    if request.method == "POST":
        values = forms.milestone_input(request.POST)
        try:
            if saved is None:
                services.milestone_add(user=user, programme_code=code, data=values)
            else:
                services.milestone_update(
                    user=user, programme_code=code, milestone_code=saved.code, data=values
                )
            return redirect(reverse("portfolio:programme", args=[code]) + "#milestones")
        except FormInvalid as exc:
            problems = exc.problems
    changes = selectors.milestone_changes([saved.code]) if saved is not None else {}
    return render(
        request,
        "portfolio/milestone_form.jinja",
        {
            "p": item,
            "milestone": saved,
            "values": values,
            "history": changes.get(saved.code, []) if saved is not None else [],
            "projects": [(pr.code, pr.name) for pr in item.projects.all()],
            "statuses": MilestoneStatus.choices,
            "rags": [(r.value, r.label) for r in (Rag.GREEN, Rag.AMBER, Rag.RED, Rag.COMPLETE)],
            **_form_context(problems),
        },
        status=400 if problems else 200,
    )
