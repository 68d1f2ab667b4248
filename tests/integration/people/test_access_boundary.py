"""The security boundary of the shared record: who may see whose data, and what is audited."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from joinedup.core.access import UnscopedQuery
from joinedup.core.models import AuditEvent, BreakGlassGrant, Team, User
from joinedup.core.roles import Role
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, route)
        else:
            yield route, entry


def person_routes() -> list[str]:
    """Every URL whose route takes a person: these must all sit behind the boundary."""
    return sorted(route for route, _ in _patterns(get_resolver()) if "person_id" in route)


def _fill(route: str, person_id: uuid.UUID) -> str:
    path = route.replace("^", "").replace("$", "").replace("\\Z", "")
    for token in ("<uuid:person_id>", "<uuidstr:person_id>", "<person_id>", "{person_id}"):
        path = path.replace(token, str(person_id))
    return "/" + path


def test_person_routes_are_found_for_every_channel() -> None:
    routes = person_routes()
    assert any(r.startswith("people/") for r in routes)
    assert any(r.startswith("api/") for r in routes)


def test_every_person_view_is_marked_as_serving_person_data() -> None:
    for route, pattern in _patterns(get_resolver()):
        if "person_id" in route and not route.startswith("api/"):
            assert getattr(pattern.callback, "serves_person_data", False), route


@pytest.mark.parametrize("route", person_routes())
def test_person_url_refuses_a_user_without_relationship(
    route: str,
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    signed_in: Callable[[User], Client],
) -> None:
    person = make_person()
    stranger = make_user(Role.DISTRICT_NURSE, teams=[make_team()])
    client = signed_in(stranger)
    url = _fill(route, person.id)

    responses = [client.get(url), client.post(url, {"reason": "", "explanation": ""})]

    for response in responses:
        assert response.status_code in {400, 403, 405}, (url, response.status_code)
        body = response.content.decode()
        assert person.family_name not in body
        assert person.nhs_number not in body
    assert not AuditEvent.objects.filter(person_id=person.id, action="read").exists()


@pytest.mark.parametrize("route", person_routes())
def test_person_url_refuses_anonymous_users(route: str, make_person: Callable[..., Person]) -> None:
    person = make_person()
    response = Client().get(_fill(route, person.id))
    assert response.status_code in {302, 401, 405}
    assert person.family_name not in response.content.decode()


def test_unscoped_person_query_is_refused(make_person: Callable[..., Person]) -> None:
    make_person()
    with pytest.raises(UnscopedQuery):
        list(Person.objects.all())
    with pytest.raises(UnscopedQuery):
        Person.objects.filter(family_name__startswith="F").count()
    with pytest.raises(UnscopedQuery):
        Person.objects.exists()
    with pytest.raises(UnscopedQuery):
        Person.objects.get(id=uuid.uuid4())


def test_system_scope_must_name_its_purpose() -> None:
    with pytest.raises(ValueError, match="purpose"):
        Person.objects.for_system("  ")


def test_visible_to_follows_team_relationships(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
) -> None:
    team, other_team = make_team(), make_team()
    mine, theirs, ended, future = make_person(), make_person(), make_person(), make_person()
    relate(mine, team)
    relate(theirs, other_team)
    relate(ended, team, ended_on=timezone.localdate() - timedelta(days=1))
    relate(future, team, started_on=timezone.localdate() + timedelta(days=3))
    nurse = make_user(Role.DISTRICT_NURSE, teams=[team])

    assert list(Person.objects.visible_to(nurse)) == [mine]


def test_visible_to_includes_a_named_professional_relationship(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
) -> None:
    person = make_person()
    social_worker = make_user(Role.SOCIAL_WORKER)
    relate(person, make_team(), user=social_worker)
    assert list(Person.objects.visible_to(social_worker)) == [person]


@pytest.mark.parametrize(
    "role",
    [
        Role.ANALYST,
        Role.ADMINISTRATOR,
        Role.ENGAGEMENT_OFFICER,
        Role.WORKFORCE_LEAD,
        Role.PORTFOLIO_OFFICER,
    ],
)
def test_roles_without_direct_care_see_nobody_even_in_a_team(
    role: Role,
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
) -> None:
    team = make_team()
    relate(make_person(), team)
    assert list(Person.objects.visible_to(make_user(role, teams=[team]))) == []


def test_break_glass_grant_opens_only_until_it_expires(
    make_user: Callable[..., User], make_person: Callable[..., Person]
) -> None:
    person = make_person()
    gp = make_user(Role.GP)
    grant = BreakGlassGrant.objects.create(
        user=gp,
        person_id=person.id,
        reason="emergency",
        explanation="seen in clinic now",
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    assert list(Person.objects.visible_to(gp)) == [person]
    BreakGlassGrant.objects.filter(id=grant.id).update(expires_at=timezone.now())
    assert list(Person.objects.visible_to(gp)) == []


def plain_routes() -> list[str]:
    """Every URL that takes no parameters: lists, searches, home pages, API collections."""
    return sorted(
        route for route, _ in _patterns(get_resolver()) if "<" not in route and "{" not in route
    )


@pytest.mark.parametrize("role", [Role.GP, Role.ADMINISTRATOR, Role.ANALYST])
def test_no_page_shows_an_unrelated_persons_data(
    role: Role,
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    signed_in: Callable[[User], Client],
) -> None:
    person = make_person(family_name="Unrelatedperson")
    client = signed_in(make_user(role, teams=[make_team()]))
    for route in plain_routes():
        response = client.get("/" + route.replace("^", "").replace("$", ""))
        assert response.status_code < 500, route
        body = response.content.decode(errors="replace")
        assert "Unrelatedperson".upper() not in body.upper(), route
        assert person.nhs_number not in body, route
