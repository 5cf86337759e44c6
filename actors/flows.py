"""What each request type does: a flow per type, deciding the next step from the request's state.

A flow is pure: given the request (read-only) and its self-service rules, it answers with a list
of effects. The request actor applies the effects to the state in the same journal commit as the
event that caused them, so "what to do next" is always on disk: a pending activity is driven
after a restart exactly like before it.

Events a flow answers: ``start`` (the request is acknowledged), ``completed`` and ``failed`` (an
activity ended), ``action`` (a CSR or the customer acted), ``timer`` (a timer of the request fired).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from math import ceil
from typing import Any

from .errors import Conflict, Invalid
from .models import Activity, RequestState, Status


# -- effects --------------------------------------------------------------------------------
@dataclass
class Run:
    """Start an activity (the request goes inProgress if it is not)."""

    kind: str
    process: str
    input: dict[str, Any] = field(default_factory=dict)


@dataclass
class Hold:
    """Wait for a person: the request goes held, in the CSR queue of ``queue`` (a skill)."""

    queue: str
    reason: str


@dataclass
class Wait:
    """Wait for the customer or a third party: the request goes pending (the SLA clock pauses)."""

    reason: str
    timers: dict[str, timedelta] = field(default_factory=dict)


@dataclass
class Resolve:
    resolution: str
    reason: str


@dataclass
class Note:
    """Merge into the request's result and references (what fulfilment created)."""

    result: dict[str, Any] = field(default_factory=dict)
    references: list[dict[str, str]] = field(default_factory=list)


Effect = Run | Hold | Wait | Resolve | Note


def message(subject: str, body: str, purpose: str = "notice") -> Run:
    """Send a message to the request's originator; ``purpose`` tells the flow what it was for."""
    return Run("sendMessage", "communication", {"subject": subject, "body": body, "purpose": purpose})


# -- flows ----------------------------------------------------------------------------------
class Flow:
    """The default: no self service; anything unexpected goes to a CSR."""

    queue = "general"
    uses: frozenset[str] = frozenset({"communication"})  # process kinds the flow runs activities on

    def __init__(self, rules: dict[str, Any]):
        self.rules = rules

    def start(self, req: RequestState) -> list[Effect]:
        return [Hold(self.queue, f"no self service for {req.requestType}: waiting for a CSR")]

    def completed(self, req: RequestState, act: Activity) -> list[Effect]:
        return []

    def failed(self, req: RequestState, act: Activity) -> list[Effect]:
        return [Hold(self.queue, f"{act.kind}: {act.error}")]

    def action(self, req: RequestState, name: str, data: dict[str, Any]) -> list[Effect]:
        raise Conflict(f"{name} is not an action of a {req.requestType} request in status {req.status}", "action")

    def timer(self, req: RequestState, name: str) -> list[Effect]:
        return []


def require(req: RequestState, *statuses: Status, action: str) -> None:
    if req.status not in statuses:
        allowed = " or ".join(statuses)
        raise Conflict(f"{action} needs the request to be {allowed}; it is {req.status}", "action")


def last(req: RequestState, kind: str) -> Activity | None:
    """The latest completed activity of this kind."""
    return next((a for a in reversed(req.activities) if a.kind == kind and a.status == "completed"), None)


def messaged(act: Activity) -> Note:
    return Note(references=[{"type": "CommunicationMessage", "id": act.result["id"]}])


class CsrAnswers(Flow):
    """A held request that a CSR answers in writing: the answer is sent and the request resolved."""

    def action(self, req: RequestState, name: str, data: dict[str, Any]) -> list[Effect]:
        if name == "answer":
            require(req, Status.held, action=name)
            return [message(f"Answer to your {req.requestType}", data["text"], purpose="csrAnswer")]
        return super().action(req, name, data)

    def completed(self, req: RequestState, act: Activity) -> list[Effect]:
        if act.kind == "sendMessage" and act.input.get("purpose") == "csrAnswer":
            return [messaged(act), Resolve("answeredByCsr", "a CSR answered")]
        return self.next(req, act)

    def next(self, req: RequestState, act: Activity) -> list[Effect]:
        return []


class Inquiry(CsrAnswers):
    """A general question: answered from the knowledge base when an article matches well enough."""

    queue = "general"
    uses = frozenset({"inquiry", "communication"})

    def start(self, req):
        return [Run("kbAnswer", "inquiry", {"text": req.description or "",
                                            "threshold": self.rules.get("kbMatchThreshold", 0.5)})]

    def next(self, req, act):
        if act.kind == "kbAnswer":
            article = act.result.get("article")
            if article is None:
                return [Hold(self.queue, "no knowledge-base article matches well enough")]
            return [Note(result={"article": article}), message(article["title"], article["answer"], "kbAnswer")]
        if act.kind == "sendMessage":
            return [messaged(act), Resolve("answeredFromKnowledgeBase", "answered by self service")]
        return []


class BillingInquiry(CsrAnswers):
    queue = "billing"
    uses = frozenset({"billing", "communication"})

    def start(self, req):
        return [Run("accountSummary", "billing")]

    def next(self, req, act):
        if act.kind == "accountSummary":
            return [Note(result=act.result), Resolve("answered", "balance, due date and last payment given")]
        return []


class InvoiceInquiry(CsrAnswers):
    queue = "billing"
    uses = frozenset({"billing", "communication"})

    def start(self, req):
        return [Run("findInvoice", "billing")]

    def next(self, req, act):
        if act.kind == "findInvoice":
            inv = act.result
            return [Note(result={"invoice": inv}, references=[{"type": "CustomerBill", "id": inv["id"]}]),
                    Run("sendMessage", "communication", {"subject": f"Copy of invoice {inv['id']}",
                                                         "body": inv.get("summary", ""), "purpose": "notice"})]
        if act.kind == "sendMessage":
            return [messaged(act), Resolve("invoiceSent", "a copy of the invoice was sent")]
        return []


class BillingDispute(CsrAnswers):
    """Credit under the auto-credit limit for an account in good standing; otherwise a CSR decides."""

    queue = "billing"
    uses = frozenset({"billing", "communication"})

    def start(self, req):
        return [Run("assessDispute", "billing", {"autoCreditLimit": self.rules.get("autoCreditLimit", 0),
                                                 "requiredStanding": self.rules.get("requiredStanding", "good")})]

    def next(self, req, act):
        if act.kind == "assessDispute":
            if not act.result["eligible"]:
                return [Hold(self.queue, act.result["reason"])]
            return [Run("applyCredit", "billing", {"amount": act.result["amount"]})]
        if act.kind == "applyCredit":
            credit = act.result
            return [Note(result={"credit": credit}, references=[{"type": "AppliedCustomerBillingCredit",
                                                                  "id": credit["id"]}]),
                    Run("sendMessage", "communication", {"subject": "Your dispute: credit applied",
                                                         "body": f"A credit of {credit['amount']['value']} "
                                                                 f"{credit['amount']['unit']} was applied.",
                                                         "purpose": "notice"})]
        if act.kind == "sendMessage":
            credited = last(req, "applyCredit") is not None
            return [messaged(act), Resolve("credited" if credited else "refused",
                                           "credit applied" if credited else "dispute refused")]
        return []

    def action(self, req, name, data):
        if name == "approve":
            require(req, Status.held, action=name)
            assessed = last(req, "assessDispute")
            amount = data.get("amount") or (assessed.result["amount"] if assessed else req.characteristics.get("amount"))
            if amount is None:
                raise Invalid("approve needs an amount: the dispute names none", "amount")
            return [Run("applyCredit", "billing", {"amount": amount, "approvedBy": data.get("by")})]
        if name == "reject":
            require(req, Status.held, action=name)
            return [Run("sendMessage", "communication", {"subject": "Your dispute was refused",
                                                         "body": data["reason"], "purpose": "notice"})]
        return super().action(req, name, data)


class Quote(CsrAnswers):
    """Catalogue offers are priced and sent; the customer accepts (agreement), declines, or it expires."""

    queue = "sales"
    uses = frozenset({"selling", "communication"})

    def start(self, req):
        if req.characteristics.get("custom"):
            return [Hold(self.queue, "a custom quote: a sales CSR builds it")]
        item = {"offeringId": req.characteristics["offeringId"], "quantity": req.characteristics.get("quantity", 1)}
        return [self.price([item])]

    def price(self, items, prices=None):
        days = float(self.rules.get("quoteValidityDays", 30))  # the request's own timer keeps the exact time
        return Run("priceQuote", "selling", {"items": items, "prices": prices or {}, "validDays": max(1, ceil(days))})

    def next(self, req, act):
        if act.kind == "priceQuote":
            quote = act.result
            return [Note(result={"quote": quote}, references=[{"type": "Quote", "id": quote["id"]}]),
                    Run("sendMessage", "communication", {"subject": f"Your quote {quote['id']}",
                                                         "body": quote.get("summary", ""), "purpose": "notice"})]
        if act.kind == "sendMessage" and last(req, "closeQuote") is None and last(req, "acceptQuote") is None:
            validity = timedelta(days=float(self.rules.get("quoteValidityDays", 30)))
            return [messaged(act), Wait("waiting for the customer to accept the quote", {"quoteExpiry": validity})]
        if act.kind == "acceptQuote":
            agreement = act.result
            return [Note(result={"agreement": agreement},
                         references=[{"type": "SalesQuoteAgreement", "id": agreement["id"]}]),
                    Resolve("accepted", "the customer accepted the quote")]
        if act.kind == "closeQuote":
            state = act.input["state"]
            return [Resolve("declined" if state == "rejected" else "expired", f"quote {state}")]
        return []

    def _quote_id(self, req):
        priced = last(req, "priceQuote")
        if priced is None:
            raise Conflict("this request has no quote yet", "action")
        return priced.result["id"]

    def action(self, req, name, data):
        if name == "accept":
            require(req, Status.pending, action=name)
            return [Run("acceptQuote", "selling", {"quoteId": self._quote_id(req)})]
        if name == "decline":
            require(req, Status.pending, action=name)
            return [Run("closeQuote", "selling", {"quoteId": self._quote_id(req), "state": "rejected"})]
        if name == "buildQuote":
            require(req, Status.held, action=name)
            return [self.price(data["items"], data.get("prices"))]
        return super().action(req, name, data)

    def timer(self, req, name):
        if name == "quoteExpiry" and req.status == Status.pending:
            return [Run("closeQuote", "selling", {"quoteId": self._quote_id(req), "state": "cancelled"})]
        return []


class CartCheckout(CsrAnswers):
    """A valid cart becomes a product order, tracked to completion; a failed order goes to a CSR."""

    queue = "orders"
    uses = frozenset({"ordering", "communication"})

    def start(self, req):
        return [Run("placeOrder", "ordering", {"cartId": req.characteristics["cartId"]})]

    def next(self, req, act):
        if act.kind == "placeOrder":
            order = act.result
            return [Note(references=[{"type": "ProductOrder", "id": order["id"]}]),
                    Run("trackOrder", "ordering", {"orderId": order["id"]})]
        if act.kind == "trackOrder":
            return [Note(result={"order": act.result}),
                    Run("sendMessage", "communication", {"subject": f"Your order {act.result['id']} is complete",
                                                         "body": "Thank you for your order.", "purpose": "notice"})]
        if act.kind == "sendMessage":
            return [messaged(act), Resolve("ordered", "the product order completed")]
        return []

    def action(self, req, name, data):
        if name == "retry":
            require(req, Status.held, action=name)
            return [Run("placeOrder", "ordering", {"cartId": req.characteristics["cartId"]})]
        return super().action(req, name, data)


class DunningNotice(CsrAnswers):
    """Outbound: notice sent, late fee charged, next dunning stage; then a payment or promise is awaited."""

    queue = "collections"
    uses = frozenset({"collections", "communication"})

    def start(self, req):
        return [Run("dunningNotice", "collections")]

    def next(self, req, act):
        if act.kind == "dunningNotice":
            return [Run("sendMessage", "communication", {"subject": act.result["subject"],
                                                         "body": act.result["body"], "purpose": "notice"})]
        if act.kind == "sendMessage" and last(req, "recordPromise") is None:
            return [messaged(act), Run("chargeLateFee", "collections")]
        if act.kind == "chargeLateFee":
            charge = act.result
            step = timedelta(days=float(self.rules.get("dunningStepDays", 14)))
            return [Note(result={"lateFee": charge}, references=[{"type": "AppliedCustomerBillingRate",
                                                                   "id": charge["id"]}]),
                    Wait("awaiting payment or a promise to pay", {"nextDunningStep": step})]
        if act.kind == "recordPromise":
            return [Note(result={"promise": act.result}), Resolve("promiseToPay", "the customer promised to pay")]
        if act.kind == "advanceDunning":
            return [Note(result={"dunningStage": act.result["stage"]}),
                    Resolve("nextDunningStep", f"no payment: dunning stage {act.result['stage']}")]
        return []

    def action(self, req, name, data):
        if name == "promise":
            require(req, Status.pending, action=name)
            return [Run("recordPromise", "collections", {"amount": data["amount"], "date": data["date"]})]
        if name == "dispute":
            require(req, Status.pending, action=name)
            return [Hold(self.queue, f"the customer disputes the notice: {data.get('text', '')}")]
        return super().action(req, name, data)

    def timer(self, req, name):
        if name == "nextDunningStep" and req.status == Status.pending:
            notice = last(req, "dunningNotice")
            return [Run("advanceDunning", "collections", {"fromStage": notice.result["dunningStage"]})]
        return []


FLOWS: dict[str, type[Flow]] = {
    "inquiry": Inquiry,
    "billingInquiry": BillingInquiry,
    "invoiceInquiry": InvoiceInquiry,
    "billingDispute": BillingDispute,
    "quote": Quote,
    "cartCheckout": CartCheckout,
    "dunningNotice": DunningNotice,
}
