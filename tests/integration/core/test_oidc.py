"""OpenID Connect sign-in against a real provider process on loopback."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator

import pytest
from django.test import Client, override_settings
from tests.support.fake_idp import CLIENT_ID, CLIENT_SECRET, FakeIdentityProvider, Grant

from joinedup.core import oidc
from joinedup.core.models import AuditEvent, User
from joinedup.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def idp() -> Iterator[FakeIdentityProvider]:
    provider = FakeIdentityProvider().start()
    oidc._cache.clear()
    with override_settings(
        OIDC_ENABLED=True,
        OIDC_ISSUER=provider.issuer,
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_USERNAME_CLAIM="sub",
    ):
        yield provider
    provider.stop()
    oidc._cache.clear()


def _start(client: Client) -> dict[str, str]:
    response = client.get("/sign-in/oidc/")
    assert response.status_code == 302
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(response["Location"]).query))
    assert query["code_challenge_method"] == "S256"
    return query


def _callback(
    client: Client,
    idp: FakeIdentityProvider,
    grant_for: Callable[[dict[str, str]], Grant],
    *,
    state: str | None = None,
) -> tuple[Client, object]:
    query = _start(client)
    code = idp.issue_code(grant_for(query))
    response = client.get(
        "/sign-in/oidc/callback/", {"code": code, "state": state or query["state"]}
    )
    return client, response


def test_oidc_sign_in_finds_the_user_by_subject(
    idp: FakeIdentityProvider, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.SOCIAL_WORKER, oidc_subject="cis2-555")
    client, response = _callback(
        Client(), idp, lambda q: Grant("cis2-555", q["nonce"], q["code_challenge"])
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert AuditEvent.objects.filter(action="sign_in", actor_id=user.pk, reason="oidc").exists()


@pytest.mark.parametrize(
    ("grant_for", "message"),
    [
        (lambda q: Grant("cis2-555", "another-nonce", q["code_challenge"]), "not valid"),
        (
            lambda q: Grant("cis2-555", q["nonce"], q["code_challenge"], audience="someone-else"),
            "not valid",
        ),
        (lambda q: Grant("cis2-555", q["nonce"], q["code_challenge"], forged=True), "not valid"),
        (lambda q: Grant("cis2-unknown", q["nonce"], q["code_challenge"]), "no joinedup account"),
    ],
    ids=["wrong-nonce", "wrong-audience", "forged-signature", "unknown-subject"],
)
def test_oidc_sign_in_refuses_bad_tokens(
    idp: FakeIdentityProvider,
    make_user: Callable[..., User],
    grant_for: Callable[[dict[str, str]], Grant],
    message: str,
) -> None:
    make_user(Role.GP, oidc_subject="cis2-555")
    client, response = _callback(Client(), idp, grant_for)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert message in response.content.decode()  # type: ignore[attr-defined]
    assert "_auth_user_id" not in client.session


def test_oidc_callback_with_a_state_from_elsewhere_is_refused(
    idp: FakeIdentityProvider, make_user: Callable[..., User]
) -> None:
    make_user(Role.GP, oidc_subject="cis2-555")
    _, response = _callback(
        Client(),
        idp,
        lambda q: Grant("cis2-555", q["nonce"], q["code_challenge"]),
        state="forged-state",
    )
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert idp.token_requests == 0


def test_oidc_start_is_not_found_when_not_configured(client: Client) -> None:
    assert client.get("/sign-in/oidc/").status_code == 404


def test_sign_in_page_offers_oidc_when_configured(
    idp: FakeIdentityProvider, client: Client
) -> None:
    assert "/sign-in/oidc/" in client.get("/sign-in/").content.decode()
