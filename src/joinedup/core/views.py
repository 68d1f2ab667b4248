"""Sign-in and sign-out, and the administrator's pages: users, audit trail, break-glass reviews."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth import login, logout
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from joinedup.core import oidc, services
from joinedup.core.access import permission_required, require_user
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, AuditEvent, BreakGlassGrant, BreakGlassOutcome, User
from joinedup.core.roles import Permission
from joinedup.errors import InvalidInput, JoinedUpError, NotFound

_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        password = request.POST.get("password", "")
        if not username:
            errors["username"] = "Enter your username"
        if not password:
            errors["password"] = "Enter your password"  # noqa: S105 - a message, not a secret
        if not errors:
            try:
                user = services.sign_in(request=request, username=username, password=password)
            except JoinedUpError as exc:
                errors["password"] = exc.detail[0].upper() + exc.detail[1:]
            else:
                login(request, user, backend=_MODEL_BACKEND)
                return redirect(_safe_next(request))
    status = 400 if errors else 200
    return render(
        request,
        "core/sign_in.jinja",
        {
            "errors": errors,
            "username": username,
            "next": request.GET.get("next", request.POST.get("next", "")),
            "oidc_enabled": settings.OIDC_ENABLED,
            "page_error": bool(errors),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if request.user.is_authenticated:
            services.sign_out_recorded(user=request.user)
        logout(request)
        return redirect("core:sign-in")
    return render(request, "core/sign_out.jinja", {"page_title": "Sign out"})


def oidc_start(request: HttpRequest) -> HttpResponse:
    if not settings.OIDC_ENABLED:
        raise NotFound("sign-in with an identity provider is not set up here")
    redirect_uri = request.build_absolute_uri(reverse("core:oidc-callback"))
    return redirect(oidc.authorization_url(request, redirect_uri=redirect_uri))


def oidc_callback(request: HttpRequest) -> HttpResponse:
    if "error" in request.GET:
        raise InvalidInput("the sign-in service did not sign you in; try again", where="error")
    code, state = request.GET.get("code", ""), request.GET.get("state", "")
    if not code or not state:
        raise InvalidInput("the sign-in response was incomplete")
    user = oidc.complete(request, code=code, state=state)
    login(request, user, backend=_MODEL_BACKEND)
    services.sign_in_recorded(user=user, method="oidc")
    return redirect(settings.LOGIN_REDIRECT_URL)


@permission_required(Permission.MANAGE_USERS)
def admin_home(request: HttpRequest) -> HttpResponse:
    pending = BreakGlassGrant.objects.filter(reviewed_at__isnull=True).count()
    return render(request, "core/admin_home.jinja", {"pending_reviews": pending})


@permission_required(Permission.MANAGE_USERS)
def users(request: HttpRequest) -> HttpResponse:
    rows = (
        User.objects.select_related("organisation").prefetch_related("teams").order_by("username")
    )
    return render(request, "core/users.jinja", {"users": rows})


@permission_required(Permission.VIEW_AUDIT)
def audit_trail(request: HttpRequest) -> HttpResponse:
    viewer = require_user(request)
    events = AuditEvent.objects.order_by("-id")
    action = request.GET.get("action", "")
    if action in AuditAction.values:
        events = events.filter(action=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    audit_record(actor=viewer, action=AuditAction.READ, resource=f"audit.trail:page{page.number}")
    return render(
        request,
        "core/audit_trail.jinja",
        {"page": page, "actions": AuditAction.choices, "action": action},
    )


@permission_required(Permission.REVIEW_BREAK_GLASS)
def break_glass_reviews(request: HttpRequest) -> HttpResponse:
    grants = BreakGlassGrant.objects.select_related("user", "user__organisation", "reviewed_by")
    return render(
        request,
        "core/break_glass.jinja",
        {
            "pending": grants.filter(reviewed_at__isnull=True).order_by("granted_at"),
            "reviewed": grants.filter(reviewed_at__isnull=False).order_by("-reviewed_at")[:50],
            "outcomes": BreakGlassOutcome.choices,
        },
    )


@require_POST
@permission_required(Permission.REVIEW_BREAK_GLASS)
def break_glass_review(request: HttpRequest, grant_id: uuid.UUID) -> HttpResponse:
    services.break_glass_review(
        reviewer=require_user(request),
        grant_id=grant_id,
        outcome=request.POST.get("outcome", ""),
        note=request.POST.get("note", ""),
    )
    return redirect("core:break-glass-reviews")
