"""The body of a new request, as channels send it to ``POST /api/v1/requests``."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from actors.models import Channel, Direction, Id, LongText, Model, RelatedParty, Scalar

CharName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")]
MAX_INTERACTION = 64 * 1024  # bytes of JSON
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")]


class RequestCreate(Model):
    """A new request. Unknown fields are refused; ``characteristics`` depend on ``requestType``."""

    requestType: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="One of the request types of the routing table, e.g. `billingInquiry`."
    )
    direction: Direction = Field(description="`inbound` (from the party) or `outbound` (started by the operator).")
    channel: Channel = Field(description="The channel the request came through.")
    relatedParty: list[RelatedParty] = Field(
        min_length=1, max_length=10, description="The parties the request is about; the first is the originator."
    )
    description: LongText | None = Field(None, description="Free text from the party, stored verbatim.")
    characteristics: dict[CharName, Scalar] = Field(
        default_factory=dict, max_length=50, description="Type-specific values, e.g. `billingAccountId`."
    )
    priority: int = Field(3, ge=1, le=5, description="1 (highest) to 5 (lowest).")
    externalId: Id | None = Field(None, description="The channel's own id for the request.")
    interaction: dict[str, Any] | None = Field(None, description="TMF683 PartyInteraction attributes with no "
                                               "native counterpart, kept verbatim; set by the TMF683 API "
                                               "(docs/tmf683.md).")

    @field_validator("characteristics")
    @classmethod
    def _short_values(cls, v: dict[str, Scalar]) -> dict[str, Scalar]:
        for name, value in v.items():
            if isinstance(value, str) and len(value) > 1000:
                raise ValueError(f"characteristic {name} is longer than 1000 characters")
        return v

    @field_validator("interaction")
    @classmethod
    def _bounded(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        # Rewritten with the state on every journal commit of the request: kept small.
        if v is not None and len(json.dumps(v, separators=(",", ":"))) > MAX_INTERACTION:
            raise ValueError(f"the PartyInteraction attributes kept are over {MAX_INTERACTION // 1024} KiB "
                             "(give attachments by url, not by content)")
        return v

    def body_hash(self) -> str:
        body = self.model_dump(mode="json")
        if body["interaction"] is None:  # a native body hashes as before TMF683: keys stay valid across the upgrade
            del body["interaction"]
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
