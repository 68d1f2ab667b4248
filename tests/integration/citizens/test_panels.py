"""The staff panel pages: quotas, the draw, chances and the fairness report, replay from
the audit record, the public draw, replacements and infeasible quotas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from markupsafe import escape
from tests.integration.citizens.helpers import everyone

from joinedup.citizens import panels
from joinedup.citizens.households import household_key
from joinedup.citizens.models import MemberStatus, Panel
from joinedup.citizens.selection import replay
from joinedup.core.models import AuditEvent, User

pytestmark = pytest.mark.django_db

FEATURES = ("age_band", "sex")
SIZE = 12


def _quotas(officer: User, size: int = SIZE) -> list[tuple[str, str, int, int]]:
    pool = panels.pool_build(user=officer, neighbourhood=None, features=FEATURES)
    table = panels.quotas_suggest(pool=pool, features=FEATURES, size=size, neighbourhood=None)
    return [(q.feature, q.value, q.min, q.max) for q in table.quotas]


def _form(quotas: list[tuple[str, str, int, int]], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": "draw",
        "name": "Urgent care focus group",
        "kind": "focus_group",
        "neighbourhood": "",
        "size": str(SIZE),
        "features": list(FEATURES),
        "method": "leximin",
        "seed": "7",
        "quota_count": str(len(quotas)),
    }
    for i, (feature, value, low, high) in enumerate(quotas):
        data |= {f"feature-{i}": feature, f"value-{i}": value, f"min-{i}": low, f"max-{i}": high}
    return data | extra


def _draw(client: Client, officer: User, **extra: Any) -> Panel:
    response = client.post("/citizens/panels/new/", _form(_quotas(officer), **extra))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Panel.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def _seated(panel: Panel) -> list[str]:
    members = panel.members.exclude(status=MemberStatus.DROPPED)
    return list(members.values_list("ref", flat=True))


def _meets_quotas(panel: Panel, refs: list[str]) -> bool:
    header = panel.audit["pool"]["header"]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in panel.audit["pool"]["rows"]}
    for q in panel.audit["quotas"]["quotas"]:
        n = sum(rows[r][q["feature"]] == q["value"] for r in refs)
        if not q["min"] <= n <= q["max"]:
            return False
    return True


def test_new_panel_page_suggests_quotas_for_the_chosen_features(
    register: Path, officer_client: Client
) -> None:
    response = officer_client.get(
        "/citizens/panels/new/?features=age_band&features=sex&size=12&action=suggest"
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert 'name="feature-0" value="age_band"' in text
    assert 'value="sex"' in text
    assert 'value="ethnic_group"' not in text.split('id="quotas"')[1]


def test_draw_stores_the_lottery_seats_a_panel_meeting_every_quota(
    register: Path, officer: User, officer_client: Client
) -> None:
    panel = _draw(officer_client, officer)

    seated = _seated(panel)
    probabilities = panel.audit["probabilities"]
    assert len(seated) == SIZE
    assert _meets_quotas(panel, seated)
    assert sum(probabilities.values()) == pytest.approx(SIZE, abs=1e-6)
    assert panel.report["min_probability"] == pytest.approx(min(probabilities.values()))
    assert panel.report["method"] == "leximin"
    for entry in panel.audit["distribution"]:
        assert sum(entry["counts"].values()) == SIZE
    event = AuditEvent.objects.get(resource=f"citizens.panel:{panel.pk}", action="create")
    assert "seed 7" in event.reason


def test_panel_page_shows_every_chance_and_the_fairness_report(
    register: Path, officer: User, officer_client: Client
) -> None:
    panel = _draw(officer_client, officer)

    text = officer_client.get(f"/citizens/panels/{panel.pk}/").content.decode()

    assert "Fairness report" in text
    assert "Lowest chance" in text
    assert "Gini" in text
    assert f"{panel.report['min_probability']:.4f}" in text
    for ref in list(panel.audit["probabilities"])[:20]:
        assert ref in text
    assert "Volunteers by chance of selection" in text  # the chart's title
    first = everyone().get(ref=_seated(panel)[0])
    assert escape(first.family_name) in text
    assert AuditEvent.objects.filter(resource=f"citizens.panel:{panel.pk}", action="read").exists()


def test_chances_download_as_csv(register: Path, officer: User, officer_client: Client) -> None:
    panel = _draw(officer_client, officer)

    response = officer_client.get(f"/citizens/panels/{panel.pk}/download/probabilities.csv")

    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "ref,age_band,sex,probability,on_panel"
    assert len(lines) == 1 + len(panel.audit["probabilities"])
    assert sum(line.endswith(",yes") for line in lines) == SIZE


def test_replay_verifies_the_draw_and_finds_a_changed_record(
    register: Path, officer: User, officer_client: Client
) -> None:
    panel = _draw(officer_client, officer)

    first = officer_client.post(f"/citizens/panels/{panel.pk}/replay/", follow=True)
    assert "Replay verified" in first.content.decode()

    changed = dict(panel.audit)
    changed["seed"] = 8
    Panel.objects.filter(pk=panel.pk).update(audit=changed)
    second = officer_client.post(f"/citizens/panels/{panel.pk}/replay/", follow=True)
    text = second.content.decode()
    assert "The record does not verify" in text
    assert "changed after the draw" in text


def test_audit_record_download_replays_with_the_kernel_alone(
    register: Path, officer: User, officer_client: Client
) -> None:
    panel = _draw(officer_client, officer)

    response = officer_client.get(f"/citizens/panels/{panel.pk}/download/audit.json")

    record = json.loads(response.content)
    assert list(replay(record)) == record["panel"] == sorted(_seated(panel), key=_pool_order(panel))
    text = response.content.decode()
    for name in everyone().values_list("family_name", flat=True)[:50]:
        assert f'"{name}"' not in text


def _pool_order(panel: Panel) -> Any:
    order = {r[0]: i for i, r in enumerate(panel.audit["pool"]["rows"])}
    return order.__getitem__


def test_public_draw_seats_the_panel_the_announced_number_picks(
    register: Path, officer: User, officer_client: Client
) -> None:
    panel = _draw(officer_client, officer, public="yes")
    assert panel.members.count() == 0
    lottery = panel.audit["public_lottery"]
    assert len(lottery) == panels.PUBLIC_PANELS

    officer_client.post(f"/citizens/panels/{panel.pk}/do/announce/", {"number": "17"})
    again = officer_client.post(
        f"/citizens/panels/{panel.pk}/do/announce/", {"number": "18"}, follow=True
    )

    panel.refresh_from_db()
    assert sorted(_seated(panel)) == sorted(lottery[16])
    assert panel.public_number == 17
    assert "already been entered" in again.content.decode()
    assert panels.panel_replay(user=officer, panel=panel) == []


def test_replacement_keeps_every_quota_and_replays(
    register: Path, officer: User, officer_client: Client
) -> None:
    panel = _draw(officer_client, officer)
    dropped = _seated(panel)[0]

    response = officer_client.post(
        f"/citizens/panels/{panel.pk}/do/replace/", {"dropped": dropped}, follow=True
    )

    assert "every quota still holds" in response.content.decode()
    seated = _seated(panel)
    assert dropped not in seated
    assert len(seated) == SIZE
    assert _meets_quotas(panel, seated)
    new = panel.members.get(replacement_for=dropped)
    assert new.ref in seated
    panel.refresh_from_db()
    assert panel.replacements[0]["replacing"] == dropped
    assert panels.panel_replay(user=officer, panel=panel) == []


def test_infeasible_quotas_name_the_conflict_and_the_smallest_relaxation(
    register: Path, officer: User, officer_client: Client
) -> None:
    bounds = {("sex", "F"): (SIZE - 1, SIZE), ("sex", "M"): (2, SIZE)}  # 11 + 2 > 12
    impossible = [(f, v, *bounds.get((f, v), (lo, hi))) for f, v, lo, hi in _quotas(officer)]

    response = officer_client.post("/citizens/panels/new/", _form(impossible))

    text = response.content.decode()
    assert response.status_code == 422
    assert f"No panel of {SIZE} meets every quota" in text
    assert "sex" in text
    assert "The smallest change" in text
    assert not Panel.objects.exists()


def test_household_rule_keeps_two_people_at_one_address_apart(
    register: Path, officer: User
) -> None:
    first, second = everyone().exclude(household_key="").order_by("ref")[:2]
    for volunteer, address in ((first, "Flat 2, 10 High St."), (second, "2/10 HIGH STREET")):
        volunteer.address_line_1, volunteer.postcode = address, first.postcode
        volunteer.household_key = household_key(address, first.postcode)
        volunteer.save()
    assert first.household_key == second.household_key
    quotas = [(f, v, str(lo), str(hi)) for f, v, lo, hi in _quotas(officer)]
    request = panels.DrawRequest(
        name="Household check",
        kind="survey",
        neighbourhood=None,
        features=FEATURES,
        quotas_csv=panels.quotas_from_table(quotas),
        size=SIZE,
        method="leximin",
        seed=3,
        public=True,
    )

    panel = panels.panel_draw(user=officer, request=request)

    home = {row[0]: row[-1] for row in panel.audit["pool"]["rows"]}
    assert home[first.ref] == home[second.ref]
    assert not any({first.ref, second.ref} <= set(p) for p in panel.audit["public_lottery"])
    chances = panel.audit["probabilities"]
    assert chances[first.ref] + chances[second.ref] <= 1 + 1e-6


def test_a_draw_with_a_missing_name_keeps_the_edited_quotas(
    register: Path, officer: User, officer_client: Client
) -> None:
    quotas = _quotas(officer)
    edited = [(f, v, lo, hi + 1) for f, v, lo, hi in quotas]

    response = officer_client.post("/citizens/panels/new/", _form(edited, name=""))

    text = response.content.decode()
    assert response.status_code == 400
    assert '<a href="#name">Enter a name for the panel</a>' in text
    assert f'name="max-0" value="{edited[0][3]}"' in text
    assert not Panel.objects.exists()


def test_a_pool_too_large_for_the_page_points_to_the_command(
    register: Path,
    officer: User,
    officer_client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(panels, "WEB_POOL_LIMIT", 50)

    response = officer_client.post("/citizens/panels/new/", _form(_quotas(officer)))

    text = response.content.decode()
    assert response.status_code == 400
    assert "too many to draw on this page" in text
    assert "joinedup citizens draw" in text
    assert not Panel.objects.exists()


def test_cli_draw_stores_a_panel_like_the_page(
    register: Path, officer: User, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from joinedup.citizens.cli import register_app

    rows = [(f, v, str(lo), str(hi)) for f, v, lo, hi in _quotas(officer)]
    quotas = tmp_path / "quotas.csv"
    quotas.write_text(panels.quotas_from_table(rows))
    args = ["draw", "--name", "Borough survey", "--quotas", str(quotas), "--size", str(SIZE)]

    result = CliRunner().invoke(register_app, [*args, "--user", officer.username, "--seed", "5"])

    assert result.exit_code == 0, result.output
    panel = Panel.objects.get()
    assert (panel.name, panel.seed, panel.members.count()) == ("Borough survey", 5, SIZE)
    assert f"panel {panel.pk} drawn: leximin" in result.output
    assert panels.panel_replay(user=officer, panel=panel) == []
    unknown = CliRunner().invoke(register_app, [*args, "--user", "nobody"])
    assert unknown.exit_code == 2
    assert "no active user" in unknown.output
