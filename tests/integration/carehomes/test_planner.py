"""The planner over the register: current beside proposed, the CLI contract, adopting."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from joinedup.carehomes import planner, services
from joinedup.carehomes.alignment import Rules
from joinedup.carehomes.cli import app
from joinedup.carehomes.errors import AlignmentInfeasible, ProposalChanged
from joinedup.carehomes.models import AlignmentChange, CareHome
from joinedup.core.models import AuditEvent, Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(
    make_home: Callable[..., CareHome], make_practice: Callable[..., Organisation]
) -> dict[str, Any]:
    """Two practices far apart; both homes sit beside the east one but are aligned west."""
    west = make_practice(latitude=53.40, longitude=-2.25, list_size=6000)
    east = make_practice(latitude=53.40, longitude=-2.05, list_size=6000)
    homes = [
        make_home(latitude=53.401, longitude=-2.051, beds=30, practice=west),
        make_home(latitude=53.402, longitude=-2.049, beds=30, practice=west),
    ]
    return {"west": west, "east": east, "homes": homes}


def test_compare_sets_the_proposal_beside_the_current_alignment(register: dict[str, Any]) -> None:
    c = planner.compare(Rules(balance_weight=0.0))

    assert [r.current_code for r in c.rows] == [register["west"].ods_code] * 2
    assert sorted(r.proposed_code for r in c.rows) == sorted(
        [register["west"].ods_code, register["east"].ods_code]
    )
    assert c.moves == 1
    assert c.proposed.travel_km < c.current.travel_km
    assert c.current.most_homes == 2
    assert c.proposed.most_homes == 1
    assert c.proposed.off_fair_share == pytest.approx(0.0)
    assert c.current.off_fair_share == pytest.approx(60.0)


def test_align_json_follows_the_contract(register: dict[str, Any]) -> None:
    result = CliRunner().invoke(app, ["align", "--json"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"alignment", "totals"}
    homes = {h.code for h in register["homes"]}
    assert {row["care_home"] for row in data["alignment"]} == homes
    for row in data["alignment"]:
        assert set(row) == {"care_home", "practice", "distance_km"}
        assert row["practice"] in {register["west"].ods_code, register["east"].ods_code}
        assert row["distance_km"] >= 0
    totals = data["totals"]
    for side in ("current", "proposed"):
        assert {"travel_km", "beds_per_1000", "homes_per_practice"} <= set(totals[side])
    assert totals["current"]["homes_per_practice"][register["west"].ods_code] == 2
    assert totals["proposed"]["homes_per_practice"] == {
        register["west"].ods_code: 1,
        register["east"].ods_code: 1,
    }
    assert totals["proposed"]["beds_per_1000"][register["east"].ods_code] == 5.0
    assert totals["difference"]["travel_km"] == pytest.approx(
        totals["proposed"]["travel_km"] - totals["current"]["travel_km"], abs=0.011
    )
    assert sum(r["distance_km"] for r in data["alignment"]) == pytest.approx(
        totals["proposed"]["travel_km"], abs=0.01
    )


def test_align_on_an_empty_register_is_one_clear_line(db: None) -> None:
    result = CliRunner().invoke(app, ["align", "--json"])

    assert result.exit_code == 2
    assert "register is empty" in result.output
    assert "Traceback" not in result.output


def test_adopt_moves_homes_and_audits(register: dict[str, Any]) -> None:
    c = planner.compare()

    moved = services.alignment_adopt(user=None, rules=Rules(), fingerprint=c.fingerprint)

    assert moved == c.moves == 1
    assert {h.aligned_practice_id for h in CareHome.objects.all()} == {
        register["west"].pk,
        register["east"].pk,
    }
    assert AlignmentChange.objects.count() == 1
    assert AuditEvent.objects.filter(resource="carehomes.alignment", action="update").exists()
    assert planner.compare().moves == 0


def test_adopt_refuses_a_proposal_the_register_has_moved_on_from(
    register: dict[str, Any], make_home: Callable[..., CareHome]
) -> None:
    seen = planner.compare().fingerprint
    make_home(latitude=53.5, longitude=-2.2, beds=10)

    with pytest.raises(ProposalChanged):
        services.alignment_adopt(user=None, rules=Rules(), fingerprint=seen)

    assert not AlignmentChange.objects.exists()


def test_compare_without_practice_sites_says_so(make_home: Callable[..., CareHome]) -> None:
    make_home()

    with pytest.raises(AlignmentInfeasible, match="practice"):
        planner.compare()


def test_cli_imports_report_problems_and_prints_the_plan(
    tmp_path: Any, register: dict[str, Any]
) -> None:
    path = tmp_path / "homes.csv"
    path.write_text(
        "org_code,name,type,beds,postcode,latitude,longitude\n"
        "VX100,Iris House,Residential,25,SK1 1AA,53.41,-2.15\n"
        "VX101,Juniper,Residential,many,SK1 1AA,53.41,-2.15\n",
        encoding="utf-8",
    )
    runner = CliRunner()

    imported = runner.invoke(app, ["import-homes", str(path)])
    number = imported.stdout.split("import ", 1)[1].split(":", 1)[0]
    problems = runner.invoke(app, ["problems", number])
    plan = runner.invoke(app, ["align", "--balance-weight", "0"])
    missing = runner.invoke(app, ["import-homes", str(tmp_path / "none.csv")])

    assert imported.exit_code == 0
    assert "1 accepted, 1 kept back" in imported.stdout
    assert "line 3: beds: 'many' is not a whole number" in problems.stdout
    assert plan.exit_code == 0
    assert "homes change practice" in plan.stdout
    assert "joinedup carehomes adopt" in plan.stdout
    assert missing.exit_code == 2
