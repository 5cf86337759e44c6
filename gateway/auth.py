"""Who is calling, and what they may do: the one place where roles are checked.

Every API route states what it needs in its signature with one of the ``Annotated`` aliases below
(``Reader``, ``Creator``, ``CsrActor``, ...). Each alias authenticates the bearer token (an API key
``sb_<keyid>_<secret>`` or, when configured, a JWT), applies the key's rate limit and checks the
principal's role against ``GROUPS``. Scoping to a party or channel (``visible``) and the actor name
written to timelines (``Principal.actor``) are here too.

Errors: 401 (with ``WWW-Authenticate: Bearer``) for a missing or bad token, 403 for a role not
allowed on the route group, 429 (with ``Retry-After``) over the rate limit. A customer asking for
another party's request gets the same 404 as for an unknown id.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from actors.errors import Invalid, NotFound, SwitchboardError
from actors.models import Channel
from routing.config import Settings

from .keystore import ApiKey, KeyStore, Role


class Unauthorized(SwitchboardError):
    code = "auth.unauthorized"
    title = "Unauthorized"


class Forbidden(SwitchboardError):
    code = "auth.forbidden"
    title = "Forbidden"


class RateLimited(SwitchboardError):
    code = "auth.rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int = 1):
        super().__init__(detail, None)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``kind`` is the role; ``id`` the key id (or the JWT's ``sub``)."""

    kind: Role
    id: str
    party_id: str | None = None
    channel: str | None = None
    csr_id: str | None = None

    @property
    def actor(self) -> str:
        """How timelines name this principal."""
        if self.kind is Role.customer:
            return f"party:{self.party_id}"
        if self.kind is Role.csr:
            return f"csr:{self.csr_id}"
        if self.kind is Role.channel:
            return f"channel:{self.channel}"
        return f"{self.kind.value}:{self.id}"

    @property
    def limit_key(self) -> str:
        return f"{self.kind.value}:{self.id}"


C, CH, CSR, OP, AD = Role.customer, Role.channel, Role.csr, Role.operator, Role.admin
# Route group -> roles allowed. Admins may do everything: an admin can create a key of any role,
# so refusing it a route would only add a step. docs/security.md has this table.
GROUPS: dict[str, frozenset[Role]] = {
    "requests.create": frozenset({C, CH, CSR, OP, AD}),   # operators: outbound campaigns
    "requests.read": frozenset({C, CH, CSR, OP, AD}),     # customers: their party's; channels: their channel's
    "requests.cancel": frozenset({C, CH, CSR, AD}),
    "actions.customer": frozenset({C, CH, AD}),           # channels act on behalf of a party (partyId)
    "actions.csr": frozenset({CSR, AD}),
    "queue.read": frozenset({CSR, OP, AD}),
    "events.all": frozenset({C, CSR, OP, AD}),            # customers: forced to their party
    "hub": frozenset({C, OP, AD}),                        # customers: forced to their party
    "hub.deadLetters": frozenset({OP, AD}),
    "keys": frozenset({AD}),
    "campaigns": frozenset({OP, AD}),
    "tmf683": frozenset({CH, OP, AD}),                    # channels: their channel's PartyInteractions
}


# -- who: tokens to principals ----------------------------------------------------------------

def _from_key(key: ApiKey) -> Principal:
    return Principal(key.role, key.id, key.party_id, key.channel, key.csr_id)


class TokenBucket:
    """Per principal: ``rate`` tokens a second up to ``burst``; one token per request."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.buckets: dict[str, list[float]] = {}

    def take(self, p: Principal) -> None:
        s = self.settings
        rate, burst = ((s.channel_rate_limit_per_second, s.channel_rate_limit_burst) if p.kind is Role.channel
                       else (s.rate_limit_per_second, s.rate_limit_burst))
        now = time.monotonic()
        bucket = self.buckets.get(p.limit_key)
        if bucket is None:
            bucket = self.buckets[p.limit_key] = [float(burst), now]
        tokens = min(burst, bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if tokens < 1:
            bucket[0] = tokens
            raise RateLimited(f"over the rate limit of this key ({rate:g}/s, bursts of {burst})",
                              max(1, math.ceil((1 - tokens) / rate)))
        bucket[0] = tokens - 1


class Authenticator:
    """Tokens to principals, with a cache keyed by the token's SHA-256: a token seen in the last
    ``auth_cache_seconds`` costs a hash and a dict lookup; argon2 runs once per TTL per token."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.keys = KeyStore(settings.keys_path)
        self.cache: dict[bytes, tuple[Principal, float]] = {}
        self.verifying: dict[bytes, asyncio.Future] = {}
        self.limiter = TokenBucket(settings)
        self.jwt = JwtVerifier(settings) if (settings.jwt_jwks_url or settings.jwt_public_key) else None

    async def authenticate(self, token: str) -> Principal:
        digest = hashlib.sha256(token.encode()).digest()
        hit = self._hit(token, digest)
        if hit is not None:
            return hit
        return await asyncio.shield(self._verification(token, digest))

    def cached(self, token: str) -> Principal | None:
        """The token's principal if it was verified within the cache's time, else None (nothing is
        verified here)."""
        return self._hit(token, hashlib.sha256(token.encode()).digest())

    def _hit(self, token: str, digest: bytes) -> Principal | None:
        hit = self.cache.get(digest)
        now = time.monotonic()
        if hit is None or hit[1] <= now:
            return None
        if hit[1] - now < self.settings.auth_cache_seconds / 10 and digest not in self.verifying:
            self._verification(token, digest)  # verified again in the background before it expires
        return hit[0]

    def _verification(self, token: str, digest: bytes) -> asyncio.Future:
        """The token's verification in progress, started if there is none: one at a time per token.
        The requests arriving meanwhile (a client with 64 connections, or every connection when an
        entry expires) wait for it, instead of each running argon2 (tens of ms of CPU each), which
        stalled the whole gateway. Its outcome is cached; a refused token leaves the cache."""
        pending = self.verifying.get(digest)
        if pending is None:
            pending = self.verifying[digest] = asyncio.ensure_future(self._verify(token))
            pending.add_done_callback(lambda done: self._verified(digest, done))
        return pending

    def _verified(self, digest: bytes, done: asyncio.Future) -> None:
        self.verifying.pop(digest, None)
        if done.cancelled() or done.exception() is not None:
            self.cache.pop(digest, None)
            return
        now = time.monotonic()
        if len(self.cache) > 100_000:  # bounded: drop the expired, or everything if none has
            self.cache = {k: v for k, v in self.cache.items() if v[1] > now}
        self.cache[digest] = (done.result(), now + self.settings.auth_cache_seconds)

    async def _verify(self, token: str) -> Principal:
        if token.startswith("sb_"):
            key = await asyncio.to_thread(self.keys.verify, token)  # argon2: off the event loop
            if key is None:
                raise Unauthorized("unknown or revoked API key")
            return _from_key(key)
        if self.jwt is not None:
            return await asyncio.to_thread(self.jwt.verify, token)
        raise Unauthorized("not an API key of this gateway")

    def forget(self, key_id: str) -> None:
        """A key revoked through this gateway stops at once here (other processes: within the TTL)."""
        self.cache = {k: v for k, v in self.cache.items() if v[0].id != key_id}


class JwtVerifier:
    """OIDC/JWT: signature (JWKS or a PEM public key), ``aud``, ``exp`` and, when set, ``iss``.

    Claims: ``sub`` the principal id, ``role`` (customer, channel, csr, operator, admin),
    ``party_id`` (customer), ``channel`` (channel), ``csr_id`` (csr)."""

    ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]

    def __init__(self, settings: Settings):
        import jwt

        self._jwt = jwt
        self.settings = settings
        self.jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None
        if not settings.jwt_audience:
            raise ValueError("SWITCHBOARD_JWT_AUDIENCE is required with a JWT key")

    def verify(self, token: str) -> Principal:
        jwt, s = self._jwt, self.settings
        try:
            key = self.jwks.get_signing_key_from_jwt(token).key if self.jwks else s.jwt_public_key
            claims = jwt.decode(token, key, algorithms=self.ALGORITHMS, audience=s.jwt_audience, issuer=s.jwt_issuer,
                                options={"require": ["exp", "aud", "sub"]})
            return principal_of(claims)
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthorized(f"invalid token: {type(exc).__name__}") from None


def principal_of(claims: dict[str, Any]) -> Principal:
    role = Role(claims.get("role"))
    p = Principal(role, str(claims["sub"]), claims.get("party_id"), claims.get("channel"), claims.get("csr_id"))
    need = {Role.customer: p.party_id, Role.channel: p.channel, Role.csr: p.csr_id}
    if role in need and not need[role]:
        raise ValueError(f"a {role} token needs its binding claim")
    if p.channel is not None:
        Channel(p.channel)  # a known channel, or ValueError: 401
    return p


# -- the dependencies ---------------------------------------------------------------------------

bearer = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="`Authorization: Bearer sb_<keyid>_<secret>` (an API key) or a JWT of the "
                    "configured identity provider.")


async def current_principal(request: Request,
                            creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    if creds is None:
        raise Unauthorized("an `Authorization: Bearer <token>` header is required")
    auth: Authenticator = request.app.state.auth
    p = await auth.authenticate(creds.credentials)
    auth.limiter.take(p)
    return p


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(group: str) -> Any:
    """``Annotated[Principal, ...]`` for a route of ``group``: 403 for any other role."""
    roles = GROUPS[group]

    async def check(p: CurrentPrincipal) -> Principal:
        if p.kind not in roles:
            raise Forbidden(f"a {p.kind.value} key may not use {group} "
                            f"(allowed: {', '.join(r.value for r in Role if r in roles)})")
        return p
    return Annotated[Principal, Depends(check)]


Creator = require("requests.create")
Reader = require("requests.read")
Canceller = require("requests.cancel")
CustomerActor = require("actions.customer")
CsrActor = require("actions.csr")
QueueReader = require("queue.read")
AllEventsReader = require("events.all")
HubUser = require("hub")
HubOperator = require("hub.deadLetters")
KeyAdmin = require("keys")
CampaignRunner = require("campaigns")
TmfUser = require("tmf683")


# -- scoping ------------------------------------------------------------------------------------

def not_found(request_id: str) -> NotFound:
    """The same error an unknown id gets, so ids cannot be probed."""
    return NotFound(f"no request with id {request_id}", "id")


def scoped(p: Principal) -> bool:
    return p.kind in (Role.customer, Role.channel)


def visible(p: Principal, request_id: str, state: bytes | str | dict[str, Any]) -> None:
    """404 unless ``p`` may see the request: a customer's party must be a related party, a
    channel's channel the request's channel."""
    if not scoped(p):
        return
    s = json.loads(state) if isinstance(state, (bytes, str)) else state
    if p.kind is Role.customer:
        ok = any(rp.get("id") == p.party_id for rp in s.get("relatedParty", ()))
    else:
        ok = s.get("channel") == p.channel
    if not ok:
        raise not_found(request_id)


def check_create(p: Principal, channel: Channel, party_ids: list[str]) -> None:
    if p.kind is Role.channel and channel.value != p.channel:
        raise Invalid(f"a {p.channel} channel key creates {p.channel} requests only", "channel")
    if p.kind is Role.customer and p.party_id not in party_ids:
        raise Invalid(f"a customer key creates requests of its own party {p.party_id} only", "relatedParty")


def _acting(p: Principal, own_role: Role, own_id: str | None, body_id: str | None, field: str, what: str,
            label: str) -> str:
    """Who an action is recorded for: the key's own ``what`` for a key of ``own_role`` (the body's
    ``field``, if given, must be it), else the one the body names (required)."""
    if p.kind is own_role:
        if body_id not in (None, own_id):
            raise Invalid(f"a {label} key acts as its own {what} {own_id} only", field)
        return own_id  # type: ignore[return-value]
    if body_id is None:
        raise Invalid(f"a {p.kind.value} key acts on behalf of a {what}: {field} is required", field)
    return body_id


def acting_party(p: Principal, body_party: str | None) -> str:
    """The party a customer action is recorded for: the customer's own (the body's, if given, must be
    it), or the one a channel (or admin) names in the body."""
    return _acting(p, Role.customer, p.party_id, body_party, "partyId", "party", "customer")


def acting_csr(p: Principal, body_csr: str | None) -> str:
    return _acting(p, Role.csr, p.csr_id, body_csr, "csrId", "CSR", "CSR")
