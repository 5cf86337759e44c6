"""Response and action schemas of the native API (requests come in as routing.models.RequestCreate)."""

from __future__ import annotations

import ipaddress
import socket
from datetime import date as date_
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints

from actors.events import EventType
from actors.models import Id, LongText, Model, RequestState


class RequestRead(RequestState):
    """A request as the API shows it: state, activities with their states, and the timeline."""


class CancelBody(Model):
    reason: LongText | None = Field(None, description="Why the request is cancelled; kept in the timeline.")


CsrId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
PartyId = Id


class CsrAction(Model):
    csrId: CsrId | None = Field(None, description="The CSR acting; must hold the claim on the request (except to "
                                "claim). A CSR key acts as its own CSR: leave it out, or give that same id. "
                                "Required for a key acting on behalf of a CSR (admin).")


class Answer(CsrAction):
    text: LongText = Field(min_length=1, description="The answer sent to the customer.")


class Approve(CsrAction):
    amount: float | None = Field(None, gt=0, le=1_000_000, description="Credit to apply; default: the disputed amount.")
    note: LongText | None = None


class Reject(CsrAction):
    reason: LongText = Field(min_length=1, description="Why the dispute is refused; sent to the customer.")


class RequestInformation(CsrAction):
    question: LongText = Field(min_length=1, description="What the customer is asked; the request waits "
                               "(pending, the SLA clock stops) for the customer's `information`.")


class QuoteItem(Model):
    offeringId: Id
    quantity: int = Field(1, ge=1, le=1000)


class BuildQuote(CsrAction):
    items: list[QuoteItem] = Field(min_length=1, max_length=50)
    note: LongText | None = None


class PartyAction(Model):
    partyId: PartyId | None = Field(None, description="The customer acting; must be a related party of the "
                                    "request (otherwise 404). A customer key acts as its own party: leave it out, "
                                    "or give that same id. Required for a channel key acting on behalf of a party.")


class Decline(PartyAction):
    reason: LongText | None = None


class Information(PartyAction):
    text: LongText = Field(min_length=1, description="What the customer adds; stored verbatim.")


class Promise(PartyAction):
    amount: float = Field(gt=0, le=1_000_000, description="Amount promised, in the account's currency.")
    date: date_ = Field(description="When the customer will pay.")


class Contest(PartyAction):
    text: LongText = Field(min_length=1, description="Why the customer disputes the notice.")


class Confirm(PartyAction):
    reason: LongText | None = Field(None, description="A word from the customer, kept in the timeline.")


class Reopen(PartyAction):
    reason: LongText = Field(min_length=1, description="Why the resolution does not do; a CSR reads it.")


class Csr(Model):
    id: str
    name: str
    skills: list[str]
    load: int = Field(description="Requests this CSR holds a live claim on.")


# -- the hub (webhooks) ------------------------------------------------------------------------

def callback_allowed(url: str, allow_private: bool = True) -> str:
    """A callback must be an absolute http(s) URL without credentials or fragment; unless
    ``allow_private`` (``SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE``), its host must resolve only to public
    addresses: no private, loopback, link-local, unspecified, multicast or reserved one.

    The body validator runs the syntax checks (``allow_private`` left true: no DNS in a validator);
    the hub route runs it again with the setting, in a thread, since resolving may block."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an http or https URL")
    if not parts.hostname:
        raise ValueError("must name a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials (use the signature to authenticate deliveries)")
    if parts.fragment:
        raise ValueError("must not have a fragment")
    if not allow_private:
        for address in _addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)):
            if not address.is_global or address.is_multicast:
                raise ValueError(f"resolves to {address}, a non-public address (private, loopback, link-local, "
                                 "unspecified or reserved); refused unless SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE=true")
    return url


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ValueError(f"host {host!r} does not resolve") from None
    out = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        out.append(address)
    return out


CallbackUrl = Annotated[str, StringConstraints(min_length=8, max_length=2048), AfterValidator(callback_allowed)]
Secret = Annotated[str, StringConstraints(min_length=16, max_length=256, pattern=r"^[\x21-\x7e]+$")]


class HubQuery(Model):
    """Which events a subscription gets; an empty list or null field means any."""

    eventTypes: list[EventType] = Field(default_factory=list, max_length=len(EventType),
                                        description="Public event types: " + ", ".join(EventType) + ".")
    requestTypes: list[Id] = Field(default_factory=list, max_length=64, description="Request types.")
    relatedPartyId: Id | None = Field(None, description="Only requests whose originator is this party.")


class HubCreate(Model):
    callback: CallbackUrl = Field(description="Where deliveries are POSTed (http or https, no credentials).")
    query: HubQuery = Field(default_factory=HubQuery, description="The filter; default: every event.")
    secret: Secret | None = Field(None, description="HMAC-SHA256 key of the `X-Switchboard-Signature` header; "
                                  "generated (and returned once) when absent.")


class HubRead(Model):
    id: str
    href: str
    callback: str
    query: HubQuery
    createdAt: str


class HubCreated(HubRead):
    secret: str = Field(description="The signing secret: shown in this answer only.")


class DeadLetter(Model):
    id: str = Field(description="The delivery id (also the `deliveryId` of the event body).")
    deliveryId: str
    subscriptionId: str
    eventType: str
    attempts: int = Field(description="Attempts made, replays included.")
    lastError: str | None
    lastStatus: int | None = Field(description="The receiver's last HTTP status; null when it did not answer.")
    failedAt: str
    event: dict[str, Any] = Field(description="The body that was POSTed.")


class Replay(Model):
    delivered: bool
    deliveryId: str
    deadLetter: DeadLetter | None = Field(None, description="The entry with its new error, when the replay failed.")
