"""The reference FHIR TestScripts, run against a live server on loopback.

The pass list is recorded in docs/fhir.md; this test fails if a script that passed
stops passing, and if one starts passing without the list being updated.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.integration.fhir.testscript import Runner

from joinedup.core.models import Team, User
from joinedup.core.roles import Role
from joinedup.fhir import services
from joinedup.people.models import Person

REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "fhir" / "testscripts"

PASSING = {
    "fhir-r4-base__MUST__capability-statement.json",
    "fhir-r4-base__MUST__observation-search-basic.json",
    "fhir-r4-base__MUST__patient-read-by-id-shape.json",
    "fhir-r4-base__MUST__patient-search-by-birthdate.json",
    "fhir-r4-base__MUST__patient-search-by-gender.json",
    "fhir-r4-base__MUST__patient-search-by-id.json",
    "fhir-r4-base__MUST__silent-ignore.json",
    "fhir-r4-base__SHOULD__include-forward-observation-patient.json",
    "fhir-r4-base__SHOULD__observation-by-code.json",
    "fhir-r4-base__SHOULD__observation-combo-code.json",
    "fhir-r4-base__SHOULD__revinclude-wildcard-no-5xx.json",
    "fhir-r4-base__SHOULD__sort-descending-lastupdated.json",
    "fhir-r4-base__SHOULD__string-modifier-contains.json",
    "fhir-r4-base__SHOULD__string-modifier-exact.json",
    "fhir-r4-base__SHOULD__summary-count.json",
    "fhir-r4-base__SHOULD__total-accurate.json",
    "fhir-r4-base__MAY__composite-component-code-value.json",
    "fhir-r4-base__MAY__expand-valueset.json",
    "fhir-r4-base__MAY__has-reverse-chaining.json",
    "fhir-r4-base__MAY__lookup-loinc.json",
    "fhir-r4-base__MAY__token-not-modifier.json",
}


def _scripts() -> list[Path]:
    if not REFERENCE.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the reference TestScripts are missing: {REFERENCE}")
        pytest.skip(f"the reference TestScripts are not here: {REFERENCE}")
    return sorted(REFERENCE.glob("*.json"))


@pytest.mark.django_db(transaction=True)
def test_reference_testscripts_pass_list(
    live_server: Any,
    make_user: Callable[..., User],
    make_team: Callable[..., Team],
    make_person: Callable[..., Person],
    relate: Callable[..., object],
) -> None:
    team = make_team()
    nurse = make_user(Role.DISTRICT_NURSE, teams=[team])
    relate(make_person(given_name="Smith"), team)
    token = services.token_issue(user=nurse, scopes="user/*.read").token
    runner = Runner(f"{live_server.url}/fhir/R4", token)

    outcomes = {path.name: runner.run(path) for path in _scripts()}

    passed = {name for name, outcome in outcomes.items() if outcome.passed}
    report = {name: o.failures for name, o in outcomes.items() if not o.passed}
    assert passed == PASSING, report
