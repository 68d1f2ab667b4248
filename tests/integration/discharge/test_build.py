"""The tracker build from the hospital feed: stays, DRDs, pathways, delay reasons,
idempotence, the hub's access per admission, and the metrics it feeds."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from django.utils import timezone

from joinedup.core.models import AuditEvent, Team
from joinedup.discharge import metrics, selectors, services
from joinedup.discharge.models import (
    CommunityReferral,
    DelayReason,
    DeliveryBuild,
    ReadyEpisode,
    Stay,
)
from joinedup.people.models import CareRelationship
from joinedup.record.ingest import ingest_folder
from joinedup.record.models import Fact

pytestmark = pytest.mark.django_db


def _spells(folder: Path) -> list[dict[str, str]]:
    with (folder / "hospital" / "admissions.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_tracker_build_makes_a_stay_for_every_admission_accepted(
    hospital_record: Path, hub: Team
) -> None:
    summary = services.tracker_build()

    stays = Stay.objects.for_system("test")
    assert summary.deliveries == 1
    assert stays.count() == summary.created > 100
    assert ReadyEpisode.objects.count() > 0.4 * summary.created
    assert DelayReason.objects.filter(code="unmapped").count() == 0
    assert DeliveryBuild.objects.get().stays_created == summary.created


def test_tracker_build_twice_changes_nothing(hospital_record: Path, hub: Team) -> None:
    services.tracker_build()
    counts = (
        Stay.objects.for_system("t").count(),
        ReadyEpisode.objects.count(),
        DelayReason.objects.count(),
    )
    events = AuditEvent.objects.count()

    again = services.tracker_build()

    assert again.deliveries == again.created == again.updated == 0
    assert (
        Stay.objects.for_system("t").count(),
        ReadyEpisode.objects.count(),
        DelayReason.objects.count(),
    ) == counts
    assert AuditEvent.objects.count() == events


def _redeliver_with_inpatients(folder: Path, tmp: Path, today: date) -> Path:
    """A later delivery of the admissions file: three patients admitted and not yet
    discharged, one of them ready on pathway 2 with a delay reason."""
    out = tmp / "later"
    shutil.copytree(folder, out)
    rows = _spells(folder)
    people = [r["mrn"] for r in rows[:3]]
    admitted = (today - timedelta(days=10)).strftime("%d/%m/%Y") + " 09:30"
    ready = (today - timedelta(days=3)).strftime("%d/%m/%Y")
    extra = [
        _row("SPNEW1", people[0], admitted, ready, "2", "Awaiting community bed"),
        _row("SPNEW2", people[1], admitted, "", "", ""),
        _row("SPNEW3", people[2], admitted, ready, "0", "Awaiting transport"),
    ]
    with (out / "hospital" / "admissions.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows + extra)
    return out


def _row(
    spell: str, mrn: str, admitted: str, ready: str, pathway: str, reason: str
) -> dict[str, str]:
    return {
        "spell_id": spell,
        "mrn": mrn,
        "admission_datetime": admitted,
        "admission_method": "21",
        "ward_code": "RZ9W01",
        "specialty": "Acute medicine",
        "discharge_ready_date": ready,
        "discharge_date": "",
        "discharge_pathway": pathway,
        "delay_reason": reason,
        "discharge_destination": "",
        "died_in_hospital": "N",
    }


def test_tracker_build_of_a_later_delivery_opens_inpatients_to_the_hub_only(
    hospital_record: Path, hub: Team, tmp_path: Path
) -> None:
    services.tracker_build()
    later = _redeliver_with_inpatients(hospital_record, tmp_path, timezone.localdate())
    ingest_folder(later, workers=1)

    summary = services.tracker_build()

    assert summary.deliveries == 1
    assert summary.created == 3
    stays = Stay.objects.for_system("test")
    inpatients = stays.filter(discharged_on__isnull=True)
    assert sorted(inpatients.values_list("spell_id", flat=True)) == ["SPNEW1", "SPNEW2", "SPNEW3"]
    relationships = CareRelationship.objects.filter(team=hub)
    assert set(relationships.values_list("person_id", flat=True)) == set(
        inpatients.values_list("person_id", flat=True)
    )
    assert not relationships.filter(ended_on__isnull=False).exists()


def test_tracker_build_owes_a_referral_to_ready_inpatients_on_pathways_1_to_3(
    hospital_record: Path, hub: Team, tmp_path: Path
) -> None:
    later = _redeliver_with_inpatients(hospital_record, tmp_path, timezone.localdate())
    ingest_folder(later, workers=1)

    services.tracker_build()

    referrals = list(CommunityReferral.objects.select_related("stay"))
    assert [(r.stay.spell_id, r.pathway) for r in referrals] == [("SPNEW1", 2)]
    assert AuditEvent.objects.filter(resource="discharge.community-referral:pathway-2").count() == 1
    reason = DelayReason.objects.get(stay__spell_id="SPNEW1")
    assert (reason.code, reason.owner) == ("p2_capacity", "community")


def test_metrics_match_the_ingested_admissions_delay_by_delay(
    hospital_record: Path, hub: Team
) -> None:
    services.tracker_build()
    expected = []
    facts = Fact.objects.for_system("test").filter(kind="admission", ended_at__isnull=False)
    for ended, detail in facts.values_list("ended_at", "detail"):
        ready = detail.get("discharge_ready_date")
        if ready and detail.get("died_in_hospital") != "Y":
            days = (ended.date() - date.fromisoformat(ready[:10])).days
            if days >= 0:
                expected.append(days)

    data = selectors.discharges()
    summary = metrics.summarise(data.delay)[0]

    assert summary.discharges == len(expected) > 300
    assert summary.delayed_bed_days == sum(expected)
    assert summary.on_drd == sum(1 for d in expected if d == 0)


def test_delay_by_financial_year_matches_the_borough_truth(
    hospital_record: Path, hub: Team, borough: Path
) -> None:
    services.tracker_build()
    truth = json.loads((borough / "truth" / "summary.json").read_text())
    wanted = truth["true_counts"]["mean_delay_days_by_financial_year"]
    data = selectors.discharges()

    by_year = metrics.summarise(data.delay, metrics.period_keys(data.discharged, "year"))

    means = [s.mean_delay_excluding_zero for s in by_year if s.key >= "2021/22"]
    assert len(means) == len(wanted)
    for got, want in zip(means, wanted, strict=True):
        assert got == pytest.approx(want, rel=0.1)


def test_littles_law_census_equals_discharges_a_day_times_mean_delay(
    hospital_record: Path, hub: Team
) -> None:
    services.tracker_build()
    data = selectors.discharges()
    starts, ends = selectors.episodes_spans()
    first = date.fromisoformat(str(data.discharged.min())) + timedelta(days=200)
    last = date.fromisoformat(str(data.discharged.max())) - timedelta(days=200)

    law = metrics.littles_law(data.discharged, data.ready, starts, ends, first, last)

    assert law.mean_census > 0.3
    assert law.mean_census == pytest.approx(law.predicted_census, rel=0.1)


def test_a_stay_built_before_linkage_gets_its_person_later(
    hospital_record: Path, hub: Team
) -> None:
    services.tracker_build()
    stays = Stay.objects.for_system("test")
    some = list(stays.filter(person__isnull=False).values_list("id", flat=True)[:5])
    stays.filter(id__in=some).update(person=None)

    summary = services.tracker_build()

    assert summary.relinked == 5
    assert not stays.filter(id__in=some, person__isnull=True).exists()


def test_kept_back_values_are_listed_with_their_reason(hospital_record: Path, hub: Team) -> None:
    summary = services.tracker_build()
    for spell, why in summary.kept_back:
        assert spell
        assert why
    assert all(isinstance(r, list) for r in DeliveryBuild.objects.get().kept_back)
    assert np.all([len(r) == 2 for r in DeliveryBuild.objects.get().kept_back])
