"""A stand-in for a real BSS: the TM Forum Open API v4 endpoints that ``HttpBss`` calls, over a ``SqliteBss``.

It is not a BSS and not a full implementation of any of these APIs: just enough of TMF678 Customer
Bill, TMF648 Quote, TMF663 Shopping Cart and TMF622 Product Ordering for the tests of ``HttpBss``
and for demos (point ``open_bss`` at it as if it were the operator's BSS). Paths follow each
swagger's ``basePath``; errors are TMF ``Error`` bodies whose ``code`` is the ``bss.errors`` class.

Stand-in choices: the ``externalId`` given on create becomes the resource ``id`` (one is made up
when absent); list endpoints need one of the filters ``HttpBss`` uses (``externalId``,
``agreement.id``, ``billingAccount.id``, ``bill.id``, ``type``) and honour ``offset``/``limit``
with ``X-Total-Count``/``X-Result-Count``, but ignore ``fields``; ``POST appliedCustomerBillingRate``
is an extension (TMF678 v4 only reads applied rates).

Run it: ``python -m bss.tmfserver --db var/bss.db --port 8700``. In tests: ``with serving(bss) as url``.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import uvicorn
from fastapi import Body, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse

from . import shapes
from .errors import BssError, InvalidForBss, NotFoundInBss
from .http import BILL, CART, ORDER, QUOTE
from .store import SqliteBss

Doc = dict[str, Any]
Json = Annotated[dict[str, Any], Body()]
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=1000)]


def _found(doc: Doc | None, what: str, id_: str) -> Doc:
    if doc is None:
        raise NotFoundInBss(f"{what} {id_} not found")
    return doc


def _page(response: Response, docs: list[Doc], offset: int, limit: int) -> list[Doc]:
    response.headers["X-Total-Count"] = str(len(docs))
    page = docs[offset: offset + limit]
    response.headers["X-Result-Count"] = str(len(page))
    return page


def _required(value: str | None, name: str) -> str:
    if value is None:
        raise InvalidForBss(f"filter by {name}: the stand-in lists nothing unfiltered")
    return value


def _party_id(body: Doc) -> str:
    parties = body.get("relatedParty") or []
    if not parties or not parties[0].get("id"):
        raise InvalidForBss("relatedParty with the customer's id is required")
    return parties[0]["id"]


def _items(body: Doc, key: str) -> list[Doc]:
    items = body.get(key)
    if not isinstance(items, list):
        raise InvalidForBss(f"{key} is required")
    return [{"offeringId": (i.get("productOffering") or {}).get("id"), "quantity": i.get("quantity", 1)} for i in items]


def _new_id(body: Doc, prefix: str) -> str:
    return body.get("externalId") or body.get("id") or f"{prefix}-{uuid.uuid4().hex[:12]}"


def _characteristic(body: Doc, name: str) -> Any:
    return next((c.get("value") for c in body.get("characteristic") or [] if c.get("name") == name), None)


def create_app(bss: SqliteBss) -> FastAPI:
    app = FastAPI(title="Switchboard TMF stand-in BSS", version="4.0.0",
                  description="A stand-in for a real BSS (TMF678, TMF648, TMF663, TMF622 subsets) over SqliteBss.")

    @app.exception_handler(BssError)
    def bss_error(request: Request, exc: BssError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "reason": exc.message, "status": str(exc.status)}, status_code=exc.status)

    def href(request: Request, doc: Doc, collection: str) -> Doc:
        return {**doc, "href": f"{str(request.base_url).rstrip('/')}{collection}/{doc['id']}"}

    # -- TMF678 Customer Bill ----------------------------------------------------------------
    bills, rates = f"{BILL}/customerBill", f"{BILL}/appliedCustomerBillingRate"

    @app.get(bills)
    def list_bills(request: Request, response: Response,
                   account: Annotated[str | None, Query(alias="billingAccount.id")] = None,
                   offset: Offset = 0, limit: Limit = 100) -> list[Doc]:
        bills_of = bss.invoices_of(_required(account, "billingAccount.id"))
        found = [href(request, shapes.bill_only(b), bills) for b in bills_of]
        return _page(response, found, offset, limit)

    @app.get(bills + "/{bill_id}")
    def get_bill(request: Request, bill_id: str) -> Doc:
        return href(request, shapes.bill_only(_found(bss.invoice(bill_id), "customer bill", bill_id)), bills)

    @app.get(rates)
    def list_rates(request: Request, response: Response,
                   account: Annotated[str | None, Query(alias="billingAccount.id")] = None,
                   bill: Annotated[str | None, Query(alias="bill.id")] = None,
                   type: str | None = None, offset: Offset = 0, limit: Limit = 100) -> list[Doc]:
        found = bss.applied_rates(account_id=account, bill_id=bill, type=type)
        return _page(response, [href(request, r, rates) for r in found], offset, limit)

    @app.get(rates + "/{rate_id}")
    def get_rate(request: Request, rate_id: str) -> Doc:
        return href(request, _found(bss.applied_rate(rate_id), "applied billing rate", rate_id), rates)

    @app.post(rates, status_code=201)
    def create_rate(request: Request, body: Json) -> Doc:
        rate_id, account = _new_id(body, "ACBR"), (body.get("billingAccount") or {}).get("id", "")
        if body.get("type") == shapes.CREDIT:
            amount = shapes.cents(body.get("taxIncludedAmount") or {"value": 0})
            rate = bss.apply_credit(rate_id, account, amount, _characteristic(body, "reason") or "")
        elif body.get("type") == shapes.CHARGE:
            rate = bss.apply_charge(rate_id, account, _characteristic(body, "chargeSpecification") or "")
        else:
            raise InvalidForBss(f"type must be {shapes.CREDIT} or {shapes.CHARGE}")
        return href(request, rate, rates)

    # -- TMF648 Quote ----------------------------------------------------------------------------
    quotes = f"{QUOTE}/quote"

    @app.get(quotes)
    def list_quotes(request: Request, response: Response, externalId: str | None = None,
                    agreement: Annotated[str | None, Query(alias="agreement.id")] = None,
                    offset: Offset = 0, limit: Limit = 100) -> list[Doc]:
        if externalId is not None:
            found = bss.quote(externalId)
        elif agreement is not None:
            found = (a := bss.agreement(agreement)) and bss.quote(a["quote"]["id"])
        else:
            raise InvalidForBss("filter by externalId or agreement.id: the stand-in lists nothing unfiltered")
        return _page(response, [href(request, found, quotes)] if found else [], offset, limit)

    @app.get(quotes + "/{quote_id}")
    def get_quote(request: Request, quote_id: str) -> Doc:
        return href(request, _found(bss.quote(quote_id), "quote", quote_id), quotes)

    @app.post(quotes, status_code=201)
    def create_quote(request: Request, body: Json) -> Doc:
        valid_for = body.get("validFor") or {}
        days = 30
        if valid_for.get("startDateTime") and valid_for.get("endDateTime"):
            start, end = (datetime.fromisoformat(valid_for[k].replace("Z", "+00:00")) for k in ("startDateTime", "endDateTime"))
            days = max(1, round((end - start).total_seconds() / 86400))
        quote = bss.create_quote(_new_id(body, "Q"), _party_id(body), _items(body, "quoteItem"), days)
        return href(request, quote, quotes)

    @app.patch(quotes + "/{quote_id}")
    def patch_quote(request: Request, quote_id: str, body: Json) -> Doc:
        quote = _found(bss.quote(quote_id), "quote", quote_id)
        known = {a["id"] for a in quote.get("agreement", [])}
        new = [a["id"] for a in body.get("agreement") or [] if a.get("id") and a["id"] not in known]
        for agreement_id in new:
            bss.create_agreement(agreement_id, quote_id)
        if not new and body.get("state"):
            bss.set_quote_state(quote_id, body["state"])
        return href(request, bss.quote(quote_id), quotes)

    # -- TMF663 Shopping Cart --------------------------------------------------------------------
    carts = f"{CART}/shoppingCart"

    @app.get(carts)
    def list_carts(request: Request, response: Response, externalId: str | None = None,
                   offset: Offset = 0, limit: Limit = 100) -> list[Doc]:
        found = bss.cart(_required(externalId, "externalId"))
        return _page(response, [href(request, found, carts)] if found else [], offset, limit)

    @app.get(carts + "/{cart_id}")
    def get_cart(request: Request, cart_id: str) -> Doc:
        return href(request, _found(bss.cart(cart_id), "shopping cart", cart_id), carts)

    @app.post(carts, status_code=201)
    def create_cart(request: Request, body: Json) -> Doc:
        cart = bss.create_cart(_new_id(body, "SC"), _party_id(body), _items(body, "cartItem"))
        return href(request, cart, carts)

    # -- TMF622 Product Ordering -----------------------------------------------------------------
    orders = f"{ORDER}/productOrder"

    @app.get(orders)
    def list_orders(request: Request, response: Response, externalId: str | None = None,
                    offset: Offset = 0, limit: Limit = 100) -> list[Doc]:
        found = bss.order(_required(externalId, "externalId"))
        return _page(response, [href(request, found, orders)] if found else [], offset, limit)

    @app.get(orders + "/{order_id}")
    def get_order(request: Request, order_id: str) -> Doc:
        return href(request, _found(bss.order(order_id), "product order", order_id), orders)

    @app.post(orders, status_code=201)
    def create_order(request: Request, body: Json) -> Doc:
        cart_id = (body.get("shoppingCart") or {}).get("id")
        order = bss.create_order(_new_id(body, "PO"), _party_id(body), _items(body, "productOrderItem"), cart_id)
        return href(request, order, orders)

    @app.patch(orders + "/{order_id}")
    def patch_order(request: Request, order_id: str, body: Json) -> Doc:
        _found(bss.order(order_id), "product order", order_id)
        if body.get("state"):
            bss.set_order_state(order_id, body["state"])
        return href(request, bss.order(order_id), orders)

    return app


@contextmanager
def serving(bss: SqliteBss, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the stand-in on ``host:port`` (0: a free port) in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(create_app(bss), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="tmf-stand-in", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the TMF stand-in did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bss.tmfserver", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="var/bss.db", help="the SQLite BSS to serve (python -m bss.demo writes one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(SqliteBss(args.db)), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
