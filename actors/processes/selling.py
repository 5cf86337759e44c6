"""selling: SalesQuote priced from the catalogue, SalesQuoteAgreement on acceptance, expiry."""

from __future__ import annotations

from bss import BssError

from .base import Payload, Process, completed, derived_id, needs_person, party


class SellingProcess(Process):
    kind = "selling"

    def priceQuote(self, p: Payload):
        items = p["input"]["items"]
        try:
            quote = self.bss.create_quote(derived_id("QT", p), party(p), items, int(p["input"].get("validDays", 30)))
        except BssError as exc:
            return needs_person(f"the quote cannot be priced: {exc}")
        total = next((t["price"]["taxIncludedAmount"] for t in quote.get("quoteTotalPrice", [])
                      if t.get("priceType") == "oneTime"), None)
        lines = [f"{i['productOffering']['name']} x{i['quantity']}" for i in quote.get("quoteItem", [])]
        summary = f"Quote {quote['id']}: {', '.join(lines)}; valid until {quote['validFor']['endDateTime']}."
        return completed({"id": quote["id"], "state": quote["state"], "validFor": quote["validFor"],
                          "quoteTotalPrice": quote.get("quoteTotalPrice", []), "oneTimeTotal": total,
                          "summary": summary})

    def acceptQuote(self, p: Payload):
        try:
            agreement = self.bss.create_agreement(derived_id("AG", p), p["input"]["quoteId"])
        except BssError as exc:
            return needs_person(f"the quote cannot be accepted: {exc}")
        return completed({"id": agreement["id"], "state": agreement["state"], "quoteId": p["input"]["quoteId"]})

    def closeQuote(self, p: Payload):
        quote = self.bss.quote(p["input"]["quoteId"])
        if quote is not None and quote["state"] != p["input"]["state"]:
            try:
                quote = self.bss.set_quote_state(p["input"]["quoteId"], p["input"]["state"])
            except BssError as exc:
                return needs_person(f"the quote cannot be closed: {exc}")
        return completed({"id": p["input"]["quoteId"], "state": quote["state"] if quote else None})
