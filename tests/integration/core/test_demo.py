from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client, override_settings

from joinedup.core.audit import verify_chain
from joinedup.core.models import User
from joinedup.core.roles import Role
from joinedup.demo import demo_prepare
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db


def _quiet(stage: str, done: int, total: int) -> None:
    return None


def test_demo_gives_every_role_a_sign_in_and_is_idempotent(tmp_path: Path) -> None:
    with override_settings(VAR_DIR=tmp_path):
        credentials = demo_prepare(people=1000, progress=_quiet)
        again = demo_prepare(people=1000, progress=_quiet)

    assert credentials == again
    assert {role for role, _, _ in credentials} == {r.label for r in Role}
    assert ("Administrator", "admin") in {(role, name) for role, name, _ in credentials}
    assert User.objects.count() == len(Role)
    for _, username, password in credentials:
        client = Client()
        response = client.post("/sign-in/", {"username": username, "password": password})
        assert response.status_code == 302, username
    assert Person.objects.for_system("test").count() > 0
    assert (tmp_path / "borough-1000" / "truth" / "identities.csv").exists()
    assert verify_chain().ok


def test_demo_refuses_production(tmp_path: Path) -> None:
    from joinedup.errors import ConfigurationError

    with override_settings(VAR_DIR=tmp_path, PRODUCTION=True), pytest.raises(ConfigurationError):
        demo_prepare(people=1000, progress=_quiet)
