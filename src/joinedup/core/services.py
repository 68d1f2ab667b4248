"""Writes of the platform core. Each is atomic and writes its own audit event."""

from __future__ import annotations

import itertools
import re
import unicodedata
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
        _set_password(user, password, check=check_password)
    user.save()
    if teams:
        user.teams.set(teams)
    audit_record(actor=created_by, action=AuditAction.ADMIN, resource=f"user.create:{username}")
    return user


def _set_password(user: User, password: str, *, check: bool = True) -> None:
    """Set ``password`` (unsaved), refused with the validators' reasons when it is weak."""
    if check:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise InvalidInput(" ".join(exc.messages), where="password") from None
    user.set_password(password)


def user_sign_in_set(
    *, username: str, password: str | None, oidc_subject: str | None, set_by: User | None = None
) -> User:
    """Give an existing account a way to sign in: a password, an identity-provider subject,
    or both (an account made by another system through the FHIR API has neither). The audit
    says which was set, never the password; a disabled account is not changed."""
    if password is None and not oidc_subject:
        raise InvalidInput(
            "give a password (--password-stdin) or an identity-provider subject (--oidc-subject)",
            where="signin",
        )
    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"there is no account called {username!r}")
    if not user.is_active:
        raise Conflict("a disabled account is not given a sign-in", where="username")
    fields = []
    if password is not None:
        _set_password(user, password)
        fields.append("password")
    if oidc_subject:
        if User.objects.filter(oidc_subject=oidc_subject).exclude(pk=user.pk).exists():
            raise Conflict(
                "another account has this identity-provider subject", where="--oidc-subject"
            )
        user.oidc_subject = oidc_subject
        fields.append("oidc_subject")
    user.save(update_fields=fields)
    audit_record(
        actor=set_by,
        action=AuditAction.ADMIN,
        resource=f"user.sign-in:{username}",
        reason=f"set: {', '.join(fields)}",
    )
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


# -- staff accounts and organisations written by other systems (the FHIR API)

# Administrators keep the platform's staff accounts and its reference data (as they keep
# the front door's routing rules); no other role changes who works where.
STAFF_PERMISSION = Permission.MANAGE_USERS
_USERNAME_PART = re.compile(r"[^a-z0-9]+")


def require_staff_manager(user: User, verb: str) -> None:
    """Refuse (and audit) a change to staff or reference data by a role that does not keep them.

    Call it before any write's transaction, so the refusal's audit event is kept.
    """
    if user.has_role_permission(STAFF_PERMISSION):
        return
    audit_record(
        actor=user,
        action=AuditAction.DENY,
        resource="user.admin",
        outcome="denied",
        reason=f"role cannot {verb}",
    )
    raise AccessDenied(f"only an administrator can {verb}")


def _free_username(first_name: str, last_name: str) -> str:
    """``given.family`` in lower-case ASCII, numbered when the name is already taken."""
    plain = [
        unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode().lower()
        for part in (first_name, last_name)
    ]
    parts = [_USERNAME_PART.sub("-", part).strip("-") for part in plain]
    base = ".".join(p for p in parts if p)[:140] or "staff"
    taken = set(User.objects.filter(username__startswith=base).values_list("username", flat=True))
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in itertools.count(2) if f"{base}-{n}" not in taken)


@transaction.atomic
def staff_account_create(*, first_name: str, last_name: str, email: str, created_by: User) -> User:
    """A staff member's account made by another system (a FHIR ``Practitioner``).

    It has no role, no password and no identity-provider subject, so it opens nothing and
    cannot sign in: an administrator gives it a role (``user_role_set``) and a way to sign
    in. The username is made from the name, since the writing system sends none.
    """
    require_staff_manager(created_by, "create staff accounts")
    user = User(
        username=_free_username(first_name, last_name),
        role="",
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    user.set_unusable_password()
    user.save()
    audit_record(
        actor=created_by,
        action=AuditAction.ADMIN,
        resource=f"user.create:{user.username}",
        reason="made without a role or a way to sign in",
    )
    return user


def _changeable(user: User) -> None:
    if not user.is_active:
        raise Conflict("a disabled account is not changed", where=f"user:{user.pk}")


@transaction.atomic
def user_details_set(
    *, user: User, first_name: str, last_name: str, email: str, changed_by: User
) -> User:
    """Change a staff member's name and work email; the audit names the fields, not values."""
    require_staff_manager(changed_by, "change staff accounts")
    _changeable(user)
    new = {"first_name": first_name, "last_name": last_name, "email": email}
    changed = [key for key, value in new.items() if getattr(user, key) != value]
    for key in changed:
        setattr(user, key, new[key])
    if changed:
        user.save(update_fields=changed)
    audit_record(
        actor=changed_by,
        action=AuditAction.ADMIN,
        resource=f"user.update:{user.username}",
        reason=f"changed: {', '.join(changed) or 'nothing'}",
    )
    return user


@transaction.atomic
def user_role_set(
    *,
    user: User,
    role: Role,
    organisation: Organisation | None,
    teams: list[Team],
    changed_by: User,
) -> User:
    """Give a staff member their role, organisation and teams.

    The administrator role is given at the command line by whoever runs the platform,
    never by another system, and nobody changes their own role.
    """
    require_staff_manager(changed_by, "change staff roles")
    _changeable(user)
    if Role.ADMINISTRATOR in (role, user.role):
        raise InvalidInput(
            "the administrator role is given or taken away at the command line only",
            where="role",
        )
    if user.pk == changed_by.pk:
        raise AccessDenied("you cannot change your own role")
    user.role, user.organisation = role, organisation
    user.save(update_fields=["role", "organisation"])
    user.teams.set(teams)
    audit_record(
        actor=changed_by,
        action=AuditAction.ADMIN,
        resource=f"user.role:{user.username}",
        reason=f"role {role}, organisation {organisation.ods_code if organisation else 'none'}, "
        f"{len(teams)} team(s)",
    )
    return user


@transaction.atomic
def organisation_create(*, ods_code: str, name: str, kind: str, created_by: User) -> Organisation:
    """An organisation the register does not (yet) hold, e.g. a new care home."""
    require_staff_manager(created_by, "add organisations")
    if Organisation.objects.filter(ods_code=ods_code).exists():
        raise Conflict(
            f"there is already an organisation with ODS code {ods_code}", where="ods_code"
        )
    organisation = Organisation.objects.create(ods_code=ods_code, name=name, kind=kind)
    audit_record(
        actor=created_by, action=AuditAction.ADMIN, resource=f"organisation.create:{ods_code}"
    )
    return organisation


@transaction.atomic
def organisation_update(
    *, organisation: Organisation, name: str, kind: str, changed_by: User
) -> Organisation:
    """Correct an organisation's name or kind (its ODS code never changes)."""
    require_staff_manager(changed_by, "change organisations")
    organisation.name, organisation.kind = name, kind
    organisation.save(update_fields=["name", "kind"])
    audit_record(
        actor=changed_by,
        action=AuditAction.ADMIN,
        resource=f"organisation.update:{organisation.ods_code}",
    )
    return organisation
