"""Citizens' pages: the public sign-up and self-service pages (no account), and the
engagement officers' register, imports and panels (Permission.MANAGE_CITIZENS)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from markupsafe import Markup

from joinedup.citizens import (
    charts,
    engagement,
    imports,
    panels,
    presenters,
    selectors,
    services,
)
from joinedup.citizens import selection as kernel
from joinedup.citizens.forms import CHOICES, TEXT_FIELDS
from joinedup.citizens.models import (
    AGE_BANDS,
    INTERESTS,
    Contact,
    Ethnicity,
    GenderSame,
    ImportBatch,
    MemberStatus,
    Outcome,
    Panel,
    PanelKind,
    Sex,
    Survey,
    Tenure,
    YesNo,
)
from joinedup.citizens.selection.errors import InfeasibleQuotas
from joinedup.core import throttle
from joinedup.core.access import permission_required, require_user
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, Neighbourhood, User
from joinedup.core.roles import Permission
from joinedup.errors import InvalidInput, JoinedUpError, NotFound
from joinedup.web.tables import Table, csv_response, xlsx_response

_CHOICES = {
    "age_band": [(b, b) for b in AGE_BANDS],
    "sex": Sex.choices,
    "gender_same_as_sex": GenderSame.choices,
    "ethnic_group": Ethnicity.choices,
    "disability": YesNo.choices,
    "carer": YesNo.choices,
    "tenure": Tenure.choices,
    "contact_preference": Contact.choices,
    "interests": [(i, i) for i in INTERESTS],
}


def _site(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _form_values(request: HttpRequest) -> dict[str, Any]:
    values: dict[str, Any] = {k: request.POST.get(k, "") for k in (*TEXT_FIELDS, *CHOICES)}
    values["interests"] = request.POST.getlist("interests")
    values["consent"] = request.POST.get("consent") == "yes"
    return values


def _volunteer_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    errors = context.get("errors", {})
    return render(
        request,
        template,
        {"choices": _CHOICES, "errors": errors, "page_error": bool(errors), **context},
        status=status,
    )


# --- Public pages ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _volunteer_page(request, "citizens/join.jinja", {"v": {}})
    throttle.hit_request("citizens-join", request)
    values = _form_values(request)
    cleaned = services.clean(request.POST, values["interests"])
    if not cleaned.ok:
        return _volunteer_page(
            request, "citizens/join.jinja", {"v": values, "errors": cleaned.errors}, status=400
        )
    services.volunteer_sign_up(cleaned=cleaned, site=_site(request))
    return redirect("citizens:joined")


@require_GET
def joined(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "citizens/message.jinja",
        {
            "title": "Thank you for joining",
            "paragraphs": [
                (
                    "If you gave an email address, we have sent you a link: open it to confirm "
                    "your place on the register. The email also has a link to see, change or "
                    "delete your details."
                ),
                "If you did not give an email address, we will write or call to confirm.",
            ],
        },
    )


@require_GET
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    services.volunteer_confirm(token=token)
    return render(
        request,
        "citizens/message.jinja",
        {
            "title": "You are on the citizens' register",
            "paragraphs": ["Thank you. We will be in touch when there is a chance to take part."],
        },
    )


@require_http_methods(["GET", "POST"])
def manage_request(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "citizens/manage_request.jinja", {"email": "", "errors": {}})
    throttle.hit_request("citizens-link", request)
    email = request.POST.get("email", "").strip()
    if "@" not in email:
        errors = {"email": "Enter the email address you joined with"}
        return render(
            request,
            "citizens/manage_request.jinja",
            {"email": email, "errors": errors, "page_error": True},
            status=400,
        )
    throttle.hit("citizens-link-email", email)
    services.manage_link_send(email=email, site=_site(request))
    return render(
        request,
        "citizens/message.jinja",
        {
            "title": "Check your email",
            "paragraphs": [
                (
                    "If that address is on the register, we have sent it a link to your "
                    "details. The link works for 7 days."
                )
            ],
        },
    )


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        volunteer = services.volunteer_view(token=token)
        return _volunteer_page(
            request,
            "citizens/manage.jinja",
            {
                "v": volunteer,
                "volunteer": volunteer,
                "token": token,
                "saved": "saved" in request.GET,
            },
        )
    values = _form_values(request)
    cleaned = services.clean(request.POST, values["interests"], consent=False)
    if not cleaned.ok:
        volunteer = services.token_open(token, salt=services.MANAGE_SALT, days=services.MANAGE_DAYS)
        context = {"v": values, "volunteer": volunteer, "token": token, "errors": cleaned.errors}
        return _volunteer_page(request, "citizens/manage.jinja", context, status=400)
    services.volunteer_update(token=token, cleaned=cleaned)
    return redirect(f"{request.path}?saved=1")


@require_http_methods(["GET", "POST"])
def manage_delete(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        services.token_open(token, salt=services.MANAGE_SALT, days=services.MANAGE_DAYS)
        return render(request, "citizens/manage_delete.jinja", {"token": token})
    services.volunteer_erase_by_token(token=token)
    return render(
        request,
        "citizens/message.jinja",
        {
            "title": "Your details have been deleted",
            "paragraphs": ["Thank you for being on the register. You can join again at any time."],
            "link": (request.build_absolute_uri("/citizens/join/"), "Join the register again"),
        },
    )


# --- Staff: the register ---------------------------------------------------------------


def _neighbourhood(request: HttpRequest, name: str = "neighbourhood") -> Neighbourhood | None:
    value = (request.POST if request.method == "POST" else request.GET).get(name, "")
    if not value:
        return None
    found = Neighbourhood.objects.filter(code=value).first()
    if found is None:
        raise InvalidInput("choose a neighbourhood from the list", where=name)
    return found


def _hoods() -> list[tuple[str, str]]:
    return [("", "Whole borough"), *Neighbourhood.objects.values_list("code", "name")]


def _share_chart(makeup: selectors.Makeup) -> Markup:
    pairs = [charts.Pair(s.label, s.pool_share, s.population_share) for s in makeup.shares]
    return charts.share_chart(f"makeup-{makeup.feature}", makeup.label, pairs)


@require_GET
@permission_required(Permission.MANAGE_CITIZENS)
def home(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    hood = _neighbourhood(request)
    makeup = selectors.makeup(user=user, neighbourhood=hood)
    return render(
        request,
        "citizens/home.jinja",
        {
            "active_module": "citizens",
            "counts": selectors.register_counts(user=user),
            "makeup": [(m, _share_chart(m)) for m in makeup],
            "hood": hood,
            "hoods": _hoods(),
        },
    )


@require_GET
@permission_required(Permission.MANAGE_CITIZENS)
def search(request: HttpRequest) -> HttpResponse:
    user = require_user(request)
    query = request.GET.get("q", "").strip()
    found = selectors.volunteer_search(user=user, query=query) if query else []
    return render(request, "citizens/search.jinja", {"query": query, "found": found})


@require_GET
@permission_required(Permission.MANAGE_CITIZENS)
def export(request: HttpRequest, extension: str) -> HttpResponse:
    if extension not in {"csv", "xlsx"}:
        raise NotFound("the register downloads as .csv or .xlsx")
    rows = selectors.volunteers_export(user=require_user(request), extension=extension)
    table = Table("Citizens register", selectors.EXPORT_COLUMNS, rows)
    if extension == "xlsx":
        return xlsx_response(table, filename="citizens-register")
    return csv_response(table, filename="citizens-register")


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MANAGE_CITIZENS)
def import_page(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "Choose a CSV or XLSX file to import"
        else:
            try:
                result = imports.volunteers_import(
                    name=upload.name or "upload", content=upload.read(), user=require_user(request)
                )
                return redirect("citizens:import", batch_id=result.batch.pk)
            except InvalidInput as exc:
                error = exc.detail[0].upper() + exc.detail[1:]
    return render(
        request,
        "citizens/imports.jinja",
        {
            "batches": ImportBatch.objects.all()[:50],
            "error": error,
            "page_error": bool(error),
        },
        status=400 if error else 200,
    )


@require_GET
@permission_required(Permission.MANAGE_CITIZENS)
def import_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(ImportBatch, pk=batch_id)
    return render(
        request, "citizens/import.jinja", {"batch": batch, "problems": batch.problems.all()}
    )


@require_GET
@permission_required(Permission.MANAGE_CITIZENS)
def import_report(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The rows an import kept back, with why, to send back to whoever supplied the file."""
    batch = get_object_or_404(ImportBatch, pk=batch_id)
    rows: list[list[str | int]] = [[p.line, p.field, p.reason] for p in batch.problems.all()]
    table = Table(f"Kept back from {batch.filename}", ("line", "field", "reason"), rows)
    return csv_response(table, filename=f"import-{batch.pk}-report")


# --- Staff: panels ---------------------------------------------------------------------


@require_GET
@permission_required(Permission.MANAGE_CITIZENS)
def panel_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "citizens/panels.jinja",
        {"panels": Panel.objects.select_related("neighbourhood")[:100]},
    )


def _features(request: HttpRequest) -> list[str]:
    source = request.POST if request.method == "POST" else request.GET
    chosen = [f for f in source.getlist("features") if f in selectors.FEATURES]
    return chosen or ["age_band", "sex", "ethnic_group", "imd_quintile"]


def _int(value: str, where: str, default: int | None = None) -> int | None:
    if not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"Enter a whole number for the {where}", where=where) from None


MAX_QUOTAS = 500


def _quota_rows(request: HttpRequest) -> list[tuple[str, str, str, str]]:
    """The quota table as posted (feature, value, min, max), as text."""
    count = request.POST.get("quota_count", "0")
    n = min(int(count), MAX_QUOTAS) if count.isdigit() else 0
    return [
        (
            request.POST.get(f"feature-{i}", ""),
            request.POST.get(f"value-{i}", ""),
            request.POST.get(f"min-{i}", ""),
            request.POST.get(f"max-{i}", ""),
        )
        for i in range(n)
    ]


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MANAGE_CITIZENS)
def panel_new(request: HttpRequest) -> HttpResponse:
    """Set up a draw: filters, features and size give suggested quotas to edit or replace
    with an uploaded file (either dialect); "Draw the panel" runs it."""
    user = require_user(request)
    source = request.POST if request.method == "POST" else request.GET
    context: dict[str, Any] = {
        "hoods": _hoods(),
        "features": list(selectors.FEATURES.items()),
        "kinds": PanelKind.choices,
        "values": {
            k: source.get(k, "")
            for k in ("name", "kind", "size", "method", "seed", "neighbourhood")
        },
        "chosen": _features(request),
        "errors": {},
    }
    context["values"]["size"] = context["values"]["size"] or "30"
    drawing = request.method == "POST" and request.POST.get("action") == "draw"
    if drawing:
        context["quotas"] = _quota_rows(request)  # kept on the page if the draw fails
    try:
        hood = _neighbourhood(request)
        size = _int(context["values"]["size"], "size", 30) or 30
        quotas_csv = _uploaded_quotas(request)
        if drawing:
            quotas_csv = quotas_csv or panels.quotas_from_table(context["quotas"])
            return _draw(request, user, hood, size, quotas_csv, context)
        context["quotas"] = _suggested(user, hood, size, context["chosen"], quotas_csv)
    except InvalidInput as exc:
        where = exc.where if exc.where in _FIELDS else "quotas"
        context["errors"] = {where: exc.detail[0].upper() + exc.detail[1:]}
        context.setdefault("quotas", [])
    return render(
        request,
        "citizens/panel_new.jinja",
        {**context, "page_error": bool(context["errors"])},
        status=400 if context["errors"] else 200,
    )


_FIELDS = {"name", "kind", "neighbourhood", "size", "features", "method", "seed", "quotas_file"}


def _uploaded_quotas(request: HttpRequest) -> str:
    upload = request.FILES.get("quotas_file")
    if upload is None:
        return ""
    content: bytes = upload.read()
    return content.decode("utf-8-sig", errors="replace")


def _suggested(
    user: User, hood: Neighbourhood | None, size: int, features: list[str], quotas_csv: str
) -> list[tuple[str, str, int, int]]:
    if quotas_csv:
        table = kernel.parse_quotas(quotas_csv)
    else:
        pool = panels.pool_build(user=user, neighbourhood=hood, features=features)
        table = panels.quotas_suggest(pool=pool, features=features, size=size, neighbourhood=hood)
    return [(q.feature, q.value, q.min, q.max) for q in table.quotas]


def _draw(
    request: HttpRequest,
    user: User,
    hood: Neighbourhood | None,
    size: int,
    quotas_csv: str,
    context: dict[str, Any],
) -> HttpResponse:
    values = context["values"]
    draw = panels.DrawRequest(
        name=values["name"],
        kind=values["kind"] if values["kind"] in PanelKind.values else PanelKind.FOCUS_GROUP,
        neighbourhood=hood,
        features=tuple(context["chosen"]),
        quotas_csv=quotas_csv,
        size=size,
        method=values["method"] or "leximin",
        seed=_int(values["seed"], "seed"),
        public=request.POST.get("public") == "yes",
    )
    try:
        panel = panels.panel_draw(user=user, request=draw, pool_limit=panels.WEB_POOL_LIMIT)
    except InfeasibleQuotas as exc:
        table = kernel.parse_quotas(quotas_csv)
        context["quotas"] = [(q.feature, q.value, q.min, q.max) for q in table.quotas]
        context["relaxation"] = exc.report
        return render(
            request, "citizens/panel_new.jinja", {**context, "page_error": True}, status=422
        )
    return redirect("citizens:panel", panel_id=panel.pk)


def _panel_context(panel: Panel, user: User) -> dict[str, Any]:
    members = list(panel.members.select_related("volunteer"))
    audit_record(
        actor=user,
        action=AuditAction.READ,
        resource=f"citizens.panel:{panel.pk}",
        reason=f"{len(members)} members shown",
    )
    seated = [m.ref for m in members if m.status != MemberStatus.DROPPED]
    decisions = engagement.decision_choices()
    return {
        "panel": panel,
        "report": panel.report,
        "members": members,
        "chances": panels.probabilities(panel),
        "quota_lines": presenters.quota_lines(panel.audit, seated),
        "bands": presenters.chances(panel.audit, float(panel.report["equal_share"])),
        "decisions": [("", "No decision yet"), *decisions],
        "decision_text": dict(decisions),
        "feature_names": [
            h for h in panel.audit["pool"]["header"] if h not in {"ref", "household"}
        ],
        "labels": selectors.FEATURES,
        "statuses": MemberStatus,
        "surveys": panel.surveys.all(),
        "outcomes": panel.outcomes.all(),
        "invitation": engagement.invitation(
            panel, details=panel.audit.get("invitation_details", "«when and where»")
        ),
        "public": bool(panel.audit.get("public_lottery")),
        "seated_choices": [("", "Choose"), *((ref, ref) for ref in seated)],
    }


@require_GET
@permission_required(Permission.MANAGE_CITIZENS)
def panel_detail(request: HttpRequest, panel_id: int) -> HttpResponse:
    panel = get_object_or_404(Panel, pk=panel_id)
    context = _panel_context(panel, require_user(request))
    context["replay"] = request.session.pop(f"replay-{panel.pk}", None)
    context["message"] = request.session.pop(f"message-{panel.pk}", "")
    return render(request, "citizens/panel.jinja", context)


def _back(request: HttpRequest, panel: Panel, message: str) -> HttpResponse:
    request.session[f"message-{panel.pk}"] = message
    return redirect("citizens:panel", panel_id=panel.pk)


@require_POST
@permission_required(Permission.MANAGE_CITIZENS)
def panel_replay(request: HttpRequest, panel_id: int) -> HttpResponse:
    panel = get_object_or_404(Panel, pk=panel_id)
    problems = panels.panel_replay(user=require_user(request), panel=panel)
    request.session[f"replay-{panel.pk}"] = problems
    return redirect(f"{panel_url(panel)}#replay")


def panel_url(panel: Panel) -> str:
    from django.urls import reverse

    return reverse("citizens:panel", kwargs={"panel_id": panel.pk})


@require_POST
@permission_required(Permission.MANAGE_CITIZENS)
def panel_action(request: HttpRequest, panel_id: int, action: str) -> HttpResponse:
    """The panel page's buttons: announce, replace, invite, remind, member, survey, outcome."""
    panel = get_object_or_404(Panel, pk=panel_id)
    user = require_user(request)
    post = request.POST
    try:
        message = _act(user, panel, action, post)
    except InfeasibleQuotas as exc:
        message = "No replacement keeps every quota. " + exc.detail.replace("\n", " ")
    except JoinedUpError as exc:
        message = "Not done: " + exc.detail
    return _back(request, panel, message)


def _announce(user: User, panel: Panel, post: QueryDict) -> str:
    number = _int(post.get("number", ""), "number")
    panels.panel_announce(user=user, panel=panel, number=number or 0)
    return f"Number {number} drew the panel from the published list."


def _replace(user: User, panel: Panel, post: QueryDict) -> str:
    dropped = post.get("dropped", "")
    new = panels.panel_replace(user=user, panel=panel, dropped=dropped)
    return f"{new} was drawn to replace {dropped}; every quota still holds."


def _invite(user: User, panel: Panel, post: QueryDict) -> str:
    sent = engagement.invitations_send(user=user, panel=panel, details=post.get("details", ""))
    return f"Invitations: {sent['emailed']} emailed, {sent['letters']} to send by letter or phone."


def _remind(user: User, panel: Panel, post: QueryDict) -> str:
    return f"Reminders sent to {engagement.reminders_send(user=user, panel=panel)} people."


def _member(user: User, panel: Panel, post: QueryDict) -> str:
    ref = post.get("ref", "")
    reply, attended = post.get("reply", ""), post.get("attended", "")
    engagement.member_update(user=user, panel=panel, ref=ref, reply=reply, attended=attended)
    return f"Saved for {ref}."


def _survey(user: User, panel: Panel, post: QueryDict) -> str:
    title, questions = post.get("title", ""), post.get("questions", "")
    survey = engagement.survey_create(user=user, panel=panel, title=title, questions=questions)
    return f"Survey “{survey.title}” created."


def _outcome(user: User, panel: Panel, post: QueryDict) -> str:
    engagement.outcome_record(
        user=user,
        panel=panel,
        you_said=post.get("you_said", ""),
        we_did=post.get("we_did", ""),
        decision_code=post.get("decision_code", ""),
    )
    return "“You said, we did” recorded."


_ACTIONS: dict[str, Callable[[User, Panel, QueryDict], str]] = {
    "announce": _announce,
    "replace": _replace,
    "invite": _invite,
    "remind": _remind,
    "member": _member,
    "survey": _survey,
    "outcome": _outcome,
}


def _act(user: User, panel: Panel, action: str, post: QueryDict) -> str:
    if action not in _ACTIONS:
        raise NotFound("there is no such action on a panel")
    return _ACTIONS[action](user, panel, post)


@require_GET
@permission_required(Permission.MANAGE_CITIZENS)
def panel_download(request: HttpRequest, panel_id: int, what: str) -> HttpResponse:
    panel = get_object_or_404(Panel, pk=panel_id)
    user = require_user(request)
    if what == "audit.json":
        audit_record(
            actor=user,
            action=AuditAction.EXPORT,
            resource=f"citizens.panel:{panel.pk}",
            reason="audit record",
        )
        response = HttpResponse(panels.replay_text(panel), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="panel-{panel.pk}-audit.json"'
        return response
    if what == "probabilities.csv":
        rows = [
            [ref, *values.values(), f"{p:.6f}", "yes" if seated else "no"]
            for ref, values, p, seated in panels.probabilities(panel)
        ]
        names = [h for h in panel.audit["pool"]["header"] if h not in {"ref", "household"}]
        return csv_response(
            Table("Chances", ["ref", *names, "probability", "on_panel"], rows),
            filename=f"panel-{panel.pk}-probabilities",
        )
    if what == "mail-merge.csv":
        rows = engagement.mail_merge(user=user, panel=panel)
        return csv_response(
            Table("Mail merge", engagement.MAIL_MERGE_COLUMNS, rows),
            filename=f"panel-{panel.pk}-mail-merge",
        )
    raise InvalidInput("unknown download", where="what")


@require_http_methods(["GET", "POST"])
@permission_required(Permission.MANAGE_CITIZENS)
def survey_detail(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = get_object_or_404(Survey.objects.select_related("panel"), pk=survey_id)
    user = require_user(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        answers = [request.POST.get(f"q{n}", "") for n in range(len(survey.questions))]
        try:
            engagement.survey_response_record(
                user=user, survey=survey, ref=request.POST.get("ref", ""), answers=answers
            )
            return redirect("citizens:survey", survey_id=survey.pk)
        except JoinedUpError as exc:
            where = exc.where if exc.where in {f"q{n}" for n in range(len(answers))} else "ref"
            errors[where] = exc.detail[0].upper() + exc.detail[1:]
    snapshot = survey.panel.audit["pool"]["header"]
    reported = [f for f in engagement.REPORTED_BY if f in snapshot]
    by = request.GET.get("by", "")
    if by not in reported:
        by = reported[0] if reported else ""
    waiting = survey.panel.members.filter(responded_at=None).exclude(
        status__in=[MemberStatus.DROPPED, MemberStatus.DECLINED]
    )
    return render(
        request,
        "citizens/survey.jinja",
        {
            "survey": survey,
            "results": engagement.survey_results(survey=survey, by=by),
            "by": by,
            "by_choices": [(f, selectors.FEATURES[f]) for f in reported],
            "responses": survey.responses.count(),
            "waiting": [m.ref for m in waiting],
            "member_choices": [(m.ref, m.ref) for m in waiting],
            "pairs": [[(o, o) for o in q["options"]] for q in survey.questions],
            "errors": errors,
            "page_error": bool(errors),
        },
        status=400 if errors else 200,
    )


@require_GET
@permission_required(Permission.MANAGE_CITIZENS)
def outcomes(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "citizens/outcomes.jinja",
        {
            "outcomes": Outcome.objects.select_related("panel")[:200],
            "decision_text": dict(engagement.decision_choices()),
        },
    )
