"""The citizens app's test set-up: the small synthetic borough's reference data and register.

``register`` loads the 1,000-person test borough's geography and population and imports
its synthetic register (about 200 volunteers, from ``citizens.demo``) through the
ordinary import, once per test that asks for it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from tests.integration.citizens.helpers import REGISTER_SIZE

from joinedup.citizens.demo import demo_load
from joinedup.citizens.reference import reference_load
from joinedup.core.models import User
from joinedup.core.roles import Role


@pytest.fixture
def areas(db: None, borough: Path) -> Path:
    reference_load(borough)
    return borough


@pytest.fixture
def register(db: None, borough: Path) -> Path:
    demo_load(borough, progress=lambda *_: None, volunteers=REGISTER_SIZE)
    return borough


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.ENGAGEMENT_OFFICER)


@pytest.fixture
def officer_client(officer: User, signed_in: Callable[[User], Client]) -> Client:
    return signed_in(officer)
