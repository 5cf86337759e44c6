"""Response and action schemas of the native API (requests come in as routing.models.RequestCreate)."""

from __future__ import annotations

from datetime import date as date_
from typing import Annotated

from pydantic import Field, StringConstraints

from actors.models import Id, LongText, Model, RequestState


class RequestRead(RequestState):
    """A request as the API shows it: state, activities with their states, and the timeline."""


class CancelBody(Model):
    reason: LongText | None = Field(None, description="Why the request is cancelled; kept in the timeline.")


CsrId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
PartyId = Id


class CsrAction(Model):
    csrId: CsrId = Field(description="The CSR acting; must hold the claim on the request (except to claim).")


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
    partyId: PartyId = Field(description="The customer acting; must be a related party of the request.")


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
