"""Keyed pseudonyms for the planning zone: HMAC-SHA256 of the person's id under a salt.

The same salt always gives the same pseudonym, so incremental builds line up; without
the salt a pseudonym cannot be recomputed from a person id, so a warehouse file alone
never leads back to a person. The salt is a secret (``JOINEDUP_WAREHOUSE_SALT``); only
its fingerprint (an HMAC of a fixed label) is ever written down, to notice a change.

Pure: no Django, no files.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Final

MIN_SALT_BYTES: Final = 16
PSEUDONYM_HEX: Final = 32  # 128 bits: collisions are out of reach for any borough


class Pseudonymiser:
    def __init__(self, salt: bytes) -> None:
        if len(salt) < MIN_SALT_BYTES:
            raise ValueError(f"the warehouse salt must be at least {MIN_SALT_BYTES} bytes")
        self._salt = salt

    def of(self, person_id: uuid.UUID) -> str:
        digest = hmac.new(self._salt, person_id.bytes, hashlib.sha256).hexdigest()
        return digest[:PSEUDONYM_HEX]

    @property
    def fingerprint(self) -> str:
        """Identifies the salt without revealing it (so a salt change forces a full rebuild)."""
        return hmac.new(self._salt, b"joinedup warehouse salt", hashlib.sha256).hexdigest()[:16]
