"""The person index's writes: run the linker, turn its clusters into people, and let a
reviewer confirm, reject, unlink and relink. Every source record is kept throughout.

The matching itself is the pure kernel in ``joinedup.people.linkage``; this module
only reads identities, stores what the kernel decided, and audits it.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from joinedup.core.audit import audit_record
from joinedup.core.bulk import analyse, update_rows
from joinedup.core.models import AuditAction, Organisation, OrganisationKind, User
from joinedup.core.roles import Permission
from joinedup.errors import AccessDenied, Conflict, InvalidInput, NotFound
from joinedup.people import linkage
from joinedup.people.models import (
    LinkageRun,
    LinkMethod,
    LinkReview,
    Person,
    ReviewStatus,
    SourceIdentity,
)

Progress = Callable[[str, int, int], None]
_SCOPE = "linkage"
# Which source's view of a person to prefer for the person's own demographics.
_PREFERENCE = (
    "gp",
    "hospital",
    "community",
    "hospice",
    "socialcare_adults",
    "socialcare_children",
    "deaths",
)


@dataclass(frozen=True)
class LinkSummary:
    run_id: int
    incremental: bool
    identities: int
    people_created: int
    linked: int
    review: int
    seconds: float


def _table(rows: list[SourceIdentity]) -> pa.Table:
    def text(value: object) -> str | None:
        return str(value) if value not in (None, "") else None

    return pa.table(
        {
            "identity_id": [f"{r.source}:{r.source_id}" for r in rows],
            "source": [r.source for r in rows],
            "nhs_number": [text(r.nhs_number) for r in rows],
            "given_name": [text(r.given_name) for r in rows],
            "family_name": [text(r.family_name) for r in rows],
            "date_of_birth": [
                r.date_of_birth.isoformat() if r.date_of_birth else None for r in rows
            ],
            "sex": [r.sex for r in rows],
            "postcode": [text(r.postcode) for r in rows],
            "address": [text(r.address) for r in rows],
        }
    )


def link_backend(name: str, *, url: str | None = None) -> linkage.Backend:
    """The linkage backend called ``name``; PostgreSQL works in ``url``, else in this
    platform's own database when that is PostgreSQL (``DATABASE_URL``)."""
    if name == "postgres" and not url:
        url = settings.DATABASE_URL or None
        if url is None:
            raise InvalidInput(
                "the postgres backend needs a PostgreSQL database: DATABASE_URL is not set "
                "(the platform is on SQLite), so give --backend-url",
                where="backend_url",
            )
    elif name != "postgres" and url:
        raise InvalidInput(f"--backend-url is only for the postgres backend, not {name}")
    return linkage.Backend(name, url=url)


def link_run(
    *,
    thresholds: linkage.Thresholds | None = None,
    seed: int = 1,
    progress: Progress | None = None,
    backend: linkage.Backend | None = None,
) -> LinkSummary:
    """Link every identity not yet linked: a full run on an empty index, else incremental.

    ``backend`` says where Splink runs (DuckDB unless told); the stored model works on any.
    """
    backend = backend or linkage.Backend()
    started = timezone.now()
    thresholds = thresholds or linkage.Thresholds()
    identities = list(SourceIdentity.objects.for_system(_SCOPE).order_by("id"))
    linked = [i for i in identities if i.person_id is not None]
    new = [i for i in identities if i.person_id is None]
    previous = LinkageRun.objects.first()
    if progress:
        progress("linking identities", 0, 1)
    if not new:
        result = linkage.LinkageResult(
            clusters={},
            auto_links=[],
            review=[],
            model_json=previous.model_json if previous else "{}",
        )
    elif linked and previous is not None:
        result = linkage.link_new_identities(
            _table(new),
            _table(linked),
            {f"{i.source}:{i.source_id}": str(i.person_id) for i in linked},
            model_json=previous.model_json,
            thresholds=thresholds,
            backend=backend,
        )
    else:
        result = linkage.link_identities(
            _table(identities), thresholds=thresholds, seed=seed, backend=backend
        )
    if progress:
        progress("linking identities", 1, 1)
    with transaction.atomic():
        run = LinkageRun.objects.create(
            started_at=started,
            incremental=bool(linked),
            model_json=result.model_json,
            auto_link_threshold=thresholds.auto_link,
            review_threshold=thresholds.review,
        )
        created, newly = _apply(result, new if linked else identities, linked)
        reviews = _queue_reviews(result, run)
        run.finished_at = timezone.now()
        run.stats = {**result.stats, "people_created": created, "linked": newly, "review": reviews}
        run.save(update_fields=["finished_at", "stats"])
        audit_record(
            actor=None,
            action=AuditAction.UPDATE,
            resource=f"person_index.link:{run.pk}",
            reason=f"{len(new)} identities considered: {newly} linked, {created} new people, "
            f"{reviews} for review",
        )
    if created or newly:
        # The people and links just written, for the planner (as after an ingest).
        analyse(Person, SourceIdentity, LinkReview)
    return LinkSummary(
        run.pk,
        run.incremental,
        len(identities),
        created,
        newly,
        reviews,
        (run.finished_at - started).total_seconds(),
    )


def _apply(
    result: linkage.LinkageResult,
    considered: list[SourceIdentity],
    linked: list[SourceIdentity],
) -> tuple[int, int]:
    """Give every considered identity a person: its cluster's existing person, or a new one."""
    by_key = {f"{i.source}:{i.source_id}": i for i in [*considered, *linked]}
    clusters: dict[str, list[SourceIdentity]] = defaultdict(list)
    for identity in considered:
        key = f"{identity.source}:{identity.source_id}"
        clusters[result.clusters.get(key, key)].append(identity)
    how = _how_linked(result)
    known_person = {str(i.person_id): i.person_id for i in linked}
    existing_members: dict[str, uuid.UUID] = {}
    for key, cluster in result.clusters.items():
        member = by_key.get(key)
        if member is not None and member.person_id is not None:
            existing_members[cluster] = member.person_id
    new_people: list[Person] = []
    assignment: dict[int, uuid.UUID] = {}
    taken = _nhs_numbers_in_use()
    practices = dict(
        Organisation.objects.filter(kind=OrganisationKind.GP_PRACTICE).values_list("ods_code", "id")
    )
    for cluster, members in clusters.items():
        person_id = existing_members.get(cluster) or known_person.get(cluster)
        if person_id is None:
            person = _person_from(members, taken, practices)
            new_people.append(person)
            person_id = person.id
        for member in members:
            assignment[member.pk] = person_id
    Person.objects.for_system(_SCOPE).bulk_create(new_people, batch_size=1000)
    update_rows(
        SourceIdentity,
        [
            {
                "id": i.pk,
                "person_id": assignment[i.pk],
                **how.get(
                    f"{i.source}:{i.source_id}",
                    {
                        "link_method": LinkMethod.NEW_PERSON,
                        "link_probability": None,
                        "link_explanation": [],
                    },
                ),
            }
            for i in considered
        ],
    )
    return len(new_people), len(considered)


def _nhs_numbers_in_use() -> set[str]:
    numbers = Person.objects.for_system(_SCOPE).values_list("nhs_number", flat=True)
    return {n for n in numbers if n}


def _how_linked(result: linkage.LinkageResult) -> dict[str, dict[str, Any]]:
    """For each identity joined by a link, the strongest link's method and explanation."""
    best: dict[str, linkage.CandidatePair] = {}
    for pair in result.auto_links:
        for key in (pair.left_id, pair.right_id):
            if key not in best or pair.match_probability > best[key].match_probability:
                best[key] = pair
    return {
        key: {
            "link_method": LinkMethod.NHS_NUMBER
            if pair.method == "nhs_number"
            else LinkMethod.PROBABILISTIC,
            "link_probability": pair.match_probability,
            "link_explanation": _explanation(pair),
        }
        for key, pair in best.items()
    }


def _explanation(pair: linkage.CandidatePair) -> list[dict[str, Any]]:
    return [
        {"field": f.field, "level": f.level, "match_weight": round(f.match_weight, 3)}
        for f in pair.fields
    ]


def _person_from(
    members: list[SourceIdentity], taken: set[str], practices: dict[str, int]
) -> Person:
    ordered = sorted(
        members,
        key=lambda i: (
            _PREFERENCE.index(i.source) if i.source in _PREFERENCE else 99,
            -i.received_at.timestamp(),
        ),
    )
    best = next((i for i in ordered if i.source != "deaths"), ordered[0])
    numbers = Counter(i.nhs_number for i in members if i.nhs_number)
    nhs = numbers.most_common(1)[0][0] if numbers else None
    if nhs in taken:
        nhs = None  # claimed by another person already: one of the two is wrong; review shows it
    if nhs:
        taken.add(nhs)
    died = next((i.date_of_death for i in members if i.date_of_death), None)
    practice = next((i.practice_code for i in ordered if i.practice_code), "")
    stated = [i.ethnic_category for i in ordered if i.ethnic_category]
    ethnicity = next((c for c in stated if c != "Z"), stated[0] if stated else "")
    return Person(
        id=uuid.uuid4(),
        nhs_number=nhs,
        given_name=best.given_name or "Unknown",
        family_name=best.family_name or "Unknown",
        date_of_birth=next((i.date_of_birth for i in ordered if i.date_of_birth), None),
        sex=best.sex,
        address=best.address,
        postcode=best.postcode,
        registered_practice_id=practices.get(practice),
        date_of_death=died,
        ethnic_category=ethnicity,
    )


def _queue_reviews(result: linkage.LinkageResult, run: LinkageRun) -> int:
    keys = {k for p in result.review for k in (p.left_id, p.right_id)}
    ids = {
        f"{source}:{source_id}": pk
        for pk, source, source_id in SourceIdentity.objects.for_system(_SCOPE)
        .filter(source_id__in={k.split(":", 1)[1] for k in keys})
        .values_list("id", "source", "source_id")
    }
    reviews = [
        LinkReview(
            run=run,
            left_id=ids[p.left_id],
            right_id=ids[p.right_id],
            match_probability=p.match_probability,
            match_weight=p.match_weight,
            explanation=_explanation(p),
        )
        for p in result.review
        if p.left_id in ids and p.right_id in ids
    ]
    LinkReview.objects.for_system(_SCOPE).bulk_create(reviews, ignore_conflicts=True)
    return len(reviews)


def _require_reviewer(user: User) -> None:
    if not user.has_role_permission(Permission.REVIEW_LINKS):
        raise AccessDenied("your role cannot review the person index")


@transaction.atomic
def review_decide(*, user: User, review_id: int, same_person: bool) -> LinkReview:
    """Confirm (move the right-hand record to the left-hand person) or reject a possible match."""
    _require_reviewer(user)
    review = LinkReview.objects.for_system(_SCOPE).select_for_update().filter(id=review_id).first()
    if review is None:
        raise NotFound("no such review")
    if review.status != ReviewStatus.PENDING:
        raise Conflict("this possible match has already been decided")
    review.status = ReviewStatus.CONFIRMED if same_person else ReviewStatus.REJECTED
    review.decided_by, review.decided_at = user, timezone.now()
    review.save(update_fields=["status", "decided_by", "decided_at"])
    if same_person:
        _relink(review.right, review.left.person_id, LinkMethod.CONFIRMED, user)
    audit_record(
        actor=user,
        action=AuditAction.REVIEW,
        resource=f"person_index.review:{review.pk}",
        person_id=review.left.person_id,
        reason="same person" if same_person else "different people",
    )
    return review


@transaction.atomic
def identity_unlink(*, user: User, identity_id: int, reason: str) -> Person:
    """Take one source record off its person onto a new person of its own; nothing is lost."""
    _require_reviewer(user)
    if len(reason.strip()) < 10:
        raise InvalidInput(
            "explain in at least 10 characters why the records are not one person", where="reason"
        )
    identity = SourceIdentity.objects.for_system(_SCOPE).select_for_update().get(id=identity_id)
    before = identity.person_id
    person = _person_from([identity], _nhs_numbers_in_use(), {})
    person.save()
    _relink(identity, person.id, LinkMethod.MANUAL, user)
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        resource=f"person_index.unlink:{identity.pk}",
        person_id=before,
        reason=reason.strip(),
    )
    return person


def _relink(identity: SourceIdentity, person_id: uuid.UUID | None, method: str, user: User) -> None:
    if person_id is None:
        raise Conflict("the record to link to has no person yet: run the linker first")
    SourceIdentity.objects.for_system(_SCOPE).filter(id=identity.pk).update(
        person_id=person_id,
        link_method=method,
        link_probability=None,
    )
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        resource=f"person_index.link:{identity.pk}",
        person_id=person_id,
        reason=f"{method}: {identity.source}:{identity.source_id}",
    )


def export_links() -> list[tuple[str, str, str]]:
    """(source, source_id, person_id) for every source identity, for scoring against truth."""
    rows = SourceIdentity.objects.for_system("export links").order_by("source", "source_id")
    return [
        (s, sid, str(p) if p else "")
        for s, sid, p in rows.values_list("source", "source_id", "person_id")
    ]
