"""Discharge endpoints of the JSON API (to be mounted at /api/discharge/): the board and
a stay's live updates, for ward systems and the hub's own tools.

The same services, access rules and audit as the web pages: the board lists only the
inpatients the user's teams may see (and is audited as a search); every stay endpoint
opens the stay with ``services.stay_open`` (the role permission, the patient's scope
and an audit event) before reading or writing it. Typed schemas in and out; models are
never serialised directly.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from joinedup.core.access import require_permission, require_user
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, User
from joinedup.core.roles import Permission
from joinedup.discharge import reasons, selectors, services
from joinedup.discharge.models import DelayReason, Stay
from joinedup.errors import InvalidInput

router = Router(tags=["discharge"])


class ReasonOut(Schema):
    id: int
    code: str
    label: str
    owner: str
    owner_label: str
    note: str
    started_on: date
    ended_on: date | None


class FlagsOut(Schema):
    care_home_resident: bool
    package_status: str
    source: str  # "", "record" (derived at each build) or "board"


class ProgressOut(Schema):
    hub_referred_on: date | None
    assessed_on: date | None
    accepted_on: date | None
    service_start_on: date | None
    provider: str


class BoardRowOut(Schema):
    stay_id: int
    person_id: uuid.UUID | None
    name: str
    ward_code: str
    ward_name: str
    admitted_at: datetime
    ready_on: date | None
    days_waiting: int | None
    pathway: int | None
    reason: ReasonOut | None
    community_referral: str | None
    flags: FlagsOut
    progress: ProgressOut


class EpisodeOut(Schema):
    ready_on: date
    ended_on: date | None
    source: str


class PathwayOut(Schema):
    pathway: int
    changed_on: date
    source: str


class StayOut(Schema):
    stay_id: int
    person_id: uuid.UUID | None
    name: str
    ward_code: str
    ward_name: str
    admitted_at: datetime
    ready_on: date | None
    pathway: int | None
    flags: FlagsOut
    progress: ProgressOut
    discharged_on: date | None
    destination: str
    episodes: list[EpisodeOut]
    pathways: list[PathwayOut]
    reasons: list[ReasonOut]


class CriteriaIn(Schema):
    on: date
    meets: bool


class PathwayIn(Schema):
    pathway: int
    on: date


class ReasonIn(Schema):
    code: str
    started_on: date
    note: str = ""
    owner: str = ""


class ReasonEndIn(Schema):
    ended_on: date


class ProgressIn(Schema):
    hub_referred_on: date | None = None
    assessed_on: date | None = None
    accepted_on: date | None = None
    service_start_on: date | None = None
    provider: str = ""
    care_home_resident: bool = False
    package_status: str = ""


class DischargeIn(Schema):
    on: date
    destination: str


def _reason(r: DelayReason) -> ReasonOut:
    return ReasonOut(
        id=r.pk,
        code=r.code,
        label=reasons.label(r.code),
        owner=r.owner,
        owner_label=reasons.owner_label(r.owner),
        note=r.text,
        started_on=r.started_on,
        ended_on=r.ended_on,
    )


def _flags(stay: Stay) -> FlagsOut:
    return FlagsOut(
        care_home_resident=stay.care_home_resident,
        package_status=stay.package_status,
        source=stay.flags_source,
    )


def _progress(stay: Stay) -> ProgressOut:
    return ProgressOut(
        hub_referred_on=stay.hub_referred_on,
        assessed_on=stay.assessed_on,
        accepted_on=stay.accepted_on,
        service_start_on=stay.service_start_on,
        provider=stay.provider,
    )


def _name(stay: Stay) -> str:
    return stay.person.display_name if stay.person is not None else ""


def _row(row: selectors.BoardRow) -> BoardRowOut:
    stay = row.stay
    return BoardRowOut(
        stay_id=stay.pk,
        person_id=stay.person_id,
        name=_name(stay),
        ward_code=stay.ward_code,
        ward_name=stay.ward_name,
        admitted_at=stay.admitted_at,
        ready_on=row.ready_on,
        days_waiting=row.days_waiting,
        pathway=stay.pathway,
        reason=_reason(row.reason) if row.reason else None,
        community_referral=row.referral.status if row.referral else None,
        flags=_flags(stay),
        progress=_progress(stay),
    )


def _stay_out(stay: Stay) -> StayOut:
    history = selectors.stay_history(stay)
    current = services.open_episode(stay)
    return StayOut(
        stay_id=stay.pk,
        person_id=stay.person_id,
        name=_name(stay),
        ward_code=stay.ward_code,
        ward_name=stay.ward_name,
        admitted_at=stay.admitted_at,
        ready_on=current.ready_on if current else None,
        pathway=stay.pathway,
        flags=_flags(stay),
        progress=_progress(stay),
        discharged_on=stay.discharged_on,
        destination=stay.destination,
        episodes=[
            EpisodeOut(ready_on=e.ready_on, ended_on=e.ended_on, source=e.source)
            for e in history["episodes"]
        ],
        pathways=[
            PathwayOut(pathway=c.pathway, changed_on=c.changed_on, source=c.source)
            for c in history["pathways"]
        ],
        reasons=[_reason(r) for r in history["reasons"]],
    )


@router.get("/board", response=list[BoardRowOut], url_name="discharge-board")
def board(request: HttpRequest, ward: str = "", show: str = "ready") -> list[BoardRowOut]:
    """The board: inpatients the user's teams follow, ready ones (or ``show=all``),
    longest waiting first; optionally one ward."""
    user = require_user(request)
    require_permission(user, Permission.VIEW_DISCHARGE)
    if show not in ("ready", "all"):
        raise InvalidInput("show is 'ready' or 'all'", where="show")
    rows = selectors.board(user=user, ward=ward.strip(), today=timezone.localdate())
    if show == "ready":
        rows = [r for r in rows if r.ready_on is not None]
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource="discharge.board",
        reason=f"{len(rows)} patients listed through the API"
        + (f" on ward {ward}" if ward else ""),
    )
    return [_row(r) for r in rows]


def _opened(request: HttpRequest, stay_id: int) -> tuple[User, Stay]:
    user = require_user(request)
    return user, services.stay_open(user=user, stay_id=stay_id, resource="discharge.stay.api")


@router.get("/stays/{stay_id}", response=StayOut, url_name="discharge-stay")
def stay_get(request: HttpRequest, stay_id: int) -> StayOut:
    _, stay = _opened(request, stay_id)
    return _stay_out(stay)


@router.post("/stays/{stay_id}/criteria", response=StayOut, url_name="discharge-criteria")
def criteria(request: HttpRequest, stay_id: int, body: CriteriaIn) -> StayOut:
    """Today's criteria-to-reside decision: not meeting them sets the DRD."""
    user, stay = _opened(request, stay_id)
    services.criteria_record(user=user, stay=stay, on=body.on, meets=body.meets)
    return _stay_out(stay)


@router.post("/stays/{stay_id}/pathway", response=StayOut, url_name="discharge-pathway")
def pathway(request: HttpRequest, stay_id: int, body: PathwayIn) -> StayOut:
    user, stay = _opened(request, stay_id)
    services.pathway_change(user=user, stay=stay, pathway=body.pathway, on=body.on)
    return _stay_out(stay)


@router.post("/stays/{stay_id}/delay-reasons", response=StayOut, url_name="discharge-reason")
def reason_add(request: HttpRequest, stay_id: int, body: ReasonIn) -> StayOut:
    user, stay = _opened(request, stay_id)
    services.delay_reason_add(
        user=user,
        stay=stay,
        code=body.code,
        started_on=body.started_on,
        note=body.note,
        owner=body.owner,
    )
    return _stay_out(stay)


@router.post(
    "/stays/{stay_id}/delay-reasons/{reason_id}/end",
    response=StayOut,
    url_name="discharge-reason-end",
)
def reason_end(request: HttpRequest, stay_id: int, reason_id: int, body: ReasonEndIn) -> StayOut:
    user, stay = _opened(request, stay_id)
    services.delay_reason_end(user=user, stay=stay, reason_id=reason_id, ended_on=body.ended_on)
    return _stay_out(stay)


@router.put("/stays/{stay_id}/progress", response=StayOut, url_name="discharge-progress")
def progress(request: HttpRequest, stay_id: int, body: ProgressIn) -> StayOut:
    """What the hub and community have done, and the flags (the board's flags win over
    those derived from the record)."""
    user, stay = _opened(request, stay_id)
    services.progress_update(
        user=user,
        stay=stay,
        dates={name: getattr(body, name) for name in services.MILESTONES},
        provider=body.provider,
        care_home_resident=body.care_home_resident,
        package_status=body.package_status,
    )
    return _stay_out(stay)


@router.post("/stays/{stay_id}/discharge", response=StayOut, url_name="discharge-discharge")
def discharge(request: HttpRequest, stay_id: int, body: DischargeIn) -> StayOut:
    user, stay = _opened(request, stay_id)
    services.discharge_record(user=user, stay=stay, on=body.on, destination=body.destination)
    return _stay_out(stay)
