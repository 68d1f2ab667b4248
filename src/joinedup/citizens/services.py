"""Writes to the register: sign-up, confirmation, changes, erasure, staff imports.

Every change to a volunteer's data writes an audit event naming the volunteer only by
their random ``ref`` and never with their details in the reason, so the trail holds
nothing identifiable once the register row is erased. Emails go through Django's
email backend after the transaction commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from joinedup.citizens import reference
from joinedup.citizens.forms import Cleaned, volunteer_clean
from joinedup.citizens.households import household_key
from joinedup.citizens.mail import mail_send
from joinedup.citizens.models import (
    CONSENT_VERSION,
    PanelMember,
    RegisterTally,
    Volunteer,
    VolunteerSource,
)
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, User
from joinedup.errors import InvalidInput, NotFound

CONFIRM_SALT = "joinedup.citizens.confirm"
MANAGE_SALT = "joinedup.citizens.manage"
CONFIRM_DAYS = 14
MANAGE_DAYS = 7


def _resource(volunteer: Volunteer) -> str:
    return f"citizens.volunteer:{volunteer.ref}"


def token_make(volunteer: Volunteer, *, salt: str) -> str:
    """A signed, time-limited token naming the volunteer by ref (no account needed)."""
    return signing.TimestampSigner(salt=salt).sign(volunteer.ref)


def token_open(token: str, *, salt: str, days: int) -> Volunteer:
    """The volunteer a token names, if the signature holds and it has not expired."""
    try:
        ref = signing.TimestampSigner(salt=salt).unsign(token, max_age=dt.timedelta(days=days))
    except signing.SignatureExpired:
        raise InvalidInput("this link has expired: ask for a new one", where="token") from None
    except signing.BadSignature:
        raise InvalidInput("this link is not valid: ask for a new one", where="token") from None
    found = Volunteer.objects.for_system("the volunteer's own signed link").filter(ref=ref).first()
    if found is None:
        raise NotFound("there is no registration for this link (it may have been deleted)")
    return found


def _apply(volunteer: Volunteer, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        setattr(volunteer, name, value)
    lsoa = reference.postcode_lsoa(volunteer.postcode)
    volunteer.neighbourhood = lsoa.neighbourhood if lsoa else None
    volunteer.imd_quintile = lsoa.imd_quintile if lsoa else None
    address = " ".join(p for p in (volunteer.address_line_1, volunteer.address_line_2) if p)
    volunteer.household_key = household_key(address, volunteer.postcode) if address else ""


def clean(raw: Mapping[str, Any], interests: list[str], *, consent: bool = True) -> Cleaned:
    return volunteer_clean(
        raw, postcode_known=reference.postcode_known, interests=interests, require_consent=consent
    )


@transaction.atomic
def volunteer_sign_up(*, cleaned: Cleaned, site: str) -> Volunteer:
    """Add a volunteer from the public page and email them a confirmation link."""
    if not cleaned.ok:
        raise InvalidInput("the details have problems", where=next(iter(cleaned.errors)))
    values = dict(cleaned.values)
    volunteer = Volunteer(
        consent_version=CONSENT_VERSION,
        consented_at=timezone.now(),
        source=VolunteerSource.WEB,
        joined=timezone.localdate(),
    )
    _apply(volunteer, values)
    volunteer.save()
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        resource=_resource(volunteer),
        reason="signed up online",
    )
    if volunteer.email:
        transaction.on_commit(lambda: _send_confirmation(volunteer, site))
    return volunteer


def _send_confirmation(volunteer: Volunteer, site: str) -> None:
    confirm = f"{site}/citizens/join/confirm/{token_make(volunteer, salt=CONFIRM_SALT)}/"
    manage = f"{site}/citizens/join/manage/{token_make(volunteer, salt=MANAGE_SALT)}/"
    mail_send(
        subject="Confirm you want to join the citizens' register",
        body=(
            f"Dear {volunteer.given_name},\n\nThank you for offering to help shape health and care "
            f"in the borough. Please confirm your email address by opening this link within "
            f"{CONFIRM_DAYS} days:\n\n{confirm}\n\nTo see, change or delete your details at any "
            f"time, use this link (it works for {MANAGE_DAYS} days; you can always ask for a "
            f"new one):\n\n{manage}\n\nIf you did not sign up, ignore this email and we will "
            "delete the details after 30 days.\n"
        ),
        to=volunteer.email,
        what="confirmation",
    )


def manage_link_send(*, email: str, site: str) -> None:
    """Email a change-or-delete link to every registration with this address (says nothing)."""
    address = email.strip().lower()
    for volunteer in Volunteer.objects.for_system("a volunteer asked for their link").filter(
        email=address
    ):
        link = f"{site}/citizens/join/manage/{token_make(volunteer, salt=MANAGE_SALT)}/"
        body = (
            f"Dear {volunteer.given_name},\n\nTo see, change or delete your details, open "
            f"this link within {MANAGE_DAYS} days:\n\n{link}\n"
        )
        mail_send(
            subject="Your citizens' register details", body=body, to=volunteer.email, what="link"
        )
        audit_record(
            actor=None, action=AuditAction.READ, resource=_resource(volunteer), reason="link sent"
        )


@transaction.atomic
def volunteer_confirm(*, token: str) -> Volunteer:
    volunteer = token_open(token, salt=CONFIRM_SALT, days=CONFIRM_DAYS)
    if volunteer.confirmed_at is None:
        volunteer.confirmed_at = timezone.now()
        volunteer.save(update_fields=["confirmed_at", "updated_at"])
        audit_record(
            actor=None, action=AuditAction.UPDATE, resource=_resource(volunteer), reason="confirmed"
        )
    return volunteer


def volunteer_view(*, token: str) -> Volunteer:
    """The volunteer's own details, for their own eyes (audited)."""
    volunteer = token_open(token, salt=MANAGE_SALT, days=MANAGE_DAYS)
    audit_record(
        actor=None, action=AuditAction.READ, resource=_resource(volunteer), reason="own details"
    )
    return volunteer


@transaction.atomic
def volunteer_update(*, token: str, cleaned: Cleaned) -> Volunteer:
    volunteer = token_open(token, salt=MANAGE_SALT, days=MANAGE_DAYS)
    if not cleaned.ok:
        raise InvalidInput("the details have problems", where=next(iter(cleaned.errors)))
    changed = sorted(k for k, v in cleaned.values.items() if getattr(volunteer, k) != v)
    _apply(volunteer, cleaned.values)
    volunteer.save()
    audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        resource=_resource(volunteer),
        reason="changed by the volunteer: " + (", ".join(changed) or "nothing"),
    )
    return volunteer


def volunteers_purge_unconfirmed(*, days: int = 30) -> int:
    """Erase online sign-ups not confirmed within ``days`` (as the confirmation email says)."""
    if days < CONFIRM_DAYS:
        raise InvalidInput(f"keep sign-ups at least {CONFIRM_DAYS} days", where="days")
    cutoff = timezone.now() - dt.timedelta(days=days)
    stale = Volunteer.objects.for_system("purge unconfirmed sign-ups").filter(
        source=VolunteerSource.WEB, confirmed_at=None, consented_at__lt=cutoff
    )
    erased = 0
    for volunteer in list(stale):
        volunteer_erase(volunteer=volunteer, reason="not confirmed: erased", kind="unconfirmed")
        erased += 1
    return erased


@transaction.atomic
def volunteer_erase(
    *,
    volunteer: Volunteer,
    actor: User | None = None,
    reason: str = "erased at the volunteer's request",
    kind: str = "erased",
) -> None:
    """Erase a volunteer: their row goes; only an anonymous monthly count remains.

    Panel seats keep the random ref (so past draws still verify) but lose the link to
    the person; survey answers never had one.
    """
    PanelMember.objects.filter(volunteer=volunteer).update(volunteer=None)
    ref = volunteer.ref
    volunteer.delete()
    month = timezone.localdate().replace(day=1)
    tally, _ = RegisterTally.objects.get_or_create(month=month, kind=kind)
    RegisterTally.objects.filter(pk=tally.pk).update(count=F("count") + 1)
    audit_record(
        actor=actor, action=AuditAction.DELETE, resource=f"citizens.volunteer:{ref}", reason=reason
    )


def volunteer_erase_by_token(*, token: str) -> None:
    volunteer_erase(volunteer=token_open(token, salt=MANAGE_SALT, days=MANAGE_DAYS))
