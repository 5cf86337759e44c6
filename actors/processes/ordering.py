"""ordering: a ShoppingCart validated into a CustomerProductOrder, tracked through its steps."""

from __future__ import annotations

from bss import BssError

from .base import Payload, Process, completed, derived_id, needs_person, party

TERMINAL = {"completed", "failed", "cancelled", "rejected"}
MAX_STEPS = 20


class OrderingProcess(Process):
    kind = "ordering"

    def placeOrder(self, p: Payload):
        cart_id = str(p["input"]["cartId"])
        cart = self.bss.cart(cart_id)
        if cart is None:
            return needs_person(f"shopping cart {cart_id} not found")
        owner = {r["id"] for r in cart.get("relatedParty", [])}
        if owner and party(p) not in owner:
            return needs_person(f"shopping cart {cart_id} does not belong to the related party")
        try:
            order = self.bss.create_order(derived_id("PO", p), party(p), None, cart_id)
        except BssError as exc:
            return needs_person(f"the cart cannot be ordered: {exc}")
        return completed({"id": order["id"], "state": order["state"]})

    def trackOrder(self, p: Payload):
        order_id = p["input"]["orderId"]
        order = self.bss.order(order_id)
        steps = []
        for _ in range(MAX_STEPS):
            if order is None or order["state"] in TERMINAL:
                break
            order = self.bss.advance_order(order_id)
            steps.append(order["state"])
        if order is None:
            return needs_person(f"product order {order_id} not found")
        if order["state"] != "completed":
            return needs_person(f"product order {order_id} ended {order['state']} (steps: {', '.join(steps)})")
        return completed({"id": order_id, "state": order["state"], "steps": steps})
