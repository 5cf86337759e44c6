"""Catalogue and sales in SQLite: offerings, quotes and agreements, shopping carts, product orders."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from .. import shapes
from ..errors import ConflictInBss, InvalidForBss, NotFoundInBss
from .db import Db, dumps


class Sales(Db):
    # -- catalogue ----------------------------------------------------------------------------

    def offering(self, offering_id: str) -> dict[str, Any] | None:
        found = self._offerings("WHERE id = ?", offering_id)
        return found[0] if found else None

    def offerings(self) -> list[dict[str, Any]]:
        return self._offerings("")

    def _offerings(self, where: str, *args: Any) -> list[dict[str, Any]]:
        rows = self._all(f"SELECT * FROM offerings {where} ORDER BY id", *args)
        prices: dict[str, list[dict[str, Any]]] = {}
        for p in self._all("SELECT * FROM offering_prices ORDER BY id"):
            price = {"id": p["id"], "name": p["name"], "priceType": p["price_type"], "price": shapes.money(p["amount_cents"])}
            if p["period"]:
                price["recurringChargePeriod"] = p["period"]
            prices.setdefault(p["offering_id"], []).append(price)
        return [{"id": r["id"], "@type": "ProductOffering", "name": r["name"], "description": r["description"],
                 "category": r["category"], "isSellable": True, "failsFulfilment": bool(r["fails_fulfilment"]),
                 "productOfferingPrice": sorted(prices.get(r["id"], []), key=lambda p: p["priceType"] != "recurring")}
                for r in rows]

    def _priced(self, items: Any) -> list[tuple[dict[str, Any], int]]:
        priced = []
        for offering_id, quantity in shapes.check_items(items):
            offering = self.offering(offering_id)
            if offering is None:
                raise InvalidForBss(f"offering {offering_id} is not in the catalogue")
            priced.append((offering, quantity))
        return priced

    def _party(self, party_id: str) -> dict[str, Any]:
        party = self._one("SELECT * FROM customers WHERE id = ?", party_id)
        if party is None:
            raise NotFoundInBss(f"party {party_id} not found")
        return party

    # -- quotes (TMF648) ------------------------------------------------------------------------

    def quote(self, quote_id: str) -> dict[str, Any] | None:
        return self._doc("quotes", quote_id)

    def create_quote(self, quote_id: str, party_id: str, items: list[dict[str, Any]], valid_days: int = 30) -> dict[str, Any]:
        """A SalesQuote priced from the catalogue, state ``approved``, valid ``valid_days``."""
        with self._tx() as c:
            if (quote := self.quote(quote_id)) is not None:
                return quote
            if not isinstance(valid_days, int) or isinstance(valid_days, bool) or valid_days < 1:
                raise InvalidForBss(f"valid_days must be a whole number >= 1, not {valid_days!r}")
            quote = shapes.sales_quote(quote_id, self._party(party_id), self._priced(items), valid_days, shapes.now())
            c.execute("INSERT INTO quotes VALUES (?, ?, ?, ?)", (quote_id, party_id, quote["state"], dumps(quote)))
            return quote

    def set_quote_state(self, quote_id: str, state: str) -> dict[str, Any]:
        """Move a quote to a TMF648 state: approved -> accepted | rejected | cancelled, ...
        (``shapes.QUOTE_TRANSITIONS``); the same state again changes nothing."""
        with self._tx() as c:
            quote = self._quote_for_update(quote_id)
            moved = shapes.quote_moved(quote, state, shapes.now())
            if moved is not quote:
                self._save_quote(c, moved)
            return moved

    def agreement(self, agreement_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT quote_id FROM agreements WHERE id = ?", agreement_id)
        quote = None if row is None else self.quote(row["quote_id"])
        return None if quote is None else shapes.agreement_of(quote, agreement_id)

    def create_agreement(self, agreement_id: str, quote_id: str) -> dict[str, Any]:
        """The customer accepts an approved, unexpired quote: quote ``accepted`` with the agreement."""
        with self._tx() as c:
            row = c.execute("SELECT quote_id FROM agreements WHERE id = ?", (agreement_id,)).fetchone()
            if row is not None:
                return shapes.agreement_of(self._quote_for_update(row[0]), agreement_id)
            quote = self._quote_for_update(quote_id)
            other = c.execute("SELECT id FROM agreements WHERE quote_id = ?", (quote_id,)).fetchone()
            if other is not None:
                raise ConflictInBss(f"quote {quote_id} is already accepted under agreement {other[0]}")
            at = shapes.now()
            if quote["state"] == "approved" and _parse(quote["validFor"]["endDateTime"]) < _parse(at):
                raise ConflictInBss(f"quote {quote_id} expired on {quote['validFor']['endDateTime']}")
            moved = shapes.quote_moved(quote, "accepted", at)
            moved["agreement"] = [*quote.get("agreement", []), {"id": agreement_id, "@referredType": "Agreement"}]
            self._save_quote(c, moved)
            c.execute("INSERT INTO agreements VALUES (?, ?)", (agreement_id, quote_id))
            return shapes.agreement_of(moved, agreement_id)

    def _quote_for_update(self, quote_id: str) -> dict[str, Any]:
        quote = self.quote(quote_id)
        if quote is None:
            raise NotFoundInBss(f"quote {quote_id} not found")
        return quote

    @staticmethod
    def _save_quote(c: sqlite3.Connection, quote: dict[str, Any]) -> None:
        c.execute("UPDATE quotes SET state = ?, doc = ? WHERE id = ?", (quote["state"], dumps(quote), quote["id"]))

    # -- shopping carts (TMF663) ---------------------------------------------------------------

    def cart(self, cart_id: str) -> dict[str, Any] | None:
        return self._doc("carts", cart_id)

    def create_cart(self, cart_id: str, party_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        """A ShoppingCart priced from the catalogue."""
        with self._tx() as c:
            if (cart := self.cart(cart_id)) is not None:
                return cart
            cart = shapes.shopping_cart(cart_id, self._party(party_id), self._priced(items), shapes.now())
            c.execute("INSERT INTO carts VALUES (?, ?, ?)", (cart_id, party_id, dumps(cart)))
            return cart

    # -- product orders (TMF622) ---------------------------------------------------------------

    def order(self, order_id: str) -> dict[str, Any] | None:
        return self._doc("orders", order_id)

    def create_order(self, order_id: str, party_id: str, items: list[dict[str, Any]] | None,
                     cart_id: str | None = None) -> dict[str, Any]:
        """A CustomerProductOrder, ``acknowledged``. With ``cart_id`` (and no items) the cart's items;
        a cart is ordered once: another order id for the same cart is a ConflictInBss, unless every
        earlier order of it ended ``failed`` or ``cancelled`` (a retry after a failed order)."""
        with self._tx() as c:
            if (order := self.order(order_id)) is not None:
                return order
            party = self._party(party_id)
            if cart_id is not None:
                cart = self.cart(cart_id)
                if cart is None:
                    raise NotFoundInBss(f"shopping cart {cart_id} not found")
                if cart["relatedParty"][0]["id"] != party_id:
                    raise ConflictInBss(f"shopping cart {cart_id} belongs to another party")
                other = c.execute("SELECT id FROM orders WHERE cart_id = ? AND state NOT IN ('failed', 'cancelled')",
                                  (cart_id,)).fetchone()
                if other is not None:
                    raise ConflictInBss(f"shopping cart {cart_id} is already ordered as {other[0]}")
                items = items or shapes.cart_items(cart)
            order = shapes.product_order(order_id, party, self._priced(items), cart_id, shapes.now())
            c.execute("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", (order_id, party_id, cart_id, order["state"], dumps(order)))
            return order

    def set_order_state(self, order_id: str, state: str) -> dict[str, Any]:
        """Move an order to a TMF622 state allowed from its current one (``shapes.ORDER_TRANSITIONS``)."""
        return self._move_order(order_id, lambda order: state)

    def advance_order(self, order_id: str) -> dict[str, Any]:
        """One fulfilment step: acknowledged -> inProgress -> completed, or ``failed`` when an item
        is an offering that fails in fulfilment (``PO-DSL-LEGACY``); a final state stays. Not
        idempotent: each call is one more step."""
        def step(order: dict[str, Any]) -> str:
            fails = any((o := self.offering(i["productOffering"]["id"])) is not None and o["failsFulfilment"]
                        for i in order["productOrderItem"])
            return shapes.next_order_state(order["state"], fails)
        return self._move_order(order_id, step)

    def _move_order(self, order_id: str, target) -> dict[str, Any]:
        with self._tx() as c:
            order = self.order(order_id)
            if order is None:
                raise NotFoundInBss(f"product order {order_id} not found")
            moved = shapes.order_moved(order, target(order), shapes.now())
            if moved is not order:
                c.execute("UPDATE orders SET state = ?, doc = ? WHERE id = ?", (moved["state"], dumps(moved), order_id))
            return moved


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))
