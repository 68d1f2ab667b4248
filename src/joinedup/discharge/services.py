"""Writes of the discharge tracker: the build from the hospital feed, the board's live
updates, the community referral owed when a pathway 1-3 patient becomes ready, and
saved planner scenarios.

Every write is atomic, keyword-only and audited here. Board updates take a stay the
caller has opened with ``stay_open`` (scoped to the user and audited), so a write can
never reach a patient the user may not see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from joinedup.carehomes import selectors as carehomes
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, Team, TeamKind, User
from joinedup.core.roles import Permission
from joinedup.discharge import flags, reasons, sources
from joinedup.discharge.errors import InvalidUpdate, StayClosed
from joinedup.discharge.models import (
    CommunityReferral,
    DelayReason,
    DeliveryBuild,
    FlagSource,
    PathwayChange,
    PlannerScenario,
    ReadyEpisode,
    ReferralStatus,
    Source,
    Stay,
)
from joinedup.errors import AccessDenied, NotFound
from joinedup.neighbourhoods import services as neighbourhood_services
from joinedup.neighbourhoods.models import ReferralStatus as NeighbourhoodReferralStatus
from joinedup.people import services as people_services
from joinedup.people.models import Person, RelationshipKind

BUILD = "discharge-tracker-build"
FEED = "hospital"
ADMISSIONS_FILE = "hospital/admissions.csv"
# The hub keeps access for a week after discharge, to follow up the community referral.
HUB_ACCESS_AFTER_DISCHARGE = timedelta(days=7)
COMMUNITY_PATHWAYS = (1, 2, 3)
Progress = Callable[[str, int, int], None]


# --- opening a stay -----------------------------------------------------------------


def stay_open(*, user: User, stay_id: int, resource: str = "discharge.stay") -> Stay:
    """The stay, if the user's role works on discharge and the user may see the patient;
    every outcome is audited (through ``people.services.person_open``)."""
    if not user.has_role_permission(Permission.VIEW_DISCHARGE):
        raise AccessDenied("your role does not work on the discharge board")
    found = (
        Stay.objects.for_system("discharge-stay-existence")
        .filter(id=stay_id)
        .values_list("person_id", flat=True)
        .first()
    )
    if found is None:
        raise NotFound("there is no such stay")
    person = people_services.person_open(user=user, person_id=found, resource=resource)
    stay = Stay.objects.visible_to(user).get(id=stay_id)
    stay.person = person
    return stay


def _require_opened(stay: Stay, user: User) -> None:
    if stay.person is None or stay.person.opened_for != user.pk:
        raise AccessDenied("open the stay with stay_open before changing it")


def _require_open_stay(stay: Stay) -> None:
    if stay.discharged_on is not None:
        raise StayClosed(f"this patient was discharged on {stay.discharged_on:%-d %B %Y}")


def _audit(user: User | None, stay: Stay, what: str) -> None:
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        resource=f"discharge.stay:{what}",
        person_id=stay.person_id,
    )


# --- live updates from the board ----------------------------------------------------


def open_episode(stay: Stay) -> ReadyEpisode | None:
    return stay.episodes.filter(ended_on__isnull=True).order_by("-ready_on", "-id").first()


@transaction.atomic
def criteria_record(*, user: User, stay: Stay, on: date, meets: bool) -> ReadyEpisode | None:
    """Today's criteria-to-reside decision. Not meeting them starts an episode with a DRD
    (unless one is open); meeting them again ends the open one. Returns the open episode."""
    _require_opened(stay, user)
    _require_open_stay(stay)
    if on < stay.admitted_at.date():
        raise InvalidUpdate("the date is before the admission", where="on")
    if on > timezone.localdate():
        raise InvalidUpdate("the date is in the future", where="on")
    current = open_episode(stay)
    if meets:
        if current is not None:
            if on < current.ready_on:
                raise InvalidUpdate("the date is before the discharge ready date", where="on")
            current.ended_on = on
            current.save(update_fields=["ended_on"])
            _audit(user, stay, "meets-criteria")
        return None
    if current is not None:
        return current
    episode = ReadyEpisode.objects.create(
        stay=stay, ready_on=on, source=Source.BOARD, recorded_by=user, recorded_at=timezone.now()
    )
    _audit(user, stay, "ready")
    _referral_if_due(stay, episode)
    return episode


@transaction.atomic
def pathway_change(*, user: User, stay: Stay, pathway: int, on: date) -> None:
    """Plan (or re-plan) the discharge pathway; a ready patient moved onto 1-3 is owed
    a community referral."""
    _require_opened(stay, user)
    _require_open_stay(stay)
    if pathway not in (0, 1, 2, 3):
        raise InvalidUpdate("the pathway must be 0, 1, 2 or 3", where="pathway")
    if stay.pathway == pathway:
        return
    PathwayChange.objects.create(
        stay=stay,
        pathway=pathway,
        changed_on=on,
        source=Source.BOARD,
        recorded_by=user,
        recorded_at=timezone.now(),
    )
    stay.pathway = pathway
    stay.save(update_fields=["pathway", "updated_at"])
    _audit(user, stay, "pathway")
    episode = open_episode(stay)
    if episode is not None:
        _referral_if_due(stay, episode)


@transaction.atomic
def delay_reason_add(
    *, user: User, stay: Stay, code: str, started_on: date, note: str = "", owner: str = ""
) -> DelayReason:
    """Record what is holding a ready patient up, and who must act on it."""
    _require_opened(stay, user)
    _require_open_stay(stay)
    if code not in reasons.BY_CODE or code == "unmapped":
        raise InvalidUpdate("choose a reason for the delay from the list", where="code")
    if owner and owner not in reasons.OWNERS:
        raise InvalidUpdate("choose who must act from the list", where="owner")
    episode = open_episode(stay)
    if episode is None:
        raise InvalidUpdate(
            "the patient still meets the criteria to reside: record that they do not first",
            where="code",
        )
    if started_on < episode.ready_on:
        raise InvalidUpdate(
            "the delay cannot start before the discharge ready date", where="started_on"
        )
    if started_on > timezone.localdate():
        raise InvalidUpdate("the date is in the future", where="started_on")
    reason = DelayReason.objects.create(
        stay=stay,
        code=code,
        text=note.strip()[:300],
        owner=owner or reasons.BY_CODE[code].owner,
        started_on=started_on,
        source=Source.BOARD,
        recorded_by=user,
        recorded_at=timezone.now(),
    )
    _audit(user, stay, f"delay-reason:{code}")
    return reason


@transaction.atomic
def delay_reason_end(*, user: User, stay: Stay, reason_id: int, ended_on: date) -> None:
    _require_opened(stay, user)
    reason = stay.delay_reasons.filter(id=reason_id, ended_on__isnull=True).first()
    if reason is None:
        raise NotFound("there is no open delay reason with this number")
    if ended_on < reason.started_on:
        raise InvalidUpdate("the end is before the start", where="ended_on")
    reason.ended_on = ended_on
    reason.save(update_fields=["ended_on"])
    _audit(user, stay, f"delay-reason-ended:{reason.code}")


MILESTONES = ("hub_referred_on", "assessed_on", "accepted_on", "service_start_on")


@transaction.atomic
def progress_update(
    *,
    user: User,
    stay: Stay,
    dates: dict[str, date | None],
    provider: str,
    care_home_resident: bool,
    package_status: str,
) -> None:
    """What the hub and the community side have done: referral, assessment, acceptance,
    service start and provider; and the flags the board shows."""
    _require_opened(stay, user)
    _require_open_stay(stay)
    unknown = set(dates) - set(MILESTONES)
    if unknown:
        raise InvalidUpdate("unknown milestone", where=sorted(unknown)[0])
    admitted = stay.admitted_at.date()
    for name, value in dates.items():
        if value is not None and value < admitted:
            raise InvalidUpdate("the date is before the admission", where=name)
    if package_status not in ("", "active", "paused", "lapsed"):
        raise InvalidUpdate("choose the package's state from the list", where="package_status")
    for name, value in dates.items():
        setattr(stay, name, value)
    stay.provider = provider.strip()[:200]
    if (care_home_resident, package_status) != (stay.care_home_resident, stay.package_status):
        stay.flags_source = FlagSource.BOARD  # from now on the build leaves them alone
    stay.care_home_resident = care_home_resident
    stay.package_status = package_status
    stay.save()
    _audit(user, stay, "progress")


@transaction.atomic
def discharge_record(*, user: User, stay: Stay, on: date, destination: str) -> None:
    """The actual discharge: ends the stay, its open delay reasons and (a week on) the
    hub's access."""
    _require_opened(stay, user)
    _require_open_stay(stay)
    if on < stay.admitted_at.date():
        raise InvalidUpdate("the discharge is before the admission", where="on")
    if on > timezone.localdate():
        raise InvalidUpdate("the date is in the future", where="on")
    episode = open_episode(stay)
    if episode is not None and on < episode.ready_on:
        raise InvalidUpdate("the discharge is before the discharge ready date", where="on")
    if not destination.strip():
        raise InvalidUpdate("enter where the patient went", where="destination")
    stay.discharged_on = on
    stay.destination = destination.strip()[:100]
    stay.save(update_fields=["discharged_on", "destination", "updated_at"])
    stay.delay_reasons.filter(ended_on__isnull=True).update(ended_on=on)
    _hub_access_end([stay])
    _audit(user, stay, "discharged")


# --- the community referral ----------------------------------------------------------


def community_referral_needed(
    *, stay: Stay, pathway: int, ready_on: date, actor: User | None = None
) -> CommunityReferral | None:
    """Record that a pathway 1-3 patient became ready, so the community side is owed a
    referral through the neighbourhood front door. Idempotent: one per stay, DRD and
    pathway. This is the one place the front door is to be called from (after commit)."""
    if pathway not in COMMUNITY_PATHWAYS or stay.person_id is None:
        return None
    referral, created = CommunityReferral.objects.get_or_create(
        stay=stay, ready_on=ready_on, pathway=pathway, defaults={"created_at": timezone.now()}
    )
    if created:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            resource=f"discharge.community-referral:pathway-{pathway}",
            person_id=stay.person_id,
        )
        _front_door_send(referral, stay)
    return referral


def _front_door_send(referral: CommunityReferral, stay: Stay) -> None:
    """Send it through the neighbourhood front door, which routes it to the patient's
    neighbourhood team. What the front door could not send stays a draft there, and the
    referral here stays waiting with the draft's reference."""
    if stay.person_id is None:
        return
    person = Person.objects.for_system(BUILD).get(id=stay.person_id)
    hubs = _hub_teams()
    hub = f"{hubs[0].name}, {hubs[0].organisation.name}" if hubs else "Hospital discharge hub"
    sent = neighbourhood_services.referral_from_discharge(
        person=person,
        pathway=referral.pathway,
        ready_on=referral.ready_on,
        hub=hub,
        ward=stay.ward_name or stay.ward_code,
    )
    referral.front_door_reference = sent.reference
    if sent.status != NeighbourhoodReferralStatus.DRAFT:
        referral.status = ReferralStatus.SENT
    referral.save(update_fields=["front_door_reference", "status"])


def _referral_if_due(stay: Stay, episode: ReadyEpisode, actor: User | None = None) -> None:
    if stay.pathway in COMMUNITY_PATHWAYS and stay.discharged_on is None:
        community_referral_needed(
            stay=stay, pathway=int(stay.pathway), ready_on=episode.ready_on, actor=actor
        )


# --- the hub's access ------------------------------------------------------------------


def _hub_teams() -> list[Team]:
    return list(Team.objects.filter(kind=TeamKind.DISCHARGE_HUB).order_by("id"))


def _hub_access_start(stays: Iterable[Stay], teams: list[Team]) -> int:
    """A care relationship per admission between each hub team and the patient."""
    started = 0
    for stay in stays:
        if stay.person_id is None or stay.hub_relationships or not teams:
            continue
        person = Person.objects.for_system(BUILD).get(id=stay.person_id)
        ids = [
            people_services.relationship_start(
                person=person,
                team=team,
                kind=RelationshipKind.CARE_TEAM,
                started_on=min(stay.admitted_at.date(), timezone.localdate()),
            ).pk
            for team in teams
        ]
        stay.hub_relationships = ids
        stay.save(update_fields=["hub_relationships"])
        started += 1
    return started


def _hub_access_end(stays: Iterable[Stay]) -> None:
    """The hub's access to a discharged patient ends a while after discharge."""
    for stay in stays:
        if stay.hub_relationships and stay.discharged_on is not None:
            people_services.relationships_end(
                relationship_ids=stay.hub_relationships,
                ended_on=stay.discharged_on + HUB_ACCESS_AFTER_DISCHARGE,
            )


# --- the build from the hospital feed --------------------------------------------------


@dataclass
class BuildSummary:
    deliveries: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_back: list[tuple[str, str]] = field(default_factory=list)
    relinked: int = 0
    hub_access: int = 0
    flagged: int = 0

    def one_line(self) -> str:
        deliveries = "delivery" if self.deliveries == 1 else "deliveries"
        return (
            f"{self.deliveries} hospital {deliveries} built: {self.created:,} stays new, "
            f"{self.updated:,} updated, {self.unchanged:,} unchanged, "
            f"{len(self.kept_back):,} values kept back with a reason, "
            f"{self.relinked:,} earlier stays given their patient, "
            f"{self.hub_access:,} inpatients opened to the hub, "
            f"{self.flagged:,} inpatients' flags set from the record"
        )


def tracker_build(*, progress: Progress | None = None, chunk: int = 2000) -> BuildSummary:
    """Build stays from every hospital admissions delivery not built yet (idempotent:
    a delivery is built once; a second run finds nothing to do)."""
    summary = BuildSummary()
    done = set(DeliveryBuild.objects.values_list("delivery_id", flat=True))
    pending = [d for d in sources.admission_deliveries() if d not in done]
    teams = _hub_teams()
    for index, delivery_id in enumerate(pending, start=1):
        _build_delivery(delivery_id, summary, teams, chunk)
        summary.deliveries += 1
        if progress is not None:
            progress("discharge tracker build", index, len(pending))
    summary.relinked = _relink(teams)
    summary.hub_access += _hub_access_catch_up(teams)
    summary.flagged = flags_refresh()
    return summary


def _hub_access_catch_up(teams: list[Team]) -> int:
    """Inpatients the hub cannot reach yet (built before a hub team existed)."""
    if not teams:
        return 0
    inpatients = Stay.objects.for_system(BUILD).filter(
        discharged_on__isnull=True, person__isnull=False
    )
    return _hub_access_start([s for s in inpatients if not s.hub_relationships], teams)


@transaction.atomic
def _build_delivery(delivery_id: int, summary: BuildSummary, teams: list[Team], chunk: int) -> None:
    created = updated = 0
    kept: list[tuple[str, str]] = []
    for rows in sources.admission_rows(delivery_id, chunk=chunk):
        c, u, k = _build_rows(rows, teams, summary)
        created, updated = created + c, updated + u
        kept.extend(k)
    DeliveryBuild.objects.create(
        delivery_id=delivery_id,
        built_at=timezone.now(),
        stays_created=created,
        stays_updated=updated,
        kept_back=[list(k) for k in kept],
    )
    summary.created += created
    summary.updated += updated
    summary.kept_back.extend(kept)


_STAY_FIELDS = (
    "person_id",
    "fact_id",
    "ward_code",
    "ward_name",
    "admitted_at",
    "admission_method",
    "discharged_on",
    "destination",
    "died",
)


def _build_rows(
    rows: list[sources.AdmissionRow], teams: list[Team], summary: BuildSummary
) -> tuple[int, int, list[tuple[str, str]]]:
    existing = {
        s.spell_id: s
        for s in Stay.objects.for_system(BUILD).filter(spell_id__in=[r.spell_id for r in rows])
    }
    kept: list[tuple[str, str]] = []
    new: list[Stay] = []
    changed: list[Stay] = []
    for row in rows:
        kept.extend((row.spell_id, why) for why in row.problems)
        stay = existing.get(row.spell_id)
        values = {name: getattr(row, name) for name in _STAY_FIELDS}
        if stay is None:
            new.append(Stay(spell_id=row.spell_id, **values))
            continue
        if stay.discharged_on is not None and row.discharged_on is None:
            values["discharged_on"], values["destination"] = stay.discharged_on, stay.destination
        if any(getattr(stay, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(stay, k, v)
            changed.append(stay)
        else:
            summary.unchanged += 1
    Stay.objects.bulk_create(new, batch_size=1000)
    Stay.objects.for_system(BUILD).bulk_update(changed, list(_STAY_FIELDS), batch_size=500)
    stays = {
        s.spell_id: s
        for s in Stay.objects.for_system(BUILD).filter(spell_id__in=[r.spell_id for r in rows])
    }
    _build_details(rows, stays)
    inpatients = [s for s in stays.values() if s.discharged_on is None]
    summary.hub_access += _hub_access_start(inpatients, teams)
    _hub_access_end(s for s in stays.values() if s.discharged_on is not None)
    for stay in inpatients:
        episode = open_episode(stay)
        if episode is not None:
            _referral_if_due(stay, episode)
    return len(new), len(changed), kept


def _build_details(rows: list[sources.AdmissionRow], stays: dict[str, Stay]) -> None:
    """DRD episodes, pathway changes and delay reasons the feed carries, added once."""
    ids = [s.id for s in stays.values()]
    episodes: dict[int, list[ReadyEpisode]] = {}
    for e in ReadyEpisode.objects.filter(stay_id__in=ids):
        episodes.setdefault(e.stay_id, []).append(e)
    feed_reasons = set(
        DelayReason.objects.filter(stay_id__in=ids, source=Source.FEED).values_list(
            "stay_id", flat=True
        )
    )
    now = timezone.now()
    new_episodes: list[ReadyEpisode] = []
    new_changes: list[PathwayChange] = []
    new_reasons: list[DelayReason] = []
    pathway_stays: list[Stay] = []
    for row in rows:
        stay = stays[row.spell_id]
        if row.ready_on is not None:
            new_episodes.extend(_feed_episode(stay, row.ready_on, episodes.get(stay.id, []), now))
        if row.pathway is not None and stay.pathway is None:
            stay.pathway = row.pathway
            pathway_stays.append(stay)
            new_changes.append(
                PathwayChange(
                    stay=stay,
                    pathway=row.pathway,
                    changed_on=row.ready_on or stay.admitted_at.date(),
                    source=Source.FEED,
                    recorded_at=now,
                )
            )
        if row.delay_text and row.ready_on is not None and stay.id not in feed_reasons:
            code = reasons.code_for_text(row.delay_text)
            new_reasons.append(
                DelayReason(
                    stay=stay,
                    code=code,
                    text=row.delay_text[:300],
                    owner=reasons.BY_CODE[code].owner,
                    started_on=row.ready_on,
                    ended_on=row.discharged_on,
                    source=Source.FEED,
                    recorded_at=now,
                )
            )
    ReadyEpisode.objects.bulk_create(new_episodes, batch_size=1000)
    PathwayChange.objects.bulk_create(new_changes, batch_size=1000)
    DelayReason.objects.bulk_create(new_reasons, batch_size=1000)
    # One UPDATE per pathway rather than a bulk_update's CASE per row (four times faster).
    by_pathway: dict[int, list[int]] = {}
    for stay in pathway_stays:
        by_pathway.setdefault(int(stay.pathway or 0), []).append(stay.id)
    for pathway, stay_ids in by_pathway.items():
        for start in range(0, len(stay_ids), 500):
            Stay.objects.for_system(BUILD).filter(id__in=stay_ids[start : start + 500]).update(
                pathway=pathway
            )


def _feed_episode(
    stay: Stay, ready_on: date, have: list[ReadyEpisode], now: datetime
) -> list[ReadyEpisode]:
    """The feed's DRD as an episode, unless it is already there. A feed episode with a
    different DRD is the source correcting itself (moved in place); an episode the
    board recorded is newer than any extract and is kept."""
    if any(e.ready_on == ready_on for e in have):
        return []
    board = [e for e in have if e.source == Source.BOARD]
    if board:
        return []
    feed = [e for e in have if e.source == Source.FEED and e.ended_on is None]
    if feed:
        feed[-1].ready_on = ready_on
        feed[-1].save(update_fields=["ready_on"])
        return []
    return [ReadyEpisode(stay=stay, ready_on=ready_on, source=Source.FEED, recorded_at=now)]


def _relink(teams: list[Team]) -> int:
    """Stays built before their patient was linked get the person once linkage finds them."""
    waiting = list(
        Stay.objects.for_system(BUILD).filter(person__isnull=True, fact_id__isnull=False)
    )
    found = sources.persons_of_facts([s.fact_id for s in waiting if s.fact_id is not None])
    linked = [s for s in waiting if found.get(s.fact_id or 0)]
    for stay in linked:
        stay.person_id = found[stay.fact_id or 0]
    Stay.objects.for_system(BUILD).bulk_update(linked, ["person_id"], batch_size=500)
    _hub_access_start([s for s in linked if s.discharged_on is None], teams)
    return len(linked)


# --- the board's flags, derived from the record ----------------------------------------


@transaction.atomic
def flags_refresh(*, today: date | None = None) -> int:
    """Derive the care-home and package flags of every inpatient whose flags the board has
    not recorded (``flags.derive``: the hospital's address for them, the care-home
    register, adult social care's packages). Writes only what changed; returns how many."""
    today = today or timezone.localdate()
    stays = list(
        Stay.objects.for_system(BUILD)
        .filter(discharged_on__isnull=True, person__isnull=False)
        .exclude(flags_source=FlagSource.BOARD)
    )
    if not stays:
        return 0
    addresses = sources.admission_addresses([s.fact_id for s in stays if s.fact_id is not None])
    packages = sources.packages_of([s.person_id for s in stays])
    homes = carehomes.homes_by_postcode(carehomes.homes_all())
    changed = []
    for stay in stays:
        address, postcode = addresses.get(stay.fact_id or 0, ("", ""))
        found = flags.derive(
            packages.get(stay.person_id, []),
            admitted=stay.admitted_at.date(),
            today=today,
            address_is_care_home=bool(
                address and carehomes.home_for_address(address, postcode, homes)
            ),
        )
        now = (found.care_home_resident, found.package_status, FlagSource.RECORD)
        if now != (stay.care_home_resident, stay.package_status, stay.flags_source):
            stay.care_home_resident, stay.package_status, stay.flags_source = now
            changed.append(stay)
    Stay.objects.for_system(BUILD).bulk_update(
        changed, ["care_home_resident", "package_status", "flags_source"], batch_size=500
    )
    return len(changed)


# --- saved planner scenarios ---------------------------------------------------------


@transaction.atomic
def scenario_save(
    *, user: User, name: str, description: str, inputs: dict[str, Any], results: dict[str, Any]
) -> PlannerScenario:
    """Save (or replace) a planner scenario by name. Aggregates only."""
    clean = " ".join(name.split())
    if not clean:
        raise InvalidUpdate("give the scenario a name", where="name")
    if len(clean) > 100:
        raise InvalidUpdate("the name must be 100 characters or fewer", where="name")
    now = timezone.now()
    scenario, _ = PlannerScenario.objects.update_or_create(
        name=clean,
        defaults={
            "description": description.strip()[:300],
            "inputs": inputs,
            "results": results,
            "created_by": user,
            "created_at": now,
            "updated_at": now,
        },
    )
    audit_record(
        actor=user, action=AuditAction.CREATE, resource=f"discharge.scenario:{scenario.pk}"
    )
    return scenario
