"""Writes of the platform core. Each is atomic and writes its own audit event."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from joinedup.core.audit import audit_record
from joinedup.core.errors import AccountLocked, SignInRefused
from joinedup.core.models import (
    AuditAction,
    BreakGlassGrant,
    BreakGlassOutcome,
    BreakGlassReason,
    Organisation,
    SignInThrottle,
    Team,
    User,
)
from joinedup.core.roles import Permission, Role
from joinedup.errors import AccessDenied, Conflict, InvalidInput, NotFound


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: Role,
    organisation: Organisation | None = None,
    teams: list[Team] | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    created_by: User | None = None,
    check_password: bool = True,
) -> User:
    """A new user with a role; a None password makes an OIDC-only account."""
    if User.objects.filter(username=username).exists():
        raise Conflict(f"a user called {username!r} already exists", where="username")
    user = User(
        username=username,
        role=role,
        organisation=organisation,
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    if password is None:
        user.set_unusable_password()
    else:
        if check_password:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise InvalidInput(" ".join(exc.messages), where="password") from None
        user.set_password(password)
    user.save()
    if teams:
        user.teams.set(teams)
    audit_record(actor=created_by, action=AuditAction.ADMIN, resource=f"user.create:{username}")
    return user


def sign_in(*, request: HttpRequest, username: str, password: str) -> User:
    """Check a password sign-in, locking the username after repeated failures.

    Failures are counted per username whether or not the user exists, so the
    lockout says nothing about which usernames are real. The count and the
    audit event are committed before the refusal is raised.
    """
    now = timezone.now()
    with transaction.atomic():
        throttle, _ = SignInThrottle.objects.select_for_update().get_or_create(username=username)
        locked = throttle.locked_until is not None and throttle.locked_until > now
        if locked:
            audit_record(
                actor=None,
                action=AuditAction.SIGN_IN_FAILED,
                resource="session",
                outcome="denied",
                reason=f"locked: {username}",
            )
    if locked:
        raise AccountLocked(
            f"sign-in is locked for {settings.LOCKOUT_MINUTES} minutes after "
            f"{settings.LOCKOUT_ATTEMPTS} failed attempts"
        )
    user = authenticate(request, username=username, password=password)
    with transaction.atomic():
        throttle = SignInThrottle.objects.select_for_update().get(username=username)
        if user is None:
            _record_failure(throttle, now)
        else:
            throttle.delete()
            audit_record(actor=user, action=AuditAction.SIGN_IN, resource="session")
    if user is None:
        raise SignInRefused("enter a correct username and password")
    return user


def _record_failure(throttle: SignInThrottle, now: datetime) -> None:
    window = timedelta(minutes=settings.LOCKOUT_MINUTES)
    if throttle.last_failure_at and now - throttle.last_failure_at > window:
        throttle.failures = 0
    throttle.failures += 1
    throttle.last_failure_at = now
    if throttle.failures >= settings.LOCKOUT_ATTEMPTS:
        throttle.locked_until = now + window
    throttle.save()
    audit_record(
        actor=None,
        action=AuditAction.SIGN_IN_FAILED,
        resource="session",
        outcome="denied",
        reason=f"failed password: {throttle.username}",
    )


def sign_in_recorded(*, user: User, method: str) -> None:
    """Audit a sign-in that another method (OIDC) has already checked."""
    audit_record(actor=user, action=AuditAction.SIGN_IN, resource="session", reason=method)


def sign_out_recorded(*, user: User) -> None:
    audit_record(actor=user, action=AuditAction.SIGN_OUT, resource="session")


@transaction.atomic
def break_glass_grant_create(
    *, user: User, person_id: uuid.UUID, reason: str, explanation: str
) -> BreakGlassGrant:
    """Grant the user time-limited access to one record, flagged for review."""
    if not user.has_role_permission(Permission.BREAK_GLASS):
        raise AccessDenied("your role cannot use break-glass access")
    if reason not in BreakGlassReason.values:
        raise InvalidInput("choose a reason for break-glass access", where="reason")
    explanation = explanation.strip()
    if len(explanation) < 10:
        raise InvalidInput(
            "explain in at least 10 characters why you need this record now",
            where="explanation",
        )
    now = timezone.now()
    grant = BreakGlassGrant.objects.create(
        user=user,
        person_id=person_id,
        reason=reason,
        explanation=explanation,
        granted_at=now,
        expires_at=now + timedelta(minutes=settings.BREAK_GLASS_MINUTES),
    )
    audit_record(
        actor=user,
        action=AuditAction.BREAK_GLASS,
        resource="person.record",
        person_id=person_id,
        reason=f"{BreakGlassReason(reason).label}: {explanation}",
    )
    return grant


@transaction.atomic
def break_glass_review(
    *, reviewer: User, grant_id: uuid.UUID, outcome: str, note: str
) -> BreakGlassGrant:
    """Record a reviewer's judgement of one break-glass access."""
    if not reviewer.has_role_permission(Permission.REVIEW_BREAK_GLASS):
        raise AccessDenied("your role cannot review break-glass access")
    grant = BreakGlassGrant.objects.select_for_update().filter(id=grant_id).first()
    if grant is None:
        raise NotFound("no such break-glass access")
    if grant.reviewed_at is not None:
        raise Conflict("this break-glass access has already been reviewed")
    if grant.user_id == reviewer.pk:
        raise AccessDenied("you cannot review your own break-glass access")
    if outcome not in BreakGlassOutcome.values:
        raise InvalidInput("choose whether the access was appropriate", where="outcome")
    grant.reviewed_by = reviewer
    grant.reviewed_at = timezone.now()
    grant.outcome = outcome
    grant.review_note = note.strip()
    grant.save()
    audit_record(
        actor=reviewer,
        action=AuditAction.REVIEW,
        resource=f"break_glass:{grant.id}",
        person_id=grant.person_id,
        reason=f"{outcome}: {grant.review_note}",
    )
    return grant
