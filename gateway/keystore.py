"""API keys: a SQLite file (``<data_dir>/keys.db``) of argon2id hashes, never of secrets.

A token is ``sb_<keyid>_<secret>``: the key id finds the row, argon2id verifies the secret. A key
has one role and the binding that role needs (a customer's party, a channel's channel, a CSR's
id). ``switchboard keys create|list|revoke`` and ``/api/v1/keys`` (admins) manage them.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from actors.errors import Invalid, NotFound

PREFIX = "sb_"
_hasher = PasswordHasher()  # argon2id, the library's defaults (RFC 9106 low-memory profile)

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    party_id TEXT,
    channel TEXT,
    csr_id TEXT,
    name TEXT,
    hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
)
"""


class Role(StrEnum):
    customer = "customer"
    channel = "channel"
    csr = "csr"
    operator = "operator"
    admin = "admin"


BINDING = {Role.customer: "party_id", Role.channel: "channel", Role.csr: "csr_id"}


@dataclass(frozen=True)
class ApiKey:
    id: str
    role: Role
    party_id: str | None
    channel: str | None
    csr_id: str | None
    name: str | None
    created_at: str
    revoked_at: str | None

    def public(self) -> dict[str, Any]:
        """What ``keys list`` and ``GET /api/v1/keys`` show: never a secret or a hash."""
        return {"id": self.id, "role": self.role.value, "partyId": self.party_id, "channel": self.channel,
                "csrId": self.csr_id, "name": self.name, "createdAt": self.created_at, "revokedAt": self.revoked_at}


def split(token: str) -> tuple[str, str] | None:
    """``sb_<keyid>_<secret>`` -> ``(keyid, secret)``; None when the token is not of that shape."""
    if not token.startswith(PREFIX):
        return None
    key_id, sep, secret = token[len(PREFIX):].partition("_")
    return (key_id, secret) if sep and key_id and secret else None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class KeyStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        return db

    def create(self, role: Role | str, *, party_id: str | None = None, channel: str | None = None,
               csr_id: str | None = None, name: str | None = None, key_id: str | None = None,
               secret: str | None = None) -> tuple[ApiKey, str]:
        """A new key and its token (shown once). ``key_id``/``secret`` are for the demo keys only."""
        role = Role(role)
        bound = {"party_id": party_id, "channel": channel, "csr_id": csr_id}
        needed = BINDING.get(role)
        for field, value in bound.items():
            if field == needed and not value:
                raise Invalid(f"a {role} key needs {field}", field)
            if field != needed and value:
                raise Invalid(f"a {role} key takes no {field}", field)
        key_id = key_id or secrets.token_hex(8)
        secret = secret or secrets.token_urlsafe(32)
        if "_" in key_id or not key_id.isalnum():
            raise Invalid("a key id is letters and digits only", "id")
        key = ApiKey(key_id, role, party_id, channel, csr_id, name, _now(), None)
        with self._db() as db:
            db.execute("INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                       (key.id, role.value, party_id, channel, csr_id, name, _hasher.hash(secret), key.created_at))
        return key, f"{PREFIX}{key_id}_{secret}"

    def ensure(self, token: str, role: Role | str, **binding: str | None) -> ApiKey:
        """The key of ``token`` (a deterministic demo token), created when missing or not matching."""
        key_id, secret = split(token) or ("", "")
        found = self.verify(token)
        if found is not None:
            return found
        with self._db() as db:
            db.execute("DELETE FROM api_keys WHERE id = ?", (key_id,))
        return self.create(role, key_id=key_id, secret=secret, **binding)[0]

    def list(self) -> list[ApiKey]:
        with self._db() as db:
            return [self._key(r) for r in db.execute("SELECT * FROM api_keys ORDER BY created_at, id")]

    def get(self, key_id: str) -> ApiKey:
        with self._db() as db:
            row = db.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        if row is None:
            raise NotFound(f"no API key with id {key_id}", "id")
        return self._key(row)

    def revoke(self, key_id: str) -> ApiKey:
        with self._db() as db:
            db.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (_now(), key_id))
        return self.get(key_id)

    def verify(self, token: str) -> ApiKey | None:
        """The live key the token belongs to, or None (unknown, revoked, wrong secret). Slow on
        purpose (argon2id, tens of ms): callers cache the answer (gateway/auth.py)."""
        parts = split(token)
        if parts is None:
            return None
        key_id, secret = parts
        with self._db() as db:
            row = db.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        if row is None or row["revoked_at"] is not None:
            return None
        try:
            _hasher.verify(row["hash"], secret)
        except (VerificationError, InvalidHashError):
            return None
        return self._key(row)

    @staticmethod
    def _key(row: sqlite3.Row) -> ApiKey:
        return ApiKey(row["id"], Role(row["role"]), row["party_id"], row["channel"], row["csr_id"], row["name"],
                      row["created_at"], row["revoked_at"])


# Deterministic demo keys, one per role: created by `switchboard serve` over the demo BSS data
# (SWITCHBOARD_DEMO_KEYS=false turns them off) and listed in the README.
DEMO_KEYS: list[tuple[str, Role, dict[str, str]]] = [
    ("sb_democustomer_cust0001demo", Role.customer, {"party_id": "CUST-0001"}),
    ("sb_demochannel_webdemo", Role.channel, {"channel": "web"}),
    ("sb_democsr_csr001demo", Role.csr, {"csr_id": "CSR-001"}),
    ("sb_demooperator_operatordemo", Role.operator, {}),
    ("sb_demoadmin_admindemo", Role.admin, {}),
]


def ensure_demo_keys(store: KeyStore) -> list[tuple[str, ApiKey]]:
    return [(token, store.ensure(token, role, **binding)) for token, role, binding in DEMO_KEYS]

