"""Neighbourhood team pages: the front door, team referrals, caseloads and case finding,
worklists, care plans, packages of care, MDT meetings and the routing rules.

Every page that shows person data checks the user's role and team, reads through a scoped
selector, and writes an audit event; person pages open the person with ``person_open``.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from joinedup.core import throttle
from joinedup.core.access import permission_required, person_data, require_user
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, Neighbourhood, Team, User
from joinedup.core.roles import Permission
from joinedup.directory import selectors as directory_selectors
from joinedup.errors import InvalidInput, NotFound
from joinedup.neighbourhoods import forms, pdf, selectors, services
from joinedup.neighbourhoods.errors import FieldProblems, PlanConflict
from joinedup.neighbourhoods.models import (
    AgendaReason,
    LivesAlone,
    MeetingStatus,
    Need,
    Referral,
    ReferralStatus,
    ReferrerKind,
    RoutingRule,
    Service,
    Urgency,
)
from joinedup.neighbourhoods.presenters import (
    STATUS_COLOURS,
    ReferralRow,
    caseload_lines,
    caseload_table,
    field_errors,
    row_links,
)
from joinedup.people import services as people_services
from joinedup.web.tables import csv_response, xlsx_response

_DRAFTS = "neighbourhoods_drafts"


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context.setdefault("active_module", "neighbourhoods")
    context["local"] = timezone.localtime
    context["link"] = row_links()
    problems = context.get("problems") or []
    context["errors"] = field_errors(problems)
    context["page_error"] = bool(problems)
    return render(request, f"neighbourhoods/{template}.jinja", context, status=status)


def _int(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None


# ------------------------------------------------------------------------------- home


@require_GET
@permission_required(Permission.VIEW_PERSON)
def home(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    tasks = selectors.worklist(user=user)
    today = timezone.localdate()
    return _page(
        request,
        "home",
        {
            "teams": list(selectors.user_teams(user)),
            "overdue": sum(1 for t in tasks if t.due_on < today),
            "open_tasks": len(tasks),
            "coordinator": user.role == "care_coordinator",
        },
    )


# -------------------------------------------------------------------------- front door


def _own_draft(request: HttpRequest, token: str) -> Referral | None:
    """A draft the person asking may continue: their own, or one made in this session."""
    try:
        key = uuid.UUID(token)
    except ValueError:
        return None
    drafts = Referral.objects.for_system("front door: a referrer's own draft").filter(
        draft_token=key, status=ReferralStatus.DRAFT
    )
    user = request.user
    if user.is_authenticated:
        return drafts.filter(created_by=user).first()
    if token in request.session.get(_DRAFTS, []):
        return drafts.filter(created_by__isnull=True).first()
    return None


def _remember_draft(request: HttpRequest, referral: Referral) -> None:
    if not request.user.is_authenticated:
        kept = [t for t in request.session.get(_DRAFTS, []) if t != str(referral.draft_token)]
        request.session[_DRAFTS] = [*kept[-9:], str(referral.draft_token)]


def _chosen_service(form: dict[str, str]) -> directory_selectors.Hit | None:
    """The directory service the referrer chose, if it is still in the directory."""
    chosen = form.get("directory_service", "")
    if not chosen:
        return None
    try:
        return directory_selectors.service_summary(chosen)
    except NotFound:
        form["directory_service"] = ""
        return None


def _refer_context(
    form: dict[str, str], token: str, problems: list[tuple[str, str]], request: HttpRequest
) -> dict[str, Any]:
    return {
        "service": _chosen_service(form),
        "form": form,
        "token": token,
        "problems": problems,
        "needs": Need.choices,
        "urgencies": Urgency.choices,
        "referrer_kinds": [c for c in ReferrerKind.choices if c[0] != "professional"],
        "professional": request.user.is_authenticated,
        "page_title": "Make a referral",
    }


@require_http_methods(["GET", "POST"])
def refer(request: HttpRequest) -> HttpResponse:
    """The one front door: anyone may refer; nobody needs to know which team takes it."""
    user = request.user if request.user.is_authenticated else None
    if request.method == "GET":
        draft = _own_draft(request, request.GET.get("draft", ""))
        form = dict(draft.form) if draft else {}
        if user is not None and not form.get("referrer_name"):
            form["referrer_name"] = user.get_full_name()
        if user is not None and request.GET.get("directory_service"):
            form["directory_service"] = request.GET["directory_service"][:40]
        token = str(draft.draft_token) if draft else ""
        return _page(request, "refer", _refer_context(form, token, [], request))
    if user is None:
        throttle.hit_request("front-door", request)
    posted = {k: request.POST.get(k, "") for k in forms.REFERRAL_FIELDS}
    existing = _own_draft(request, request.POST.get("token", ""))
    referral = services.referral_draft_save(
        form=posted, user=user, token=existing.draft_token if existing else None
    )
    _remember_draft(request, referral)
    if request.POST.get("action") == "directory" and user is not None:
        back = f"{reverse('neighbourhoods:refer')}?draft={referral.draft_token}"
        query = urlencode({"return_to": back, "postcode": posted.get("postcode", "")})
        return redirect(f"{reverse('directory:home')}?{query}")
    if request.POST.get("action") == "draft":
        return _page(
            request,
            "refer",
            {**_refer_context(posted, str(referral.draft_token), [], request), "saved": True},
        )
    try:
        services.referral_submit(referral=referral, user=user)
    except FieldProblems as exc:
        context = _refer_context(posted, str(referral.draft_token), exc.problems, request)
        return _page(request, "refer", context, status=400)
    return redirect("neighbourhoods:referral-status", token=referral.draft_token)


@require_GET
def referral_status(request: HttpRequest, token: uuid.UUID) -> HttpResponse:
    """Where a referral went, for whoever made it (the link is theirs: it is unguessable)."""
    referral = (
        Referral.objects.for_system("front door: the referrer's own status page")
        .filter(draft_token=token)
        .exclude(status=ReferralStatus.DRAFT)
        .select_related("team")
        .first()
    )
    user = request.user
    if referral is None or (
        referral.created_by_id is not None and referral.created_by_id != getattr(user, "pk", None)
    ):
        raise NotFound("there is no referral at this address")
    events = list(referral.events.select_related("to_team", "from_team"))
    audit_record(
        actor=user if user.is_authenticated else None,
        action=AuditAction.READ,
        resource=f"neighbourhoods.referral:{referral.pk}:status",
    )
    return _page(
        request,
        "referral_status",
        {"referral": referral, "events": events, "page_title": f"Referral {referral.reference}"},
    )


@require_GET
@permission_required(Permission.VIEW_PERSON)
def referrals(request: HttpRequest) -> HttpResponse:
    """The referrals the user made, their drafts, and (coordinators) the unrouted ones."""
    user = require_user(request)
    made = [ReferralRow.of(r) for r in selectors.referrals_made_by(user=user)]
    drafts = list(
        Referral.objects.visible_to(user).filter(created_by=user, status=ReferralStatus.DRAFT)[:20]
    )
    unrouted = [ReferralRow.of(r) for r in selectors.referrals_unrouted(user=user)]
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource="neighbourhoods.referrals",
        reason=f"{len(made)} made, {len(unrouted)} unrouted listed",
    )
    return _page(
        request,
        "referrals",
        {"made": made, "drafts": drafts, "unrouted": unrouted, "colours": STATUS_COLOURS},
    )


def _referral_page(
    request: HttpRequest,
    user: User,
    referral_id: int,
    problems: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    referral = selectors.referral_detail(user=user, referral_id=referral_id)
    team = referral.team
    acts = (team is not None and user.teams.filter(id=team.pk).exists()) or (
        team is None and user.role == "care_coordinator"
    )
    audit_record(
        actor=user,
        action=AuditAction.READ,
        resource=f"neighbourhoods.referral:{referral.pk}",
        person_id=referral.person_id if acts else None,
    )
    team = referral.team
    return _page(
        request,
        "referral",
        {
            "referral": referral,
            "service": _chosen_service(dict(referral.form)),
            "row": ReferralRow.of(referral),
            "events": list(referral.events.select_related("from_team", "to_team", "by")),
            "acts": acts,
            "teams_options": [
                (t.pk, t.name) for t in selectors.all_teams() if t.pk != referral.team_id
            ],
            "members": list(team.members.order_by("first_name")) if team else [],
            "problems": problems or [],
            "form": request.POST if request.method == "POST" else {},
            "colours": STATUS_COLOURS,
            "page_title": f"Referral {referral.reference}",
        },
        status=status,
    )


@require_GET
@permission_required(Permission.VIEW_PERSON)
def referral(request: HttpRequest, referral_id: int) -> HttpResponse:
    return _referral_page(request, require_user(request), referral_id)


@require_POST
@permission_required(Permission.VIEW_PERSON)
def referral_act(request: HttpRequest, referral_id: int, act: str) -> HttpResponse:
    user = require_user(request)
    post = request.POST
    try:
        if act == "triage":
            services.referral_triage(user=user, referral_id=referral_id, note=post.get("note", ""))
        elif act == "accept":
            services.referral_accept(
                user=user,
                referral_id=referral_id,
                caseload_reason=post.get("caseload_reason", ""),
                key_worker_id=_int(post.get("key_worker")),
            )
        elif act == "redirect":
            services.referral_redirect(
                user=user,
                referral_id=referral_id,
                team_id=_int(post.get("team")),
                reason=post.get("reason", ""),
            )
        elif act == "close":
            services.referral_close(
                user=user, referral_id=referral_id, outcome=post.get("outcome", "")
            )
        else:
            raise NotFound("there is no such action")
    except FieldProblems as exc:
        return _referral_page(request, user, referral_id, exc.problems, status=400)
    if act == "redirect":
        return redirect(
            "neighbourhoods:referrals" if user.role == "care_coordinator" else "neighbourhoods:home"
        )
    return redirect("neighbourhoods:referral", referral_id=referral_id)


# ------------------------------------------------------------------------ team pages


@require_GET
@permission_required(Permission.VIEW_PERSON)
def team(request: HttpRequest, team_id: int) -> HttpResponse:
    user = require_user(request)
    found = selectors.team_for(user=user, team_id=team_id)
    rows = [ReferralRow.of(r) for r in selectors.referrals_for_team(user=user, team=found)]
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource=f"neighbourhoods.team_referrals:{found.pk}",
        reason=f"{len(rows)} referrals listed",
    )
    return _page(
        request,
        "team",
        {
            "team": found,
            "rows": rows,
            "breaches": sum(1 for r in rows if r.breached),
            "colours": STATUS_COLOURS,
            "page_title": found.name,
        },
    )


def _caseload_filter(request: HttpRequest) -> selectors.CaseloadFilter:
    get = request.GET
    sort = get.get("sort", "next_review")
    return selectors.CaseloadFilter(
        key_worker=get.get("key_worker", "") if get.get("key_worker") in ("me", "none") else "",
        frailty=get.get("frailty", "")
        if get.get("frailty") in ("fit", "mild", "moderate", "severe", "frail")
        else "",
        review=get.get("review", "") if get.get("review") in ("overdue", "month") else "",
        lives_alone=get.get("lives_alone", "")
        if get.get("lives_alone") in LivesAlone.values
        else "",
        sort=sort if sort in selectors.SORTS else "next_review",
        descending=get.get("order") == "desc",
    )


@require_GET
@permission_required(Permission.VIEW_PERSON)
def caseload(request: HttpRequest, team_id: int) -> HttpResponse:
    user = require_user(request)
    found = selectors.team_for(user=user, team_id=team_id)
    only = _caseload_filter(request)
    rows = selectors.caseload(user=user, team=found, only=only)
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "xlsx"):
        audit_record(
            actor=user,
            action=AuditAction.EXPORT,
            resource=f"neighbourhoods.caseload:{found.pk}",
            reason=f"{len(rows)} people as {fmt}",
        )
        table = caseload_table(found.name, rows)
        name = f"caseload-{found.name}-{timezone.localdate()}"
        return (
            csv_response(table, filename=name)
            if fmt == "csv"
            else xlsx_response(table, filename=name)
        )
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource=f"neighbourhoods.caseload:{found.pk}",
        reason=f"{len(rows)} people listed",
    )
    query = {
        k: v
        for k, v in request.GET.items()
        if k in ("key_worker", "frailty", "review", "lives_alone", "sort", "order")
    }
    return _page(
        request,
        "caseload",
        {
            "team": found,
            "rows": caseload_lines(rows, row_links()),
            "only": only,
            "query": query,
            "lives_alone_choices": LivesAlone.choices,
            "sorts": [
                ("next_review", "Next review"),
                ("name", "Name"),
                ("age", "Age"),
                ("frailty", "Frailty"),
                ("admissions", "Emergency admissions"),
                ("last_contact", "Last contact"),
                ("open_tasks", "Open tasks"),
            ],
            "page_title": f"Caseload: {found.name}",
        },
    )


@require_POST
@permission_required(Permission.VIEW_PERSON)
def caseload_risk(request: HttpRequest, team_id: int) -> HttpResponse:
    user = require_user(request)
    found = selectors.team_for(user=user, team_id=team_id)
    services.caseload_risk_refresh(user=user, team=found)
    return redirect("neighbourhoods:caseload", team_id=found.pk)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VIEW_PERSON)
def case_finding(request: HttpRequest, team_id: int) -> HttpResponse:
    user = require_user(request)
    found = selectors.team_for(user=user, team_id=team_id)
    problems: list[tuple[str, str]] = []
    if request.method == "POST":
        try:
            person_id = uuid.UUID(request.POST.get("person", ""))
        except ValueError:
            raise InvalidInput("choose a person to add", where="person") from None
        try:
            services.caseload_add(
                user=user,
                team=found,
                person_id=person_id,
                reason=request.POST.get("reason", "") or "Proposed by case finding",
                next_review_on=forms.parse_date(request.POST.get("next_review_on", "")),
            )
            return redirect("neighbourhoods:caseload", team_id=found.pk)
        except FieldProblems as exc:
            problems = exc.problems
    proposals = selectors.case_finding(user=user, team=found)
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource=f"neighbourhoods.case_finding:{found.pk}",
        reason=f"{len(proposals)} people proposed",
    )
    return _page(
        request,
        "case_finding",
        {
            "team": found,
            "proposals": proposals,
            "problems": problems,
            "page_title": f"Case finding: {found.name}",
        },
        status=400 if problems else 200,
    )


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VIEW_PERSON)
def entry(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = require_user(request)
    found = selectors.caseload_entry(user=user, entry_id=entry_id)
    problems: list[tuple[str, str]] = []
    if request.method == "POST" and request.POST.get("action") == "end":
        try:
            services.caseload_end(
                user=user, entry_id=found.pk, reason=request.POST.get("end_reason", "")
            )
            return redirect("neighbourhoods:caseload", team_id=found.team_id)
        except FieldProblems as exc:
            problems = exc.problems
    elif request.method == "POST":
        post = request.POST
        try:
            services.caseload_update(
                user=user,
                entry_id=found.pk,
                key_worker_id=_int(post.get("key_worker")),
                next_review_on=forms.parse_date(post.get("next_review_on", "")),
                last_contact_on=forms.parse_date(post.get("last_contact_on", "")),
                lives_alone=post.get("lives_alone", ""),
            )
            return redirect("neighbourhoods:caseload", team_id=found.team_id)
        except FieldProblems as exc:
            problems = exc.problems
    audit_record(
        actor=user,
        action=AuditAction.READ,
        resource="neighbourhoods.caseload_entry",
        person_id=found.person_id,
    )
    return _page(
        request,
        "entry",
        {
            "entry": found,
            "members": list(found.team.members.order_by("first_name")),
            "lives_alone_choices": LivesAlone.choices,
            "problems": problems,
            "page_title": "Caseload entry",
        },
        status=400 if problems else 200,
    )


# ------------------------------------------------------------------------------ tasks


@require_GET
@permission_required(Permission.VIEW_PERSON)
def worklist(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    tasks = selectors.worklist(user=user)
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource="neighbourhoods.worklist",
        reason=f"{len(tasks)} tasks listed",
    )
    return _page(
        request,
        "worklist",
        {"tasks": tasks, "today": timezone.localdate(), "page_title": "Your tasks"},
    )


@require_GET
@permission_required(Permission.VIEW_PERSON)
def team_tasks(request: HttpRequest, team_id: int) -> HttpResponse:
    user = require_user(request)
    found = selectors.team_for(user=user, team_id=team_id)
    tasks = selectors.team_tasks(user=user, team=found)
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource=f"neighbourhoods.team_tasks:{found.pk}",
        reason=f"{len(tasks)} tasks listed",
    )
    return _page(
        request,
        "team_tasks",
        {
            "team": found,
            "tasks": tasks,
            "today": timezone.localdate(),
            "page_title": f"Tasks: {found.name}",
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VIEW_PERSON)
def task(request: HttpRequest, task_id: int) -> HttpResponse:
    user = require_user(request)
    problems: list[tuple[str, str]] = []
    if request.method == "POST":
        try:
            if request.POST.get("action") == "done":
                services.task_complete(user=user, task_id=task_id)
            else:
                services.task_reassign(
                    user=user, task_id=task_id, owner_id=_int(request.POST.get("owner"))
                )
            return redirect("neighbourhoods:worklist")
        except FieldProblems as exc:
            problems = exc.problems
    found = selectors.task_for(user=user, task_id=task_id)
    audit_record(
        actor=user,
        action=AuditAction.READ,
        resource=f"neighbourhoods.task:{found.pk}",
        person_id=found.person_id,
    )
    return _page(
        request,
        "task",
        {
            "task": found,
            "members": list(found.team.members.order_by("first_name")),
            "problems": problems,
            "today": timezone.localdate(),
            "page_title": "Task",
        },
        status=400 if problems else 200,
    )


# ------------------------------------------------------------------------- care plans


def _plan_from_post(post: Any) -> dict[str, Any]:
    goals = []
    for n in range(min(_int(post.get("goal_count")) or 0, 200)):
        if post.get(f"goal-{n}-remove"):
            continue
        goals.append({"id": post.get(f"goal-{n}-id", ""), "text": post.get(f"goal-{n}", "")})
    actions = []
    for n in range(min(_int(post.get("action_count")) or 0, 200)):
        if post.get(f"action-{n}-remove"):
            continue
        actions.append(
            {
                "id": post.get(f"action-{n}-id", ""),
                "text": post.get(f"action-{n}-text", ""),
                "responsible": post.get(f"action-{n}-responsible", ""),
                "organisation": post.get(f"action-{n}-organisation", ""),
            }
        )
    return {
        "what_matters": post.get("what_matters", ""),
        "goals": goals,
        "actions": actions,
        "contingency": post.get("contingency", ""),
        "review_on": post.get("review_on", ""),
    }


def _apply_choices(content: dict[str, Any], post: Any) -> dict[str, Any]:
    """After a conflict: for each clash the practitioner chose "mine" for, take their text."""
    try:
        clashes = json.loads(post.get("clashes", "[]") or "[]")
        if not isinstance(clashes, list) or not all(
            isinstance(c, dict) and isinstance(c.get("field"), str) for c in clashes
        ):
            raise ValueError
    except ValueError:
        raise InvalidInput(
            "the merge could not be read: start the edit again", where="clashes"
        ) from None
    for n, clash in enumerate(clashes):
        choice = post.get(f"clash-{n}")
        if choice not in ("mine", "theirs"):
            raise FieldProblems([(f"clash-{n}", "Choose which version to keep")])
        if choice == "theirs":
            continue
        name = clash["field"]
        if ":" not in name:
            if name in content:
                content[name] = clash.get("mine") or ""
            continue
        kind, key = name.split(":", 1)
        if kind not in ("goals", "actions"):
            continue
        items = [i for i in content[kind] if str(i.get("id")) != key]
        if isinstance(clash.get("mine"), dict):
            items.append(clash["mine"])
        content[kind] = items
    return content


@person_data
@require_http_methods(["GET", "POST"])
@permission_required(Permission.VIEW_PERSON)
def careplan(request: HttpRequest, person_id: uuid.UUID) -> HttpResponse:
    user = require_user(request)
    person = people_services.person_open(
        user=user, person_id=person_id, resource="neighbourhoods.careplan"
    )
    plan = selectors.careplan_for(user=user, person_id=person.id)
    content = services.plan_content(plan)
    version = plan.version if plan else 0
    problems: list[tuple[str, str]] = []
    clashes: list[dict[str, Any]] = []
    status, saved = 200, False
    if request.method == "POST":
        content = _plan_from_post(request.POST)
        version = _int(request.POST.get("version")) or 0
        try:
            content = _apply_choices(content, request.POST)
            plan = services.careplan_save(
                user=user, person_id=person.id, base_version=version, content=content
            )
            content, version, saved = services.plan_content(plan), plan.version, True
        except PlanConflict as exc:
            content, version, status = exc.merge.merged, exc.current_version, 409
            clashes = [
                {"field": c.field, "mine": c.mine, "theirs": c.theirs, "base": c.base}
                for c in exc.merge.clashes
            ]
        except FieldProblems as exc:
            problems, status = exc.problems, 400
    editing = (
        request.GET.get("edit") == "1" or (request.method == "POST" and not saved) or plan is None
    )
    return _page(
        request,
        "careplan",
        {
            "person": person,
            "plan": plan,
            "content": content,
            "version": version,
            "problems": problems,
            "clashes": clashes,
            "clashes_json": json.dumps(clashes),
            "editing": editing,
            "saved": saved,
            "history": list(plan.versions.select_related("saved_by")[:10]) if plan else [],
            "page_title": "Care plan",
        },
        status=status,
    )


# ------------------------------------------------------------------------- packages


@person_data
@require_http_methods(["GET", "POST"])
@permission_required(Permission.VIEW_PERSON)
def packages(request: HttpRequest, person_id: uuid.UUID) -> HttpResponse:
    user = require_user(request)
    person = people_services.person_open(
        user=user, person_id=person_id, resource="neighbourhoods.packages"
    )
    problems: list[tuple[str, str]] = []
    if request.method == "POST":
        team_id = _int(request.POST.get("team"))
        try:
            if request.POST.get("action") == "end":
                services.package_end(
                    user=user,
                    package_id=_int(request.POST.get("package")) or 0,
                    ends_on=forms.parse_date(request.POST.get("ends_on", "")),
                )
            else:
                chosen = user.teams.filter(id=team_id).first() if team_id else None
                if chosen is None:
                    raise FieldProblems([("team", "Choose the team responsible for the package")])
                services.package_create(
                    user=user, person_id=person.id, team=chosen, form=request.POST
                )
            return redirect("neighbourhoods:packages", person_id=person.id)
        except FieldProblems as exc:
            problems = exc.problems
    found = selectors.packages_of(user=user, person_id=person.id)
    today = timezone.localdate()
    live = [p for p in found if p.ends_on is None or p.ends_on >= today]
    return _page(
        request,
        "packages",
        {
            "person": person,
            "packages": found,
            "weekly_total": sum((p.weekly_cost for p in live), start=0),
            "services": Service.choices,
            "teams": list(selectors.user_teams(user)),
            "problems": problems,
            "form": request.POST if problems else {},
            "today": today,
            "page_title": "Packages of care",
        },
        status=400 if problems else 200,
    )


@require_GET
@permission_required(Permission.VIEW_PERSON)
def package_totals(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    by_team, by_hood = selectors.package_totals()
    audit_record(actor=user, action=AuditAction.READ, resource="neighbourhoods.package_totals")
    return _page(
        request,
        "package_totals",
        {"by_team": by_team, "by_hood": by_hood, "page_title": "Packages of care: totals"},
    )


# ------------------------------------------------------------------------------- MDT


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VIEW_PERSON)
def meetings(request: HttpRequest, team_id: int) -> HttpResponse:
    user = require_user(request)
    found = selectors.team_for(user=user, team_id=team_id)
    problems: list[tuple[str, str]] = []
    if request.method == "POST":
        starts = _datetime(request.POST.get("date", ""), request.POST.get("time", ""))
        try:
            meeting = services.meeting_schedule(
                user=user, team=found, starts_at=starts, location=request.POST.get("location", "")
            )
            return redirect("neighbourhoods:meeting", meeting_id=meeting.pk)
        except FieldProblems as exc:
            problems = exc.problems
    return _page(
        request,
        "meetings",
        {
            "team": found,
            "meetings": selectors.meetings_for(user=user, team=found),
            "problems": problems,
            "form": request.POST,
            "page_title": f"MDT meetings: {found.name}",
        },
        status=400 if problems else 200,
    )


def _datetime(day: str, clock: str) -> datetime | None:
    parsed = forms.parse_date(day)
    if parsed is None:
        return None
    try:
        hour, minute = (int(p) for p in (clock or "09:00").split(":")[:2])
        return datetime(
            parsed.year,
            parsed.month,
            parsed.day,
            hour,
            minute,
            tzinfo=timezone.get_current_timezone(),
        )
    except ValueError:
        return None


def _meeting_context(user: User, meeting_id: int) -> dict[str, Any]:
    meeting = selectors.meeting_for(user=user, meeting_id=meeting_id)
    items = selectors.meeting_items(user=user, meeting=meeting)
    audit_record(
        actor=user,
        action=AuditAction.READ,
        resource=f"neighbourhoods.mdt:{meeting.pk}",
        reason=f"{len(items)} agenda items",
    )
    return {
        "meeting": meeting,
        "items": items,
        "attendees": list(meeting.attendees.order_by("first_name")),
        "members": list(meeting.team.members.order_by("first_name")),
        "reasons": dict(AgendaReason.choices),
        "held": meeting.status == MeetingStatus.HELD,
    }


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VIEW_PERSON)
def meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    user = require_user(request)
    problems: list[tuple[str, str]] = []
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "attendance":
                services.meeting_attendance(
                    user=user,
                    meeting_id=meeting_id,
                    attendee_ids=[int(v) for v in request.POST.getlist("attendees") if v.isdigit()],
                    others=request.POST.get("others", ""),
                )
            elif action == "finish":
                services.meeting_finish(user=user, meeting_id=meeting_id)
                return redirect("neighbourhoods:minutes", meeting_id=meeting_id)
            elif action == "rebuild":
                found = selectors.meeting_for(user=user, meeting_id=meeting_id)
                services.agenda_build(user=user, meeting=found)
            else:
                raise InvalidInput("choose an action", where="action")
            return redirect("neighbourhoods:meeting", meeting_id=meeting_id)
        except FieldProblems as exc:
            problems = exc.problems
    context = _meeting_context(user, meeting_id)
    context.update({"problems": problems, "page_title": "MDT meeting"})
    return _page(request, "meeting", context, status=400 if problems else 200)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.VIEW_PERSON)
def item(request: HttpRequest, item_id: int) -> HttpResponse:
    user = require_user(request)
    found = selectors.item_for(user=user, item_id=item_id)
    problems: list[tuple[str, str]] = []
    if request.method == "POST":
        post = request.POST
        decision = None
        if post.get("decision", "").strip():
            decision = services.DecisionInput(
                text=post.get("decision", ""),
                owner_id=_int(post.get("owner")),
                due_on=forms.parse_date(post.get("due_on", "")),
                task_title=post.get("task_title", ""),
            )
        try:
            services.item_record(
                user=user,
                item_id=found.pk,
                discussion=post.get("discussion", ""),
                decision=decision,
            )
            return redirect(
                reverse("neighbourhoods:meeting", kwargs={"meeting_id": found.meeting_id})
                + f"#item-{found.pk}"
            )
        except FieldProblems as exc:
            problems = exc.problems
    audit_record(
        actor=user,
        action=AuditAction.READ,
        resource=f"neighbourhoods.mdt:{found.meeting_id}:item",
        person_id=found.person_id,
    )
    return _page(
        request,
        "item",
        {
            "item": found,
            "decisions": list(found.decisions.all()),
            "members": list(found.meeting.team.members.order_by("first_name")),
            "reasons": dict(AgendaReason.choices),
            "problems": problems,
            "form": request.POST if problems else {},
            "page_title": "Agenda item",
        },
        status=400 if problems else 200,
    )


@require_GET
@permission_required(Permission.VIEW_PERSON)
def minutes(request: HttpRequest, meeting_id: int) -> HttpResponse:
    user = require_user(request)
    context = _meeting_context(user, meeting_id)
    context["page_title"] = "MDT minutes"
    return _page(request, "minutes", context)


@require_GET
@permission_required(Permission.VIEW_PERSON)
def minutes_pdf(request: HttpRequest, meeting_id: int) -> HttpResponse:
    user = require_user(request)
    context = _meeting_context(user, meeting_id)
    meeting = context["meeting"]
    audit_record(
        actor=user, action=AuditAction.EXPORT, resource=f"neighbourhoods.mdt:{meeting.pk}:pdf"
    )
    body = pdf.minutes_pdf(meeting=meeting, items=context["items"], attendees=context["attendees"])
    response = HttpResponse(body, content_type="application/pdf")
    stamp = timezone.localtime(meeting.starts_at)
    response["Content-Disposition"] = f'attachment; filename="mdt-minutes-{stamp:%Y-%m-%d}.pdf"'
    return response


# --------------------------------------------------------------------- routing rules


@require_GET
@permission_required(services.ROUTING_PERMISSION)
def rules(request: HttpRequest) -> HttpResponse:
    found = list(RoutingRule.objects.select_related("team", "neighbourhood"))
    return _page(
        request,
        "rules",
        {"rules": found, "page_title": "Referral routing rules", "active_module": "administration"},
    )


@require_http_methods(["GET", "POST"])
@permission_required(services.ROUTING_PERMISSION)
def rule(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    user = require_user(request)
    existing = RoutingRule.objects.filter(id=rule_id).first() if rule_id else None
    if rule_id and existing is None:
        raise NotFound("there is no such routing rule")
    problems: list[tuple[str, str]] = []
    form: dict[str, Any] = _rule_form(existing)
    if request.method == "POST":
        form = dict(request.POST.items())
        try:
            services.routing_rule_save(user=user, form=request.POST, rule_id=rule_id)
            return redirect("neighbourhoods:rules")
        except FieldProblems as exc:
            problems = exc.problems
    return _page(
        request,
        "rule",
        {
            "rule": existing,
            "form": form,
            "problems": problems,
            "needs": Need.choices,
            "urgencies": Urgency.choices,
            "teams": [(t.pk, t.name) for t in Team.objects.order_by("name")],
            "neighbourhoods": [(n.pk, n.name) for n in Neighbourhood.objects.order_by("name")],
            "page_title": "Routing rule",
            "active_module": "administration",
        },
        status=400 if problems else 200,
    )


def _rule_form(rule: RoutingRule | None) -> dict[str, Any]:
    if rule is None:
        return {"active": "yes"}
    return {
        "name": rule.name,
        "priority": rule.priority,
        "min_age": rule.min_age if rule.min_age is not None else "",
        "max_age": rule.max_age if rule.max_age is not None else "",
        "need": rule.need,
        "urgency": rule.urgency,
        "safeguarding": {True: "yes", False: "no", None: ""}[rule.safeguarding],
        "neighbourhood": rule.neighbourhood_id or "",
        "team": rule.team_id or "",
        "active": "yes" if rule.active else "no",
    }
