"""The person index on real data: link a small borough, score it, review, unlink, relink."""

from __future__ import annotations

import csv
import uuid
from collections import defaultdict
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.core.models import AuditEvent, User
from joinedup.core.roles import Role
from joinedup.people.linking import identity_unlink, link_run, review_decide
from joinedup.people.models import LinkageRun, LinkReview, Person, SourceIdentity
from joinedup.record.ingest import ingest_folder
from joinedup.record.models import Fact

pytestmark = pytest.mark.django_db(transaction=True)


def _pairs(groups: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for members in groups.values() for p in combinations(members, 2)}  # type: ignore[misc]


def _score(links: Path, truth: Path) -> tuple[float, float]:
    """Pairwise precision and recall of the exported links against the synthetic truth."""
    found, true = defaultdict(set), defaultdict(set)
    with links.open() as handle:
        for row in csv.DictReader(handle):
            found[row["person_id"]].add(f"{row['source']}:{row['source_id']}")
    linked = {i for members in found.values() for i in members}
    with truth.open() as handle:
        for row in csv.DictReader(handle):
            key = f"{row['source']}:{row['source_id']}"
            if key in linked:
                true[row["true_person_id"]].add(key)
    predicted, actual = _pairs(found), _pairs(true)
    hits = len(predicted & actual)
    return hits / max(len(predicted), 1), hits / max(len(actual), 1)


def test_a_borough_links_into_people_accurately(borough: Path, tmp_path: Path) -> None:
    ingest_folder(borough, workers=2)

    summary = link_run()
    out = tmp_path / "links.csv"
    exported = CliRunner().invoke(app, ["people", "export-links", "-o", str(out)])

    assert exported.exit_code == 0, exported.output
    identities = SourceIdentity.objects.for_system("test")
    assert not identities.filter(person__isnull=True).exists()
    assert summary.people_created == Person.objects.for_system("test").count()
    precision, recall = _score(out, borough / "truth" / "identities.csv")
    assert precision >= 0.999
    assert recall >= 0.95  # before any review-queue confirmations
    assert LinkageRun.objects.count() == 1
    with out.open() as handle:
        assert next(csv.reader(handle)) == ["source", "source_id", "person_id"]
    assert _ethnicity_agreement(out, borough) >= 0.95


def _ethnicity_agreement(links: Path, borough: Path) -> float:
    """Share of people with a GP record whose ethnic category is the one the truth holds
    (the GP extract leaves a few per cent as Z, not stated)."""
    with (borough / "truth" / "identities.csv").open() as handle:
        truth_of = {
            f"{r['source']}:{r['source_id']}": r["true_person_id"] for r in csv.DictReader(handle)
        }
    with (borough / "truth" / "persons.csv").open() as handle:
        stated = {r["true_person_id"]: r["ethnic_category"] for r in csv.DictReader(handle)}
    with links.open() as handle:
        gp_person = {
            r["person_id"]: truth_of[f"gp:{r['source_id']}"]
            for r in csv.DictReader(handle)
            if r["source"] == "gp" and f"gp:{r['source_id']}" in truth_of
        }
    got = dict(
        Person.objects.for_system("test")
        .filter(id__in=list(gp_person))
        .values_list("id", "ethnic_category")
    )
    assert set(got.values()) <= set("ABCDEFGHJKLMNPRSZ")
    agree = sum(got[uuid.UUID(pid)] == stated[true] for pid, true in gp_person.items())
    return agree / max(len(gp_person), 1)


def test_a_new_delivery_links_incrementally_without_touching_the_index(
    borough: Path, tmp_path: Path
) -> None:
    ingest_folder(borough, workers=2)
    link_run()
    before = dict(SourceIdentity.objects.for_system("test").values_list("id", "person_id"))
    known = (
        SourceIdentity.objects.for_system("test").filter(source="gp").exclude(nhs_number="").first()
    )
    assert known is not None
    folder = tmp_path / "later"
    (folder / "hospital").mkdir(parents=True)
    (folder / "hospital" / "patients.csv").write_text(
        "mrn,nhs_number,forename,surname,date_of_birth,sex,address_line1,town,postcode,gp_practice_code\n"
        f"MNEW1,{known.nhs_number},{known.given_name},{known.family_name},"
        f"{known.date_of_birth:%d/%m/%Y},{'F' if known.sex == 'female' else 'M'},"
        f"{known.address},Stockport,{known.postcode},\n"
    )
    ingest_folder(folder, workers=1)

    summary = link_run()

    assert summary.incremental
    assert summary.linked == 1
    after = dict(SourceIdentity.objects.for_system("test").values_list("id", "person_id"))
    assert all(after[k] == v for k, v in before.items())
    newcomer = SourceIdentity.objects.for_system("test").get(source="hospital", source_id="MNEW1")
    assert newcomer.person_id == known.person_id


def _two_people(make_person: Callable[..., Person]) -> tuple[SourceIdentity, SourceIdentity]:
    out = []
    for source in ("gp", "hospital"):
        person = make_person()
        out.append(
            SourceIdentity.objects.for_system("test").create(
                source=source,
                source_id=f"{source}-1",
                person=person,
                given_name=person.given_name,
                family_name=person.family_name,
                delivery_id=1,
                received_at=timezone.now(),
            )
        )
    return out[0], out[1]


def _review(left: SourceIdentity, right: SourceIdentity) -> LinkReview:
    run = LinkageRun.objects.create(
        started_at=timezone.now(), model_json="{}", auto_link_threshold=0.999, review_threshold=0.5
    )
    return LinkReview.objects.for_system("test").create(
        run=run,
        left=left,
        right=right,
        match_probability=0.9,
        match_weight=3.2,
        explanation=[{"field": "dob", "level": "exact", "match_weight": 5.1}],
    )


def test_a_reviewer_confirms_a_match_side_by_side(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    signed_in: Callable[[User], Client],
) -> None:
    left, right = _two_people(make_person)
    review = _review(left, right)
    admin = make_user(Role.ADMINISTRATOR)
    client = signed_in(admin)

    page = client.get(reverse("people:review", kwargs={"review_id": review.pk}))
    done = client.post(
        reverse("people:review", kwargs={"review_id": review.pk}), {"decision": "same"}
    )

    assert page.status_code == 200
    assert left.family_name in page.content.decode()
    assert done.status_code == 302
    right.refresh_from_db()
    assert right.person_id == left.person_id
    assert right.link_method == "confirmed"
    assert AuditEvent.objects.filter(resource=f"person_index.review:{review.pk}").count() == 2


def test_clinicians_cannot_open_the_review_queue(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    signed_in: Callable[[User], Client],
) -> None:
    review = _review(*_two_people(make_person))
    client = signed_in(make_user(Role.GP))
    assert client.get(reverse("people:reviews")).status_code == 403
    assert client.get(reverse("people:review", kwargs={"review_id": review.pk})).status_code == 403


def test_rejecting_keeps_people_apart_and_a_decision_is_final(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
) -> None:
    left, right = _two_people(make_person)
    review = _review(left, right)
    admin = make_user(Role.ADMINISTRATOR)
    review_decide(user=admin, review_id=review.pk, same_person=False)
    right.refresh_from_db()
    assert right.person_id != left.person_id
    from joinedup.errors import Conflict

    with pytest.raises(Conflict):
        review_decide(user=admin, review_id=review.pk, same_person=True)


def test_unlinking_moves_a_record_to_a_new_person_and_keeps_its_facts(
    borough: Path,
    make_user: Callable[..., User],
) -> None:
    ingest_folder(borough, workers=2)
    link_run()
    identity = SourceIdentity.objects.for_system("test").filter(facts__isnull=False).first()
    assert identity is not None
    facts = Fact.objects.for_system("test").filter(identity=identity).count()
    before = identity.person_id

    person = identity_unlink(
        user=make_user(Role.ADMINISTRATOR),
        identity_id=identity.pk,
        reason="Different date of birth and address on checking",
    )

    identity.refresh_from_db()
    assert identity.person_id == person.id != before
    assert Fact.objects.for_system("test").filter(identity=identity).count() == facts


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--backend", "oracle"], "oracle"),
        (["--backend", "spark", "--backend-url", "postgresql://x/y"], "only for the postgres"),
    ],
)
def test_link_cli_names_a_backend_it_cannot_use(args: list[str], says: str) -> None:
    result = CliRunner().invoke(app, ["link", *args])

    assert result.exit_code != 0
    assert says in result.output
    assert "Traceback" not in result.output
    assert not LinkageRun.objects.exists()


def test_link_cli_postgres_backend_on_sqlite_asks_for_a_database(settings: object) -> None:
    settings.DATABASE_URL = ""  # type: ignore[attr-defined]

    result = CliRunner().invoke(app, ["link", "--backend", "postgres"])

    assert result.exit_code != 0
    assert "--backend-url" in result.output


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_a_linkage_run_that_linked_leaves_fresh_planner_statistics(borough: Path) -> None:
    tables = ("people_person", "people_sourceidentity")

    def analysed() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT relname, analyze_count FROM pg_stat_user_tables WHERE relname = ANY(%s)",
                [list(tables)],
            )
            return {name: int(count) for name, count in cursor.fetchall()}

    ingest_folder(borough, workers=1)
    before = analysed()

    link_run()
    after = analysed()
    link_run()  # nothing new to link: nothing to analyse

    assert set(after) == set(tables)
    assert all(after[name] > before.get(name, 0) for name in tables)
    assert analysed() == after
