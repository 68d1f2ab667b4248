"""Operator actions behind CLI commands, with the checks an operator's typo needs."""

from __future__ import annotations

from django.db import transaction

from joinedup.core import services
from joinedup.core.models import Organisation, Team, User
from joinedup.core.roles import Role
from joinedup.errors import InvalidInput


@transaction.atomic
def create_user_from_cli(
    *,
    username: str,
    role: str,
    organisation: str | None,
    teams: list[str],
    first_name: str,
    last_name: str,
    oidc_subject: str | None,
    password: str | None,
) -> User:
    if role not in Role.values:
        raise InvalidInput(
            f"unknown role {role!r}: use one of {', '.join(Role.values)}", where="--role"
        )
    if password is None and not oidc_subject:
        raise InvalidInput(
            "give a password (--password-stdin) or an identity-provider subject (--oidc-subject)",
            where="createuser",
        )
    org = None
    if organisation:
        org = Organisation.objects.filter(ods_code=organisation.upper()).first()
        if org is None:
            raise InvalidInput(
                f"no organisation has ODS code {organisation!r}", where="--organisation"
            )
    team_rows = []
    for name in teams:
        team = Team.objects.filter(name=name).first()
        if team is None:
            raise InvalidInput(f"no team is called {name!r}", where="--team")
        team_rows.append(team)
    user = services.user_create(
        username=username,
        password=password,
        role=Role(role),
        organisation=org,
        teams=team_rows,
        first_name=first_name,
        last_name=last_name,
    )
    if oidc_subject:
        user.oidc_subject = oidc_subject
        user.save(update_fields=["oidc_subject"])
    return user
