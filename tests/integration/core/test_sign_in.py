from __future__ import annotations

from collections.abc import Callable
from html import unescape

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from tests.conftest import PASSWORD

from joinedup.core.models import AuditEvent, User
from joinedup.core.roles import Role
from joinedup.web.navigation import ROLE_INTRODUCTIONS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", list(Role))
def test_each_role_signs_in_and_sees_its_own_home(
    role: Role, make_user: Callable[..., User]
) -> None:
    user = make_user(role)
    client = Client()

    response = client.post(
        reverse("core:sign-in"), {"username": user.username, "password": PASSWORD}, follow=True
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert ROLE_INTRODUCTIONS[role] in unescape(body)
    assert role.label in body
    assert AuditEvent.objects.filter(action="sign_in", actor_id=user.pk).exists()


def test_wrong_password_is_refused_without_saying_which_part(
    make_user: Callable[..., User],
) -> None:
    user = make_user()
    response = Client().post(
        reverse("core:sign-in"), {"username": user.username, "password": "not it at all"}
    )
    assert response.status_code == 400
    assert "Enter a correct username and password" in response.content.decode()
    assert AuditEvent.objects.filter(action="sign_in_failed").count() == 1


@override_settings(LOCKOUT_ATTEMPTS=5)
def test_brute_force_locks_the_username_even_for_the_right_password(
    make_user: Callable[..., User],
) -> None:
    user = make_user()
    client = Client()
    for _ in range(5):
        client.post(reverse("core:sign-in"), {"username": user.username, "password": "guess"})

    response = client.post(
        reverse("core:sign-in"), {"username": user.username, "password": PASSWORD}
    )

    assert response.status_code == 400
    assert "locked" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="sign_in_failed", reason__startswith="locked").exists()


@override_settings(LOCKOUT_ATTEMPTS=3)
def test_unknown_usernames_lock_the_same_way(db: None) -> None:
    client = Client()
    for _ in range(3):
        client.post(reverse("core:sign-in"), {"username": "nobody", "password": "guess"})
    response = client.post(reverse("core:sign-in"), {"username": "nobody", "password": "guess"})
    assert "locked" in response.content.decode()


def test_sign_in_with_a_missing_csrf_token_is_refused(make_user: Callable[..., User]) -> None:
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("core:sign-in"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "form had expired" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_tampered_csrf_token_is_refused(
    make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("core:sign-in"))
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    tampered = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    user = make_user()

    response = client.post(
        reverse("core:sign-in"),
        {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": tampered},
    )

    assert response.status_code == 403
    good = client.post(
        reverse("core:sign-in"),
        {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert good.status_code == 302


def test_sign_out_needs_a_post_with_csrf(
    make_user: Callable[..., User],
) -> None:
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(reverse("core:sign-out")).status_code == 403
    page = client.get(reverse("core:sign-out"))
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert client.post(reverse("core:sign-out"), {"csrfmiddlewaretoken": token}).status_code == 302
    assert AuditEvent.objects.filter(action="sign_out", actor_id=user.pk).exists()


def test_next_parameter_cannot_redirect_off_site(make_user: Callable[..., User]) -> None:
    user = make_user()
    response = Client().post(
        reverse("core:sign-in") + "?next=https://evil.example/",
        {"username": user.username, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_passwords_are_stored_with_argon2(make_user: Callable[..., User]) -> None:
    assert make_user().password.startswith("argon2")
