"""OpenID Connect sign-in (authorisation code flow with PKCE).

The NHS Care Identity Service 2 speaks OIDC, as do most organisations'
identity providers. Configuration comes from JOINEDUP_OIDC_* variables; the
provider's endpoints and keys are discovered from its issuer URL. A person who
signs in must already have a joinedup account whose ``oidc_subject`` matches
the configured claim: the identity provider says who someone is, joinedup
decides what they may do.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from joinedup.core.models import User
from joinedup.errors import AccessDenied, ConfigurationError, InvalidInput, JoinedUpError

_SESSION_KEY = "oidc_pending"
_CACHE_SECONDS = 3600
_cache: dict[str, tuple[float, Any]] = {}


class ProviderUnavailable(JoinedUpError):
    status = 502
    code = "identity-provider-unavailable"
    title = "The sign-in service is not answering"


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def _fetch_json(url: str, *, data: dict[str, str] | None = None) -> Any:
    if not url.startswith(("https://", "http://")):
        raise ConfigurationError(f"the identity provider gave a non-HTTP address: {url}")
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body)  # noqa: S310 - scheme checked above
    if data is not None:
        credentials = f"{settings.OIDC_CLIENT_ID}:{settings.OIDC_CLIENT_SECRET}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(credentials).decode())
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.load(response)
    except urllib.error.HTTPError as exc:
        raise ProviderUnavailable(f"the identity provider answered {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
        raise ProviderUnavailable(f"the identity provider could not be reached: {exc}") from None


def _cached(key: str, load: Any) -> Any:
    hit = _cache.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    value = load()
    _cache[key] = (time.monotonic() + _CACHE_SECONDS, value)
    return value


def provider() -> Provider:
    if not settings.OIDC_ENABLED:
        raise ConfigurationError("OpenID Connect sign-in is not configured")
    issuer = settings.OIDC_ISSUER
    document = _cached(
        f"discovery:{issuer}", lambda: _fetch_json(f"{issuer}/.well-known/openid-configuration")
    )
    if document.get("issuer", "").rstrip("/") != issuer:
        raise ConfigurationError("the identity provider's discovery document names another issuer")
    return Provider(
        issuer=document["issuer"],
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
    )


def _pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_url(request: HttpRequest, *, redirect_uri: str) -> str:
    """Where to send the browser to sign in; remembers state, nonce and PKCE in the session."""
    op = provider()
    pending = {
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
        "verifier": secrets.token_urlsafe(48),
        "redirect_uri": redirect_uri,
    }
    request.session[_SESSION_KEY] = pending
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": settings.OIDC_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": settings.OIDC_SCOPES,
            "state": pending["state"],
            "nonce": pending["nonce"],
            "code_challenge": _pkce_challenge(pending["verifier"]),
            "code_challenge_method": "S256",
        }
    )
    return f"{op.authorization_endpoint}?{query}"


def complete(request: HttpRequest, *, code: str, state: str) -> User:
    """Exchange the code, check the ID token, and find the joinedup user it names."""
    pending = request.session.pop(_SESSION_KEY, None)
    if not pending or not secrets.compare_digest(pending["state"], state):
        raise InvalidInput("the sign-in response did not match a sign-in started here")
    op = provider()
    tokens = _fetch_json(
        op.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending["redirect_uri"],
            "code_verifier": pending["verifier"],
        },
    )
    claims = _verified_claims(op, tokens.get("id_token", ""), nonce=pending["nonce"])
    subject = str(claims.get(settings.OIDC_USERNAME_CLAIM, ""))
    user = User.objects.filter(oidc_subject=subject, is_active=True).first() if subject else None
    if user is None:
        raise AccessDenied("you signed in, but have no joinedup account: ask an administrator")
    return user


def _verified_claims(op: Provider, id_token: str, *, nonce: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(_cached(f"jwks:{op.jwks_uri}", lambda: _fetch_json(op.jwks_uri)))
    registry = jwt.JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": op.issuer},
        aud={"essential": True, "value": settings.OIDC_CLIENT_ID},
        exp={"essential": True},
        sub={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        token = jwt.decode(id_token, keys, algorithms=["RS256", "ES256", "PS256"])
        registry.validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise AccessDenied(f"the identity provider's token was not valid: {exc}") from None
    return dict(token.claims)
