"""A small OpenID Connect provider on loopback, for testing joinedup's OIDC sign-in for real.

It serves discovery, JWKS and a token endpoint over HTTP on 127.0.0.1, checks the
client's credentials and the PKCE verifier, and signs ID tokens with its own RSA
key. Tests choose what goes wrong: a wrong nonce or audience, or a forged key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "joinedup-test"
CLIENT_SECRET = "test-secret-for-the-fake-provider"


@dataclass
class Grant:
    subject: str
    nonce: str
    challenge: str
    audience: str = CLIENT_ID
    forged: bool = False


@dataclass
class FakeIdentityProvider:
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, auto_kid=True))
    grants: dict[str, Grant] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None
    token_requests: int = 0

    @property
    def issuer(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def issue_code(self, grant: Grant) -> str:
        code = secrets.token_urlsafe(16)
        self.grants[code] = grant
        return code

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": grant.subject,
            "aud": grant.audience,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
        }
        key = RSAKey.generate_key(2048, auto_kid=True) if grant.forged else self.key
        header = {"alg": "RS256", "kid": self.key.kid}
        return jwt.encode(header, claims, key)

    def start(self) -> FakeIdentityProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    self._json(
                        200,
                        {
                            "issuer": provider.issuer,
                            "authorization_endpoint": f"{provider.issuer}/authorize",
                            "token_endpoint": f"{provider.issuer}/token",
                            "jwks_uri": f"{provider.issuer}/jwks",
                        },
                    )
                elif self.path == "/jwks":
                    self._json(200, {"keys": [provider.key.as_dict(private=False)]})
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                provider.token_requests += 1
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self._json(401, {"error": "invalid_client"})
                    return
                grant = provider.grants.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                challenge = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                    .rstrip(b"=")
                    .decode()
                )
                if grant is None or challenge != grant.challenge:
                    self._json(400, {"error": "invalid_grant"})
                    return
                self._json(
                    200,
                    {
                        "access_token": "opaque",
                        "token_type": "Bearer",
                        "id_token": provider.id_token(grant),
                    },
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
