"""API keys over HTTP, for admins: ``GET``/``POST /api/v1/keys``, ``DELETE /api/v1/keys/{id}``.
The same store as ``switchboard keys create|list|revoke`` (``gateway/keystore.py``)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import Field

from actors.errors import Invalid
from actors.models import Channel, Id, Model

from .auth import Authenticator, KeyAdmin
from .keystore import Role
from .schemas import CsrId

FIELDS = {"party_id": "partyId", "csr_id": "csrId", "channel": "channel"}
router = APIRouter(prefix="/api/v1/keys", tags=["keys"])
KeyId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9]+$", description="The key id.")]


class KeyCreate(Model):
    role: Role = Field(description="customer, channel, csr, operator or admin.")
    partyId: Id | None = Field(None, description="The party a customer key acts as (required for customer).")
    channel: Channel | None = Field(None, description="The channel of a channel key (required for channel).")
    csrId: CsrId | None = Field(None, description="The CSR a csr key acts as (required for csr).")
    name: Annotated[str, Field(max_length=128)] | None = Field(None, description="A note: whose key it is.")


class KeyRead(Model):
    id: str
    role: Role
    partyId: str | None
    channel: str | None
    csrId: str | None
    name: str | None
    createdAt: str
    revokedAt: str | None


class KeyCreated(KeyRead):
    token: str = Field(description="`sb_<id>_<secret>`: shown in this answer only; only its hash is kept.")


def _auth(request: Request) -> Authenticator:
    return request.app.state.auth


@router.get("", response_model=list[KeyRead], summary="List API keys (admin)")
async def list_keys(request: Request, who: KeyAdmin) -> list[KeyRead]:
    """Ids, roles, bindings, created and revoked: never a secret or a hash."""
    keys = await asyncio.to_thread(_auth(request).keys.list)
    return [KeyRead.model_validate(k.public()) for k in keys]


@router.post("", status_code=201, response_model=KeyCreated, summary="Create an API key (admin)")
async def create_key(body: KeyCreate, request: Request, response: Response, who: KeyAdmin) -> KeyCreated:
    """The token is in this answer only. A customer key needs `partyId`, a channel key `channel`, a csr
    key `csrId`; other roles take none of them (422 naming the field)."""
    try:
        key, token = await asyncio.to_thread(
            _auth(request).keys.create, body.role, party_id=body.partyId,
            channel=body.channel.value if body.channel else None, csr_id=body.csrId, name=body.name)
    except Invalid as exc:  # the store names its columns; the API its fields
        raise Invalid(exc.detail, FIELDS.get(exc.field or "", exc.field)) from None
    response.headers["Location"] = f"/api/v1/keys/{key.id}"
    return KeyCreated.model_validate({**key.public(), "token": token})


@router.delete("/{key_id}", response_model=KeyRead, summary="Revoke an API key (admin)",
               responses={404: {"description": "No key with this id (problem details)."}})
async def revoke_key(key_id: KeyId, request: Request, who: KeyAdmin) -> KeyRead:
    """Stops the key at once in this gateway; other gateway processes stop accepting it within
    `SWITCHBOARD_AUTH_CACHE_SECONDS` (their verified-token cache)."""
    auth = _auth(request)
    key = await asyncio.to_thread(auth.keys.revoke, key_id)
    auth.forget(key_id)
    return KeyRead.model_validate(key.public())
