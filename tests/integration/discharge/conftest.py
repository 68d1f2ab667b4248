"""Set-up for the discharge tracker's integration tests: the hospital feed of a small
synthetic borough, ingested and linked, and the hub team with its coordinator."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from joinedup.core.models import Organisation, OrganisationKind, Team, TeamKind, User
from joinedup.core.roles import Role
from joinedup.people.linking import link_run
from joinedup.record.ingest import ingest_folder


def _quiet(stage: str, done: int, total: int) -> None:
    return None


@pytest.fixture(scope="session")
def hospital_folder(borough: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hospital feed, the reference data, and the community and social care files
    the planner fits service stays from (and linkage needs a second source)."""
    out = tmp_path_factory.mktemp("hospital") / "b"
    for part in ("reference", "hospital"):
        shutil.copytree(borough / part, out / part)
    for name in (
        "community/patients.csv",
        "community/referrals.csv",
        "socialcare/adults/clients.csv",
        "socialcare/adults/packages.csv",
    ):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(borough / name, out / name)
    return out


@pytest.fixture
def hospital_record(db: None, hospital_folder: Path) -> Path:
    ingest_folder(hospital_folder, progress=_quiet, workers=1)
    link_run(progress=_quiet)
    return hospital_folder


@pytest.fixture
def hub(db: None) -> Team:
    trust, _ = Organisation.objects.get_or_create(
        ods_code="RZ9", defaults={"name": "Acute trust", "kind": OrganisationKind.ACUTE_TRUST}
    )
    return Team.objects.create(
        name="Discharge hub", kind=TeamKind.DISCHARGE_HUB, organisation=trust
    )


@pytest.fixture
def coordinator(hub: Team, make_user: Callable[..., User]) -> User:
    return make_user(Role.DISCHARGE_COORDINATOR, teams=[hub], username="dana")
