"""The front door's routing kernel: which team a referral goes to. Pure: no Django.

Rules are data (``RoutingRule`` rows an administrator edits); this module only decides.
Rules are tried in priority order (lowest number first) and the first whose every stated
condition holds wins; a condition left empty matches anything. A rule either names a
team, or sends the referral to the Integrated Neighbourhood Team of the referral's
neighbourhood. It must never refuse a referral: when nothing matches, the answer says so
and the caller falls back (see ``services.referral_route``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RuleSpec:
    id: int
    priority: int
    min_age: int | None = None
    max_age: int | None = None
    need: str = ""
    urgency: str = ""
    safeguarding: bool | None = None
    neighbourhood_id: int | None = None
    team_id: int | None = None  # None: the INT of the referral's neighbourhood


@dataclass(frozen=True)
class ReferralFacts:
    age: int | None
    need: str
    urgency: str
    safeguarding: bool
    neighbourhood_id: int | None


@dataclass(frozen=True)
class Route:
    team_id: int | None
    rule_id: int | None
    explanation: str


def rule_matches(rule: RuleSpec, facts: ReferralFacts) -> bool:
    """Whether every condition the rule states holds for the referral."""
    if rule.min_age is not None and (facts.age is None or facts.age < rule.min_age):
        return False
    if rule.max_age is not None and (facts.age is None or facts.age > rule.max_age):
        return False
    if rule.need and rule.need != facts.need:
        return False
    if rule.urgency and rule.urgency != facts.urgency:
        return False
    if rule.safeguarding is not None and rule.safeguarding != facts.safeguarding:
        return False
    return not (
        rule.neighbourhood_id is not None and rule.neighbourhood_id != facts.neighbourhood_id
    )


def route(
    facts: ReferralFacts,
    rules: Iterable[RuleSpec],
    *,
    int_of_neighbourhood: Mapping[int, int],
) -> Route:
    """The first matching rule that leads to a team; rules that cannot are passed over."""
    for rule in sorted(rules, key=lambda r: (r.priority, r.id)):
        if not rule_matches(rule, facts):
            continue
        if rule.team_id is not None:
            return Route(rule.team_id, rule.id, f"rule {rule.id} names the team")
        hood = facts.neighbourhood_id
        if hood is not None and hood in int_of_neighbourhood:
            return Route(int_of_neighbourhood[hood], rule.id, f"rule {rule.id}: neighbourhood team")
    return Route(None, None, "no rule matched")
