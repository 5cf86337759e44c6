"""``HttpBss``: the ``Bss`` interface over TM Forum Open APIs v4, with a local ``SqliteBss`` for the rest.

Which method goes where (API roots are the swagger ``basePath`` of each spec in
``specs/tmf/``, under ``base_url``):

======================================================= ===================================================
method                                                  served by
======================================================= ===================================================
invoice, invoices_of                                    TMF678 ``GET customerBill[/{id}]`` + the bill's
                                                        ``GET appliedCustomerBillingRate?bill.id=``
credits_of, charges_of                                  TMF678 ``GET appliedCustomerBillingRate?billingAccount.id=&type=``
apply_credit, apply_charge                              TMF678 ``GET appliedCustomerBillingRate/{id}``, then
                                                        ``POST appliedCustomerBillingRate`` (*), then the same
                                                        id on the local account (balance, standing)
quote, create_quote, set_quote_state                    TMF648 ``GET quote?externalId=``, ``POST quote``,
                                                        ``PATCH quote/{id}`` (state)
agreement, create_agreement                             TMF648 ``GET quote?agreement.id=``, ``PATCH quote/{id}``
                                                        (state accepted + AgreementRef)
cart, create_cart                                       TMF663 ``GET shoppingCart?externalId=``, ``POST shoppingCart``
order, create_order, advance_order, set_order_state     TMF622 ``GET productOrder?externalId=``, ``POST productOrder``,
                                                        ``PATCH productOrder/{id}`` (state)
customer, billing_account, accounts_of, account_summary local SqliteBss (no party/account API in scope:
last_payment, overdue_accounts, charge_spec, offering,  TMF629/TMF666/TMF620 would serve these)
offerings, record_promise, set_dunning_stage,
kb_search, csrs, outbox, send_message
======================================================= ===================================================

(*) TMF678 v4 defines only GETs on appliedCustomerBillingRate; creating one with POST (the caller's
id as ``id``) is an extension that the stand-in ``bss.tmfserver`` serves. A BSS without it needs
its own adjustment API here.

Idempotency: a write first looks its caller id up (``externalId`` for quotes, carts and orders,
the ``id`` of applied rates, the AgreementRef id) and creates only when nothing is found, so a
repeat creates nothing new. Two concurrent first calls with the same id can both miss; the
stand-in answers the second with the first record (the id is its primary key); a real BSS must
enforce a unique ``externalId`` (process actors already run one activity id at a time). ``externalId`` on a
ShoppingCart is also an extension (TMF663 v4 has none).

``advance_order``: with ``drive_orders=True`` (the stand-in, test BSSs) it PATCHes the order to its
next state, computed as ``SqliteBss`` does from the local catalogue; with ``False`` (a BSS that
fulfils orders itself) it only re-reads the order.

Errors: a TMF ``Error`` body whose ``code`` names a ``bss.errors`` class raises that class; else
404 -> NotFoundInBss, 409 -> ConflictInBss, other 4xx -> InvalidForBss, 5xx and transport
errors -> BssUnavailable.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote as _quote

import httpx

from . import shapes
from .errors import BY_CODE, BssUnavailable, ConflictInBss, InvalidForBss, NotFoundInBss
from .store import SqliteBss

BILL = "/tmf-api/customerBillManagement/v4"
ORDER = "/tmf-api/productOrderingManagement/v4"
QUOTE = "/tmf-api/quoteManagement/v4"
CART = "/tmf-api/shoppingCart/v4"
PAGE = 100

Doc = dict[str, Any]


def _party(party_id: str) -> list[Doc]:
    return [{"id": party_id, "role": "customer", "@referredType": "Party"}]


def _items(items: Any) -> list[Doc]:
    return [{"id": str(n), "action": "add", "quantity": quantity, "productOffering": {"id": offering_id}}
            for n, (offering_id, quantity) in enumerate(shapes.check_items(items), start=1)]


def _seg(id_: str) -> str:
    """An id as one path segment."""
    return _quote(str(id_), safe="")


def _clean(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if k != "href"}


class HttpBss:
    def __init__(self, base_url: str, local: SqliteBss, *, drive_orders: bool = True, timeout: float = 10.0,
                 headers: dict[str, str] | None = None, transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.local = local
        self.drive_orders = drive_orders
        self.http = httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                                 headers={"Accept": "application/json", **(headers or {})}, transport=transport)

    def __repr__(self) -> str:
        return f"HttpBss({self.base_url!r}, local={self.local!r})"

    def close(self) -> None:
        self.http.close()

    # -- HTTP plumbing ------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise BssUnavailable(f"{method} {self.base_url}{path}: {exc!r}") from exc
        if response.is_success:
            return response
        try:
            body = response.json()
        except ValueError:
            body = {}
        message = f"{method} {path}: {response.status_code} {body.get('reason') or response.text[:200]}"
        code = body.get("code") if isinstance(body, dict) else None
        if code in BY_CODE:
            raise BY_CODE[code](body.get("reason") or message)
        if response.status_code == 404:
            raise NotFoundInBss(message)
        if response.status_code == 409:
            raise ConflictInBss(message)
        if 400 <= response.status_code < 500:
            raise InvalidForBss(message)
        raise BssUnavailable(message)

    def _get(self, path: str) -> Doc | None:
        try:
            return _clean(self._send("GET", path).json())
        except NotFoundInBss:
            return None

    def _list(self, path: str, **filters: str) -> list[Doc]:
        out: list[Doc] = []
        while True:
            response = self._send("GET", path, params={**filters, "offset": len(out), "limit": PAGE})
            page = response.json()
            out += [_clean(d) for d in page]
            total = response.headers.get("X-Total-Count")
            # A short page ends the list; so does a server that ignores limit (a longer page).
            if len(page) != PAGE or (total is not None and len(out) >= int(total)):
                return out

    def _post(self, path: str, body: Doc) -> Doc:
        return _clean(self._send("POST", path, json=body).json())

    def _patch(self, path: str, body: Doc) -> Doc:
        return _clean(self._send("PATCH", path, content=json.dumps(body),
                                 headers={"Content-Type": "application/merge-patch+json"}).json())

    def _first(self, path: str, **filters: str) -> Doc | None:
        found = self._list(path, **filters)
        return found[0] if found else None

    # -- local: parties, accounts, catalogue, contact ------------------------------------------

    def customer(self, customer_id: str) -> Doc | None:
        return self.local.customer(customer_id)

    def billing_account(self, account_id: str) -> Doc | None:
        return self.local.billing_account(account_id)

    def accounts_of(self, customer_id: str) -> list[Doc]:
        return self.local.accounts_of(customer_id)

    def account_summary(self, account_id: str) -> Doc | None:
        return self.local.account_summary(account_id)

    def last_payment(self, account_id: str) -> Doc | None:
        return self.local.last_payment(account_id)

    def overdue_accounts(self, min_days: int, limit: int | None = None) -> list[Doc]:
        return self.local.overdue_accounts(min_days, limit)

    def charge_spec(self, name: str) -> Doc | None:
        return self.local.charge_spec(name)

    def record_promise(self, promise_id: str, account_id: str, amount_cents: int, due_date: str) -> Doc:
        return self.local.record_promise(promise_id, account_id, amount_cents, due_date)

    def set_dunning_stage(self, account_id: str, stage: int) -> Doc:
        return self.local.set_dunning_stage(account_id, stage)

    def offering(self, offering_id: str) -> Doc | None:
        return self.local.offering(offering_id)

    def offerings(self) -> list[Doc]:
        return self.local.offerings()

    def kb_search(self, text: str, limit: int = 3) -> list[Doc]:
        return self.local.kb_search(text, limit)

    def csrs(self) -> list[Doc]:
        return self.local.csrs()

    def outbox(self, party_id: str | None = None) -> list[Doc]:
        return self.local.outbox(party_id)

    def send_message(self, message_id: str, party_id: str, channel: str, subject: str, body: str,
                     related_request_id: str | None = None) -> Doc:
        return self.local.send_message(message_id, party_id, channel, subject, body, related_request_id)

    # -- TMF678 Customer Bill ------------------------------------------------------------------

    def invoice(self, invoice_id: str) -> Doc | None:
        bill = self._get(f"{BILL}/customerBill/{_seg(invoice_id)}")
        return None if bill is None else self._with_rates(bill)

    def invoices_of(self, account_id: str) -> list[Doc]:
        bills = [self._with_rates(b) for b in self._list(f"{BILL}/customerBill", **{"billingAccount.id": account_id})]
        bills.sort(key=lambda b: b["id"], reverse=True)
        return sorted(bills, key=lambda b: b["billDate"], reverse=True)

    def _with_rates(self, bill: Doc) -> Doc:
        return shapes.with_rates(bill, self._list(f"{BILL}/appliedCustomerBillingRate", **{"bill.id": bill["id"]}))

    def credits_of(self, account_id: str) -> list[Doc]:
        return self._rates_of(account_id, shapes.CREDIT)

    def charges_of(self, account_id: str) -> list[Doc]:
        return self._rates_of(account_id, shapes.CHARGE)

    def _rates_of(self, account_id: str, type_: str) -> list[Doc]:
        rates = self._list(f"{BILL}/appliedCustomerBillingRate", **{"billingAccount.id": account_id, "type": type_})
        return sorted(rates, key=lambda r: (r["date"], r["id"]))

    def apply_credit(self, credit_id: str, account_id: str, amount_cents: int, reason: str) -> Doc:
        def body() -> Doc:
            return {"id": credit_id, "@type": "AppliedCustomerBillingCredit", "type": shapes.CREDIT,
                    "name": "Billing credit", "billingAccount": {"id": account_id},
                    "taxIncludedAmount": shapes.money(amount_cents),
                    "characteristic": [{"name": "reason", "value": reason}]}
        return self._apply_rate(credit_id, account_id, shapes.CREDIT, body,
                                lambda: self.local.apply_credit(credit_id, account_id, amount_cents, reason))

    def apply_charge(self, charge_id: str, account_id: str, spec_name: str) -> Doc:
        def body() -> Doc:
            spec = self.local.charge_spec(spec_name)
            if spec is None:
                raise InvalidForBss(f"no financial charge specification named {spec_name!r}")
            return {"id": charge_id, "@type": "AppliedCustomerBillingCharge", "type": shapes.CHARGE,
                    "name": spec["description"], "billingAccount": {"id": account_id},
                    "taxIncludedAmount": spec["amount"],
                    "characteristic": [{"name": "chargeSpecification", "value": spec_name}]}
        return self._apply_rate(charge_id, account_id, shapes.CHARGE, body,
                                lambda: self.local.apply_charge(charge_id, account_id, spec_name))

    def _apply_rate(self, rate_id: str, account_id: str, type_: str, body, mirror) -> Doc:
        rate = self._get(f"{BILL}/appliedCustomerBillingRate/{_seg(rate_id)}")
        if rate is None:
            if self.local.billing_account(account_id) is None:
                raise NotFoundInBss(f"billing account {account_id} not found")
            rate = self._post(f"{BILL}/appliedCustomerBillingRate", body())
        if rate["type"] != type_:
            raise ConflictInBss(f"{rate_id} is already used by a {rate['type']} applied rate")
        mirror()  # the local account follows; a no-op when it already has this id
        return rate

    # -- TMF648 Quote ------------------------------------------------------------------------------

    def quote(self, quote_id: str) -> Doc | None:
        return self._first(f"{QUOTE}/quote", externalId=quote_id)

    def create_quote(self, quote_id: str, party_id: str, items: list[Doc], valid_days: int = 30) -> Doc:
        if (quote := self.quote(quote_id)) is not None:
            return quote
        if not isinstance(valid_days, int) or isinstance(valid_days, bool) or valid_days < 1:
            raise InvalidForBss(f"valid_days must be a whole number >= 1, not {valid_days!r}")
        at = shapes.now()
        return self._post(f"{QUOTE}/quote", {
            "externalId": quote_id, "@type": "SalesQuote", "relatedParty": _party(party_id),
            "quoteItem": _items(items), "validFor": {"startDateTime": at, "endDateTime": shapes.later(at, valid_days)}})

    def set_quote_state(self, quote_id: str, state: str) -> Doc:
        quote = self._need(self.quote(quote_id), "quote", quote_id)
        if quote["state"] == state:
            return quote
        return self._patch(f"{QUOTE}/quote/{_seg(quote['id'])}", {"state": state, "quoteItem": quote["quoteItem"]})

    def agreement(self, agreement_id: str) -> Doc | None:
        quote = self._first(f"{QUOTE}/quote", **{"agreement.id": agreement_id})
        return None if quote is None else shapes.agreement_of(quote, agreement_id)

    def create_agreement(self, agreement_id: str, quote_id: str) -> Doc:
        if (agreement := self.agreement(agreement_id)) is not None:
            return agreement
        quote = self._need(self.quote(quote_id), "quote", quote_id)
        refs = [*quote.get("agreement", []), {"id": agreement_id, "@referredType": "Agreement"}]
        quote = self._patch(f"{QUOTE}/quote/{_seg(quote['id'])}",
                            {"state": "accepted", "agreement": refs, "quoteItem": quote["quoteItem"]})
        return shapes.agreement_of(quote, agreement_id)

    # -- TMF663 Shopping Cart ------------------------------------------------------------------

    def cart(self, cart_id: str) -> Doc | None:
        return self._first(f"{CART}/shoppingCart", externalId=cart_id)

    def create_cart(self, cart_id: str, party_id: str, items: list[Doc]) -> Doc:
        if (cart := self.cart(cart_id)) is not None:
            return cart
        return self._post(f"{CART}/shoppingCart", {
            "externalId": cart_id, "@type": "ShoppingCart", "relatedParty": _party(party_id), "cartItem": _items(items)})

    # -- TMF622 Product Ordering ---------------------------------------------------------------

    def order(self, order_id: str) -> Doc | None:
        return self._first(f"{ORDER}/productOrder", externalId=order_id)

    def create_order(self, order_id: str, party_id: str, items: list[Doc] | None, cart_id: str | None = None) -> Doc:
        if (order := self.order(order_id)) is not None:
            return order
        body: Doc = {"externalId": order_id, "@type": "CustomerProductOrder", "relatedParty": _party(party_id)}
        if cart_id is not None:
            cart = self._need(self.cart(cart_id), "shopping cart", cart_id)
            items = items or shapes.cart_items(cart)
            body["shoppingCart"] = {"id": cart["id"], "@referredType": "ShoppingCart"}
        body["productOrderItem"] = _items(items)
        return self._post(f"{ORDER}/productOrder", body)

    def advance_order(self, order_id: str) -> Doc:
        order = self._need(self.order(order_id), "product order", order_id)
        if not self.drive_orders:
            return order
        fails = any((o := self.local.offering(i["productOffering"]["id"])) is not None and o["failsFulfilment"]
                    for i in order["productOrderItem"])
        return self._move_order(order, shapes.next_order_state(order["state"], fails))

    def set_order_state(self, order_id: str, state: str) -> Doc:
        return self._move_order(self._need(self.order(order_id), "product order", order_id), state)

    def _move_order(self, order: Doc, state: str) -> Doc:
        if order["state"] == state:
            return order
        return self._patch(f"{ORDER}/productOrder/{_seg(order['id'])}",
                           {"state": state, "productOrderItem": order["productOrderItem"]})

    @staticmethod
    def _need(doc: Doc | None, what: str, id_: str) -> Doc:
        if doc is None:
            raise NotFoundInBss(f"{what} {id_} not found")
        return doc
