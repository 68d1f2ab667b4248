"""Bearer tokens with SMART-style scopes: who is calling, and what the token lets them do.

A scope reads ``context/Type.actions``: the context is ``patient`` (one person's record,
named when the token was issued), ``user`` (what the user could see on the web) or
``system`` (a registered client, acting as its service account); ``Type`` is a resource
type or ``*``; the actions are SMART v1 ``read``/``write``/``*`` or v2 letters ``cruds``.
A scope never widens access: reads still go through ``visible_to(user)``.

This module must never store or log a token as issued: only its SHA-256 hash is kept.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from django.utils import timezone

from joinedup.errors import InvalidInput
from joinedup.fhir.errors import InsufficientScope, InvalidToken
from joinedup.fhir.models import AccessToken

if TYPE_CHECKING:
    from joinedup.core.models import User

TOKEN_PREFIX = "jdu_"  # noqa: S105 - a prefix, not a secret
_SCOPE = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|c?r?u?d?s?)$")
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}


@dataclass(frozen=True)
class Scope:
    context: str  # patient, user or system
    resource_type: str  # a type, or "*"
    actions: frozenset[str]  # of c, r, u, d, s

    def covers(self, resource_type: str, action: str) -> bool:
        return self.resource_type in ("*", resource_type) and action in self.actions


@lru_cache(maxsize=1024)
def parse_scopes(text: str) -> tuple[Scope, ...]:
    """The resource scopes in a space-separated scope string; OpenID and launch scopes
    (``openid``, ``fhirUser``, ``launch/patient``, ``offline_access``) are allowed and ignored.

    Cached: every request parses its token's scopes, and a token's scopes never change
    (the result is immutable; a string that is not a scope raises and is not cached)."""
    scopes: list[Scope] = []
    for word in text.split():
        if word in {"openid", "fhirUser", "profile", "launch", "offline_access"} or (
            word.startswith("launch/")
        ):
            continue
        match = _SCOPE.match(word)
        if match is None or match.group(3) == "":
            raise InvalidInput(
                f"'{word}' is not a scope: use context/Type.action, "
                "for example user/*.read or patient/Observation.rs",
                where="scope",
            )
        context, resource_type, actions = match.groups()
        scopes.append(Scope(context, resource_type, frozenset(_V1.get(actions, actions))))
    if not scopes:
        raise InvalidInput("ask for at least one resource scope, e.g. user/*.read", where="scope")
    return tuple(scopes)


@dataclass(frozen=True)
class Grant:
    """What one request may do: the user it acts for, its scopes, and its patient."""

    user: User
    scopes: tuple[Scope, ...]
    patient_id: uuid.UUID | None = None
    client_id: str | None = None

    def allows(self, resource_type: str, action: str) -> bool:
        return any(scope.covers(resource_type, action) for scope in self.scopes)

    def require(self, resource_type: str, action: str) -> None:
        if not self.allows(resource_type, action):
            verb = {"r": "read", "s": "search", "c": "create", "u": "update", "d": "delete"}
            raise InsufficientScope(
                f"the token's scopes do not allow {verb.get(action, action)} of {resource_type}",
                where="Authorization",
            )

    @property
    def actor(self) -> User:
        return self.user


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def check_scopes_for(*, scopes: tuple[Scope, ...], client: bool, patient: bool) -> None:
    """The contexts a token may carry: ``system`` only for clients, ``patient`` only with a
    patient named, ``user`` for people and clients alike."""
    for scope in scopes:
        if scope.context == "system" and not client:
            raise InvalidInput("system/ scopes are for registered clients only", where="scope")
        if scope.context == "patient" and not patient:
            raise InvalidInput("patient/ scopes need the patient they open", where="patient")


def grant_for(authorization: str) -> Grant:
    """The grant behind an ``Authorization: Bearer`` header, or InvalidToken."""
    kind, _, raw = authorization.partition(" ")
    if kind.lower() != "bearer" or not raw.strip():
        raise InvalidToken("send an Authorization: Bearer token", where="Authorization")
    found = (
        AccessToken.objects.select_related("user", "user__organisation", "client")
        .filter(token_hash=token_hash(raw.strip()))
        .order_by()[:1]  # the hash is unique: no ordering to compute
    )
    token = next(iter(found), None)
    if token is None or token.revoked_at is not None or token.expires_at <= timezone.now():
        raise InvalidToken("the token is unknown, expired or revoked", where="Authorization")
    if not token.user.is_active or (token.client is not None and not token.client.active):
        raise InvalidToken("the token's account is disabled", where="Authorization")
    return Grant(
        user=token.user,
        scopes=parse_scopes(token.scopes),
        patient_id=token.patient_id,
        client_id=token.client.client_id if token.client else None,
    )
