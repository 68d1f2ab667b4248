"""The pure parts of the neighbourhoods app: routing rules, working-time service levels,
the three-way care plan merge and the referral form's checks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joinedup.neighbourhoods import forms, merge, routing, sla
from joinedup.neighbourhoods.errors import FieldProblems

LONDON = ZoneInfo("Europe/London")
FACTS = routing.ReferralFacts(
    age=80, need="nursing", urgency="routine", safeguarding=False, neighbourhood_id=1
)
INTS = {1: 101, 2: 102}


# ------------------------------------------------------------------------------ routing


def test_route_first_matching_rule_by_priority_wins() -> None:
    rules = [
        routing.RuleSpec(id=1, priority=20, team_id=7),
        routing.RuleSpec(id=2, priority=10, need="nursing", team_id=8),
    ]
    assert routing.route(FACTS, rules, int_of_neighbourhood=INTS).team_id == 8


def test_route_rule_without_team_goes_to_the_neighbourhood_int() -> None:
    rules = [routing.RuleSpec(id=1, priority=1, min_age=65)]
    chosen = routing.route(FACTS, rules, int_of_neighbourhood=INTS)
    assert (chosen.team_id, chosen.rule_id) == (101, 1)


@pytest.mark.parametrize(
    ("rule", "matches"),
    [
        (routing.RuleSpec(id=1, priority=1, max_age=17), False),
        (routing.RuleSpec(id=1, priority=1, min_age=80, max_age=80), True),
        (routing.RuleSpec(id=1, priority=1, urgency="urgent"), False),
        (routing.RuleSpec(id=1, priority=1, safeguarding=True), False),
        (routing.RuleSpec(id=1, priority=1, safeguarding=False), True),
        (routing.RuleSpec(id=1, priority=1, neighbourhood_id=2), False),
        (routing.RuleSpec(id=1, priority=1), True),
    ],
)
def test_rule_matches_each_condition(rule: routing.RuleSpec, matches: bool) -> None:
    assert routing.rule_matches(rule, FACTS) is matches


def test_age_rules_do_not_match_an_unknown_age() -> None:
    facts = routing.ReferralFacts(None, "nursing", "routine", False, 1)
    assert not routing.rule_matches(routing.RuleSpec(id=1, priority=1, min_age=18), facts)


def test_route_never_refuses_it_reports_no_match() -> None:
    facts = routing.ReferralFacts(80, "nursing", "routine", False, None)
    chosen = routing.route(facts, [routing.RuleSpec(id=1, priority=1)], int_of_neighbourhood=INTS)
    assert chosen.team_id is None
    assert chosen.explanation == "no rule matched"


# ---------------------------------------------------------------------------------- sla


def _at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)  # type: ignore[misc]


def test_urgent_within_four_working_hours_across_the_evening() -> None:
    # Monday 15:00 + 4 working hours = Tuesday 11:00.
    assert sla.triage_due(_at(2026, 3, 2, 15, 0), "urgent") == _at(2026, 3, 3, 11, 0)


def test_routine_two_working_days_skip_the_weekend() -> None:
    # Thursday 10:00 + 16 working hours = Monday 10:00.
    assert sla.triage_due(_at(2026, 3, 5, 10, 0), "routine") == _at(2026, 3, 9, 10, 0)


def test_bank_holidays_are_not_working_days() -> None:
    # Good Friday 2026 is 3 April and Easter Monday 6 April: Thursday 16:00 + 4 h = Tuesday 12:00.
    assert sla.triage_due(_at(2026, 4, 2, 16, 0), "urgent") == _at(2026, 4, 7, 12, 0)


def test_arrival_out_of_hours_starts_the_clock_next_working_morning() -> None:
    assert sla.triage_due(_at(2026, 3, 7, 20, 0), "urgent") == _at(2026, 3, 9, 13, 0)


def test_christmas_and_boxing_day_2026_are_skipped() -> None:
    # 25 Dec 2026 is a Friday, Boxing Day substitute Monday 28 Dec.
    assert not sla.is_working_day(date(2026, 12, 28))
    assert sla.triage_due(_at(2026, 12, 24, 14, 0), "urgent") == _at(2026, 12, 29, 10, 0)


@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 1)),  # noqa: DTZ001 - naive bounds, zone added below
    hours=st.integers(min_value=0, max_value=80),
)
def test_working_time_between_undoes_add_working_time(start: datetime, hours: int) -> None:
    begin = start.replace(tzinfo=LONDON)
    end = sla.add_working_time(begin, timedelta(hours=hours))
    assert sla.working_time_between(begin, end) == timedelta(hours=hours)
    assert end >= begin


def test_unknown_urgency_is_refused() -> None:
    with pytest.raises(ValueError, match="urgency"):
        sla.triage_due(_at(2026, 3, 2, 9, 0), "soon")


# -------------------------------------------------------------------------------- merge

BASE = {
    "what_matters": "home",
    "contingency": "call",
    "review_on": None,
    "goals": [{"id": "g1", "text": "walk"}, {"id": "g2", "text": "cook"}],
    "actions": [],
}


def test_merge_takes_each_sides_own_changes() -> None:
    mine = {
        **BASE,
        "what_matters": "home and cat",
        "goals": [*BASE["goals"], {"id": "g3", "text": "swim"}],
    }
    theirs = {**BASE, "contingency": "call 111", "goals": [BASE["goals"][0]]}  # removed g2

    result = merge.merge(BASE, mine, theirs)

    assert result.clean
    assert result.merged["what_matters"] == "home and cat"
    assert result.merged["contingency"] == "call 111"
    assert [g["id"] for g in result.merged["goals"]] == ["g1", "g3"]


def test_merge_reports_both_sides_changing_the_same_thing() -> None:
    mine = {**BASE, "goals": [{"id": "g1", "text": "walk far"}, BASE["goals"][1]]}
    theirs = {**BASE, "goals": [BASE["goals"][0]]}  # they deleted g2; both kept g1 ...
    theirs["goals"] = [{"id": "g1", "text": "walk daily"}]

    result = merge.merge(BASE, mine, theirs)

    assert [c.field for c in result.clashes] == ["goals:g1"]
    chosen = merge.resolve(result, {"goals:g1": "mine"})
    assert chosen["goals"] == [{"id": "g1", "text": "walk far"}]
    with pytest.raises(ValueError, match="goals:g1"):
        merge.resolve(result, {})


def test_merge_clash_with_a_deletion_shows_the_deleted_side_as_none() -> None:
    mine = {**BASE, "goals": [BASE["goals"][0], {"id": "g2", "text": "cook more"}]}
    theirs = {**BASE, "goals": [BASE["goals"][0]]}

    result = merge.merge(BASE, mine, theirs)

    assert [(c.field, c.theirs) for c in result.clashes] == [("goals:g2", None)]


@given(st.text(max_size=5), st.text(max_size=5), st.text(max_size=5))
def test_merge_never_loses_a_one_sided_change(base: str, mine: str, theirs: str) -> None:
    result = merge.merge({"what_matters": base}, {"what_matters": mine}, {"what_matters": theirs})
    value = result.merged["what_matters"]
    if mine == base:
        assert value == theirs
        assert result.clean
    elif theirs in (base, mine):
        assert value == mine
        assert result.clean
    else:
        assert not result.clean
        assert value == theirs


# -------------------------------------------------------------------------------- forms

GOOD = {
    "referrer_kind": "carer",
    "referrer_name": "Jo",
    "referrer_contact": "07700 900000",
    "given_name": "Ann",
    "family_name": "Smith",
    "dob-day": "17",
    "dob-month": "5",
    "dob-year": "1940",
    "postcode": "sk1 3xe",
    "need": "mobility",
    "urgency": "urgent",
    "safeguarding": "no",
    "reason": "Falls at home twice this month.",
    "consent": "yes",
}


def test_referral_clean_normalises_a_good_referral() -> None:
    out = forms.referral_clean(GOOD, professional=False)
    assert out["postcode"] == "SK1 3XE"
    assert out["date_of_birth"] == date(1940, 5, 17)


def test_referral_clean_lists_every_problem_in_form_order() -> None:
    bad = {
        **GOOD,
        "referrer_kind": "",
        "dob-month": "13",
        "nhs_number": "1234567890",
        "consent": "no",
    }
    with pytest.raises(FieldProblems) as caught:
        forms.referral_clean(bad, professional=False)
    assert [f for f, _ in caught.value.problems] == [
        "referrer_kind",
        "dob-day",
        "nhs_number",
        "consent",
    ]


def test_safeguarding_referral_may_go_without_consent() -> None:
    out = forms.referral_clean({**GOOD, "safeguarding": "yes", "consent": "no"}, professional=False)
    assert out["safeguarding"]
    assert not out["consent"]


def test_package_clean_checks_amounts_and_dates() -> None:
    with pytest.raises(FieldProblems) as caught:
        forms.package_clean(
            {
                "service": "home_care",
                "provider": "X",
                "hours_per_week": "200",
                "starts_on": "2026-02-01",
                "ends_on": "2026-01-01",
                "weekly_cost": "-1",
            }
        )
    assert [f for f, _ in caught.value.problems] == ["hours_per_week", "ends_on", "weekly_cost"]
