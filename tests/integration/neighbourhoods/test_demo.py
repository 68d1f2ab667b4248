"""The demo's neighbourhood data on a 1,000-person borough, and the issue's "done when"
journey: the nurse sees her caseload and tasks, an MDT decision lands on the social
worker's worklist, and a misrouted referral reaches the right team."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from joinedup import demo as platform_demo
from joinedup.core.audit import verify_chain
from joinedup.core.models import Team, User
from joinedup.neighbourhoods.demo import demo_load
from joinedup.neighbourhoods.models import (
    CarePackage,
    CaseloadEntry,
    MdtItem,
    MdtMeeting,
    PostcodeArea,
    Referral,
    Task,
)

pytestmark = pytest.mark.django_db


def _quiet(stage: str, done: int, total: int) -> None:
    return None


def _counts() -> tuple[int, ...]:
    system = "test"
    return (
        PostcodeArea.objects.count(),
        CaseloadEntry.objects.for_system(system).count(),
        Task.objects.for_system(system).count(),
        CarePackage.objects.for_system(system).count(),
        MdtMeeting.objects.count(),
        Referral.objects.for_system(system).count(),
    )


@pytest.fixture
def demo_borough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(platform_demo, "_module_demos", list)
    with override_settings(VAR_DIR=tmp_path):
        platform_demo.demo_prepare(people=1000, progress=_quiet)
    return tmp_path / "borough-1000"


def test_demo_load_is_idempotent_and_the_done_when_journey_works(demo_borough: Path) -> None:
    demo_load(demo_borough, progress=_quiet)
    first = _counts()
    demo_load(demo_borough, progress=_quiet)

    assert _counts() == first
    assert all(n > 0 for n in first), first
    home = Team.objects.get(name=platform_demo.HOME_TEAM)
    other = Team.objects.get(name=platform_demo.OTHER_TEAM)
    nurse, social, ot = (User.objects.get(username=n) for n in ("nurse", "socialworker", "ot"))
    client = Client()
    client.force_login(nurse)

    caseload = client.get(f"/neighbourhoods/teams/{home.pk}/caseload/")
    worklist = client.get("/neighbourhoods/tasks/")
    assert caseload.status_code == 200
    assert worklist.status_code == 200
    assert "Your tasks" in worklist.content.decode()

    meeting = MdtMeeting.objects.get(team=home)
    item = MdtItem.objects.visible_to(nurse).filter(meeting=meeting, person__isnull=False).first()
    assert item is not None
    due = (timezone.localdate() + timezone.timedelta(days=7)).isoformat()
    client.post(
        f"/neighbourhoods/meetings/items/{item.pk}/",
        {
            "discussion": "Daughter struggling",
            "decision": "Carers assessment for the daughter",
            "owner": str(social.pk),
            "due_on": due,
        },
    )
    social_client = Client()
    social_client.force_login(social)
    assert (
        "Carers assessment for the daughter"
        in social_client.get("/neighbourhoods/tasks/").content.decode()
    )

    misrouted = Referral.objects.for_system("test").get(family_name="Oldroyd")
    assert misrouted.team == home
    client.post(
        f"/neighbourhoods/referrals/{misrouted.pk}/redirect/",
        {"team": str(other.pk), "reason": "Moved to Reddish in March"},
    )
    ot_client = Client()
    ot_client.force_login(ot)
    assert "OLDROYD" in ot_client.get(f"/neighbourhoods/teams/{other.pk}/").content.decode()
    assert verify_chain().ok
