"""The dicts every ``Bss`` returns, built in one place so SQLite, the TMF stand-in and HTTP agree.

Master data (customer, billing account, payment) keep their row shape (snake_case keys). Anything
that is a TM Forum resource has its TMF shape (camelCase, refs as ``{"id": ...}``), with the
business entity in ``@type`` and the TMF resource in ``@baseType``:

=============================== ================================ =======================
business entity                 TMF resource                     API
=============================== ================================ =======================
CustomerInvoice                 CustomerBill                     TMF678
AppliedCustomerBillingCredit    AppliedCustomerBillingRate       TMF678
AppliedCustomerBillingCharge    AppliedCustomerBillingRate       TMF678
SalesQuote                      Quote                            TMF648
SalesQuoteAgreement             (AgreementRef on the Quote)      TMF648
ShoppingCart                    ShoppingCart                     TMF663
CustomerProductOrder            ProductOrder                     TMF622
CommunicationMessage            CommunicationMessage             TMF681
=============================== ================================ =======================

Money is ``{"value": 12.5, "unit": "EUR"}``; amounts of applied rates are always positive and
``type`` says which way they go (``credit`` lowers the balance, every other type raises it).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from .errors import ConflictInBss, InvalidForBss

CURRENCY = "EUR"
VAT_RATE = 0.20  # prices are tax included; taxExcludedAmount is derived with this rate

LINE_TYPES = ("recurring", "oneTime", "usage")  # what an invoice bills
CHARGE = "financialCharge"                      # a FinancialChargeSpec applied (late fee...)
CREDIT = "credit"

# TMF648 QuoteStateType; final states have no way out.
QUOTE_TRANSITIONS: dict[str, set[str]] = {
    "inProgress": {"pending", "approved", "rejected", "cancelled"},
    "pending": {"inProgress", "approved", "rejected", "cancelled"},
    "approved": {"accepted", "rejected", "cancelled"},
    "accepted": set(),
    "rejected": set(),
    "cancelled": set(),
}

# TMF622 ProductOrderStateType, the subset a demo fulfilment walks through.
ORDER_TRANSITIONS: dict[str, set[str]] = {
    "acknowledged": {"inProgress", "rejected", "cancelled", "failed"},
    "inProgress": {"completed", "failed", "cancelled"},
    "completed": set(),
    "failed": set(),
    "rejected": set(),
    "cancelled": set(),
}


def money(cents: int, currency: str = CURRENCY) -> dict[str, Any]:
    return {"value": round(cents / 100, 2), "unit": currency}


def cents(amount: dict[str, Any]) -> int:
    return round(float(amount["value"]) * 100)


def tax_excluded(cents_included: int) -> int:
    return round(cents_included / (1 + VAT_RATE))


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def later(iso: str, days: int) -> str:
    start = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return (start + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def party_ref(customer: dict[str, Any]) -> dict[str, Any]:
    return {"id": customer["id"], "name": customer["name"], "role": customer["kind"],
            "@referredType": "Organization" if customer["segment"] == "business" else "Individual"}


# -- billing ---------------------------------------------------------------------------------

def applied_rate(row: dict[str, Any], currency: str = CURRENCY) -> dict[str, Any]:
    """A row of ``applied_rates`` as a TMF678 AppliedCustomerBillingRate."""
    kind = {CREDIT: "AppliedCustomerBillingCredit", CHARGE: "AppliedCustomerBillingCharge"}
    out: dict[str, Any] = {
        "id": row["id"],
        "@type": kind.get(row["type"], "AppliedCustomerBillingRate"),
        "@baseType": "AppliedCustomerBillingRate",
        "type": row["type"],
        "name": row["name"],
        "date": row["date"],
        "isBilled": row["bill_id"] is not None,
        "billingAccount": {"id": row["billing_account_id"]},
        "taxIncludedAmount": money(row["amount_cents"], currency),
        "taxExcludedAmount": money(tax_excluded(row["amount_cents"]), currency),
    }
    if row["bill_id"] is not None:
        out["bill"] = {"id": row["bill_id"]}
    if row["detail"]:
        name = "reason" if row["type"] == CREDIT else "chargeSpecification"
        out["characteristic"] = [{"name": name, "value": row["detail"]}]
    return out


def customer_bill(row: dict[str, Any], customer_id: str, rates: list[dict[str, Any]],
                  currency: str = CURRENCY) -> dict[str, Any]:
    """An ``invoices`` row as a TMF678 CustomerBill, plus ``lines`` and ``charges``: its applied
    rates (not TMF678 attributes of CustomerBill; ``HttpBss`` fetches them with ``bill.id=``)."""
    total = sum(r["amount_cents"] if r["type"] != CREDIT else -r["amount_cents"] for r in rates)
    return {
        "id": row["id"],
        "@type": "CustomerInvoice",
        "@baseType": "CustomerBill",
        "billNo": row["bill_no"],
        "billDate": row["bill_date"],
        "paymentDueDate": row["due_date"],
        "billingPeriod": {"startDateTime": row["period_start"], "endDateTime": row["period_end"]},
        "state": row["state"],
        "category": "normal",
        "runType": "onCycle",
        "billingAccount": {"id": row["billing_account_id"]},
        "relatedParty": [{"id": customer_id, "role": "customer", "@referredType": "Customer"}],
        "taxIncludedAmount": money(total, currency),
        "taxExcludedAmount": money(tax_excluded(total), currency),
        "amountDue": money(total, currency),
        "remainingAmount": money(total - row["paid_cents"], currency),
        "lines": [applied_rate(r, currency) for r in rates if r["type"] in LINE_TYPES],
        "charges": [applied_rate(r, currency) for r in rates if r["type"] == CHARGE],
    }


def bill_only(bill: dict[str, Any]) -> dict[str, Any]:
    """The CustomerBill without the ``lines``/``charges`` that TMF678 serves as applied rates."""
    return {k: v for k, v in bill.items() if k not in ("lines", "charges")}


def with_rates(bill: dict[str, Any], rates: list[dict[str, Any]]) -> dict[str, Any]:
    """A TMF678 CustomerBill and its applied rates put back together (what ``HttpBss`` does)."""
    ordered = sorted(rates, key=lambda r: r["id"])
    return {**bill, "lines": [r for r in ordered if r["type"] in LINE_TYPES],
            "charges": [r for r in ordered if r["type"] == CHARGE]}


def account_summary(account: dict[str, Any], payment: dict[str, Any] | None) -> dict[str, Any]:
    currency = account["currency"]
    return {
        "billingAccountId": account["id"],
        "customerId": account["customer_id"],
        "balance": money(account["balance_cents"], currency),
        "dueDate": account["due_date"],
        "standing": account["standing"],
        "dunningStage": account["dunning_stage"],
        "lastPayment": None
        if payment is None
        else {"date": payment["paid_at"], "amount": money(payment["amount_cents"], currency), "method": payment["method"]},
    }


def charge_spec(row: dict[str, Any]) -> dict[str, Any]:
    """A FinancialChargeSpec: ``{id, name, description, amount}``."""
    return {"id": row["id"], "@type": "FinancialChargeSpec", "name": row["name"],
            "description": row["description"], "amount": money(row["amount_cents"], row["currency"])}


def promise(row: dict[str, Any]) -> dict[str, Any]:
    """A promise to pay (local to the reference BSS; no TMF API in scope covers it)."""
    return {"id": row["id"], "@type": "PromiseToPay", "billingAccount": {"id": row["billing_account_id"]},
            "amount": money(row["amount_cents"]), "dueDate": row["due_date"], "state": row["state"],
            "createdAt": row["created_at"]}


# -- sales -----------------------------------------------------------------------------------

def check_items(items: Any) -> list[tuple[str, int]]:
    """``[{"offeringId", "quantity"}]`` -> ``[(offering_id, quantity)]``, or InvalidForBss."""
    if not isinstance(items, list) or not items:
        raise InvalidForBss("items must be a non-empty list of {offeringId, quantity}")
    out = []
    for item in items:
        offering_id = item.get("offeringId") if isinstance(item, dict) else None
        quantity = item.get("quantity", 1) if isinstance(item, dict) else None
        if not isinstance(offering_id, str) or not offering_id:
            raise InvalidForBss(f"item without offeringId: {item!r}")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise InvalidForBss(f"item {offering_id}: quantity must be a whole number >= 1")
        out.append((offering_id, quantity))
    return out


def item_prices(offering: dict[str, Any]) -> list[dict[str, Any]]:
    """The unit prices of an offering as TMF QuotePrice/OrderPrice/CartPrice entries."""
    out = []
    for p in offering["productOfferingPrice"]:
        price = {"name": p["name"], "priceType": p["priceType"],
                 "price": {"taxIncludedAmount": p["price"],
                           "dutyFreeAmount": money(tax_excluded(cents(p["price"])), p["price"]["unit"])},
                 "productOfferingPrice": {"id": p["id"], "name": p["name"]}}
        if p.get("recurringChargePeriod"):
            price["recurringChargePeriod"] = p["recurringChargePeriod"]
        out.append(price)
    return out


def total_prices(priced: list[tuple[dict[str, Any], int]]) -> list[dict[str, Any]]:
    """Sum of unit price x quantity per (priceType, period): recurring first, then one-off."""
    sums: dict[tuple[str, str | None], int] = {}
    for offering, quantity in priced:
        for p in offering["productOfferingPrice"]:
            key = (p["priceType"], p.get("recurringChargePeriod"))
            sums[key] = sums.get(key, 0) + cents(p["price"]) * quantity
    out = []
    for (price_type, period), total in sorted(sums.items(), key=lambda kv: (kv[0][0] != "recurring", kv[0])):
        entry: dict[str, Any] = {"name": "total", "priceType": price_type,
                                 "price": {"taxIncludedAmount": money(total), "dutyFreeAmount": money(tax_excluded(total))}}
        if period:
            entry["recurringChargePeriod"] = period
        out.append(entry)
    return out


def _items(priced: list[tuple[dict[str, Any], int]], price_key: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": str(n), "action": "add", "quantity": quantity, **extra,
             "productOffering": {"id": o["id"], "name": o["name"]}, price_key: item_prices(o)}
            for n, (o, quantity) in enumerate(priced, start=1)]


def sales_quote(quote_id: str, party: dict[str, Any], priced: list[tuple[dict[str, Any], int]],
                valid_days: int, at: str) -> dict[str, Any]:
    """A TMF648 Quote priced from the catalogue (its SalesQuoteSpecification): state approved."""
    return {
        "id": quote_id, "externalId": quote_id, "@type": "SalesQuote", "@baseType": "Quote",
        "state": "approved", "quoteDate": at,
        "validFor": {"startDateTime": at, "endDateTime": later(at, valid_days)},
        "relatedParty": [party_ref(party)],
        "quoteItem": _items(priced, "quoteItemPrice", state="approved"),
        "quoteTotalPrice": total_prices(priced),
        "agreement": [],
    }


def quote_moved(quote: dict[str, Any], state: str, at: str) -> dict[str, Any]:
    """The quote in ``state`` (same state: unchanged), or InvalidForBss/ConflictInBss."""
    if state not in QUOTE_TRANSITIONS:
        raise InvalidForBss(f"{state!r} is not a TMF648 quote state ({', '.join(QUOTE_TRANSITIONS)})")
    if state == quote["state"]:
        return quote
    if state not in QUOTE_TRANSITIONS[quote["state"]]:
        raise ConflictInBss(f"quote {quote.get('externalId', quote['id'])} is {quote['state']}: cannot become {state}")
    moved = {**quote, "state": state, "quoteItem": [{**i, "state": state} for i in quote["quoteItem"]]}
    if not QUOTE_TRANSITIONS[state]:
        moved["effectiveQuoteCompletionDate"] = at
    return moved


def agreement_of(quote: dict[str, Any], agreement_id: str) -> dict[str, Any]:
    """The SalesQuoteAgreement recorded on an accepted quote (TMF648 AgreementRef + the quote)."""
    return {
        "id": agreement_id, "@type": "SalesQuoteAgreement", "state": "agreed",
        "agreementDate": quote.get("effectiveQuoteCompletionDate"),
        "quote": {"id": quote["id"], "externalId": quote.get("externalId"), "@referredType": "Quote"},
        "relatedParty": quote["relatedParty"],
        "quoteTotalPrice": quote["quoteTotalPrice"],
    }


def shopping_cart(cart_id: str, party: dict[str, Any], priced: list[tuple[dict[str, Any], int]],
                  at: str) -> dict[str, Any]:
    """A TMF663 ShoppingCart priced from the catalogue."""
    return {
        "id": cart_id, "externalId": cart_id, "@type": "ShoppingCart",
        "validFor": {"startDateTime": at, "endDateTime": later(at, 30)},
        "relatedParty": [party_ref(party)],
        "cartItem": _items(priced, "itemPrice", status="active"),
        "cartTotalPrice": total_prices(priced),
    }


def cart_items(cart: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"offeringId": i["productOffering"]["id"], "quantity": i["quantity"]} for i in cart["cartItem"]]


def product_order(order_id: str, party: dict[str, Any], priced: list[tuple[dict[str, Any], int]],
                  cart_id: str | None, at: str) -> dict[str, Any]:
    """A TMF622 ProductOrder (CustomerProductOrder), acknowledged."""
    order: dict[str, Any] = {
        "id": order_id, "externalId": order_id, "@type": "CustomerProductOrder", "@baseType": "ProductOrder",
        "state": "acknowledged", "orderDate": at, "category": party["segment"],
        "relatedParty": [party_ref(party)],
        "productOrderItem": _items(priced, "itemPrice", state="acknowledged"),
        "orderTotalPrice": total_prices(priced),
        "note": [],
    }
    if cart_id:  # not a TMF622 v4 attribute: an extension naming the cart checked out
        order["shoppingCart"] = {"id": cart_id, "@referredType": "ShoppingCart"}
    return order


def next_order_state(state: str, fails: bool) -> str:
    """One fulfilment step: acknowledged -> inProgress -> completed (or failed); final stays."""
    if state == "acknowledged":
        return "inProgress"
    if state == "inProgress":
        return "failed" if fails else "completed"
    return state


def order_moved(order: dict[str, Any], state: str, at: str) -> dict[str, Any]:
    if state not in ORDER_TRANSITIONS:
        raise InvalidForBss(f"{state!r} is not a product order state ({', '.join(ORDER_TRANSITIONS)})")
    if state == order["state"]:
        return order
    if state not in ORDER_TRANSITIONS[order["state"]]:
        raise ConflictInBss(f"order {order.get('externalId', order['id'])} is {order['state']}: cannot become {state}")
    moved = {**order, "state": state, "productOrderItem": [{**i, "state": state} for i in order["productOrderItem"]]}
    if not ORDER_TRANSITIONS[state]:
        moved["completionDate"] = at
    if state == "failed":
        moved["note"] = [*order.get("note", []), {"date": at, "author": "fulfilment",
                                                  "text": "fulfilment failed at the inProgress step"}]
    return moved


# -- contact ---------------------------------------------------------------------------------

def communication_message(message_id: str, party: dict[str, Any], channel: str, subject: str, body: str,
                          related_request_id: str | None, at: str) -> dict[str, Any]:
    """A TMF681 CommunicationMessage, as sent (state completed)."""
    receiver: dict[str, Any] = {"id": party["id"], "name": party["name"], "party": party_ref(party)}
    if party.get("email"):
        receiver["email"] = party["email"]
    if party.get("phone"):
        receiver["phoneNumber"] = party["phone"]
    message = {
        "id": message_id, "@type": "CommunicationMessage", "messageType": channel,
        "subject": subject, "content": body, "state": "completed",
        "sendTime": at, "sendTimeComplete": at,
        "receiver": [receiver], "sender": {"id": "switchboard", "name": "Switchboard"},
        "characteristic": [],
    }
    if related_request_id:
        message["characteristic"].append({"name": "relatedRequestId", "value": related_request_id})
    return message
