"""Every request type of DESIGN.md end to end through the gateway, on both paths: self service, and
through a CSR. Each asserts the final status, the activities, and the effect in the reference BSS."""

from __future__ import annotations

import uuid

import pytest

from bss import open_bss
from tests.conftest import wait_status


@pytest.fixture
def bss(live):
    return open_bss(live.settings.bss_path)


def body(request_type: str, party: str = "CUST-0001", direction: str = "inbound", **chars) -> dict:
    b = {"requestType": request_type, "direction": direction, "channel": "web",
         "relatedParty": [{"id": party, "role": "customer"}], "characteristics": chars}
    if "description" in chars:
        b["description"] = chars.pop("description")
    return b


async def submit(http, b: dict, status: str) -> dict:
    r = await http.post("/api/v1/requests", json=b)
    assert r.status_code == 201, r.text
    return await wait_status(http, r.json()["id"], status)


async def csr(http, rid: str, action: str, csr_id: str, **data) -> dict:
    r = await http.post(f"/api/v1/requests/{rid}/{action}", json={"csrId": csr_id, **data})
    assert r.status_code == 200, r.text
    return r.json()


async def customer(http, rid: str, action: str, party: str = "CUST-0001", **data) -> dict:
    r = await http.post(f"/api/v1/requests/{rid}/{action}", json={"partyId": party, **data})
    assert r.status_code == 200, r.text
    return r.json()


def kinds(req: dict) -> list[tuple[str, str]]:
    return [(a["kind"], a["status"]) for a in req["activities"]]


def messages_for(bss, party: str, request_id: str) -> list[dict]:
    return [m for m in bss.outbox(party) if {"name": "relatedRequestId", "value": request_id} in m["characteristic"]]


async def claim_and(http, req: dict, csr_id: str, action: str, **data) -> dict:
    assert req["status"] == "held"
    claimed = await csr(http, req["id"], "claim", csr_id)
    assert claimed["assignee"] == f"csr:{csr_id}"
    await csr(http, req["id"], action, csr_id, **data)
    return await wait_status(http, req["id"], "resolved")


# -- inquiry ---------------------------------------------------------------------------------
async def test_inquiry_answered_from_the_knowledge_base(http, bss):
    done = await submit(http, body("inquiry", description="How do I reset my password?"), "resolved")
    assert done["resolution"] == "answeredFromKnowledgeBase"
    assert kinds(done) == [("kbAnswer", "completed"), ("sendMessage", "completed")]
    assert done["result"]["article"]["id"] == "KB-002"
    [msg] = messages_for(bss, "CUST-0001", done["id"])
    assert msg["subject"] == "Reset your password"


async def test_inquiry_without_an_answer_goes_to_a_csr_who_answers(http, bss):
    held = await submit(http, body("inquiry", description="Do you sell garden gnomes?"), "held")
    assert held["queue"] == "general" and kinds(held) == [("kbAnswer", "completed")]
    done = await claim_and(http, held, "CSR-001", "answer", text="We only take euros, sorry.")
    assert done["resolution"] == "answeredByCsr"
    [msg] = messages_for(bss, "CUST-0001", done["id"])
    assert msg["content"] == "We only take euros, sorry."
    actions = [(e["event"], e["actor"]) for e in done["timeline"] if e["event"].startswith("action.")]
    assert actions == [("action.claim", "csr:CSR-001"), ("action.answer", "csr:CSR-001")]


# -- billingInquiry --------------------------------------------------------------------------
async def test_billing_inquiry_unknown_account_answered_by_a_csr(http, bss):
    held = await submit(http, body("billingInquiry", billingAccountId="BA-7777"), "held")
    assert held["queue"] == "billing"
    done = await claim_and(http, held, "CSR-001", "answer", text="Your account number is BA-0001.")
    assert done["resolution"] == "answeredByCsr" and len(messages_for(bss, "CUST-0001", done["id"])) == 1


# -- invoiceInquiry --------------------------------------------------------------------------
async def test_invoice_copy_sent_by_self_service(http, bss):
    done = await submit(http, body("invoiceInquiry", invoiceId="INV-0001"), "resolved")
    assert done["resolution"] == "invoiceSent"
    assert kinds(done) == [("findInvoice", "completed"), ("sendMessage", "completed")]
    assert {"type": "CustomerBill", "id": "INV-0001"} in done["references"]
    [msg] = messages_for(bss, "CUST-0001", done["id"])
    assert msg["subject"] == "Copy of invoice INV-0001" and "42.50 EUR" in msg["content"]


async def test_invoice_of_someone_else_goes_to_a_csr(http, bss):
    held = await submit(http, body("invoiceInquiry", invoiceId="INV-0003"), "held")  # CUST-0002's invoice
    assert "does not belong" in held["statusReason"]
    assert messages_for(bss, "CUST-0001", held["id"]) == []
    done = await claim_and(http, held, "CSR-001", "answer", text="That invoice is not on your account.")
    assert done["resolution"] == "answeredByCsr"


# -- billingDispute --------------------------------------------------------------------------
async def test_small_dispute_credited_by_self_service(http, bss):
    before = bss.billing_account("BA-0001")["balance_cents"]
    done = await submit(http, body("billingDispute", billingAccountId="BA-0001", amount=20), "resolved")
    assert done["resolution"] == "credited"
    assert kinds(done) == [("assessDispute", "completed"), ("applyCredit", "completed"), ("sendMessage", "completed")]
    credit_id = done["result"]["credit"]["id"]
    assert [c["id"] for c in bss.credits_of("BA-0001")].count(credit_id) == 1
    assert bss.billing_account("BA-0001")["balance_cents"] == before - 2000
    assert len(messages_for(bss, "CUST-0001", done["id"])) == 1


async def test_large_dispute_approved_by_a_csr(http, bss):
    before = bss.billing_account("BA-0001")["balance_cents"]
    held = await submit(http, body("billingDispute", billingAccountId="BA-0001", amount=120), "held")
    assert "over the auto-credit limit" in held["statusReason"]
    assert bss.billing_account("BA-0001")["balance_cents"] == before  # nothing credited while held
    done = await claim_and(http, held, "CSR-001", "approve")
    assert done["resolution"] == "credited" and done["result"]["credit"]["amount"]["value"] == 120
    assert bss.billing_account("BA-0001")["balance_cents"] == before - 12000


async def test_dispute_of_an_overdue_account_rejected_by_a_csr(http, bss):
    before = len(bss.credits_of("BA-0002"))
    held = await submit(http, body("billingDispute", party="CUST-0002", billingAccountId="BA-0002", amount=10), "held")
    assert "overdue" in held["statusReason"]
    done = await claim_and(http, held, "CSR-001", "reject", reason="The charge is correct.")
    assert done["resolution"] == "refused"
    assert len(bss.credits_of("BA-0002")) == before
    [msg] = messages_for(bss, "CUST-0002", done["id"])
    assert msg["content"] == "The charge is correct."


# -- quote -----------------------------------------------------------------------------------
async def test_quote_priced_sent_and_accepted(http, bss):
    pending = await submit(http, body("quote", offeringId="PO-FIBRE-500", quantity=1), "pending")
    quote_id = pending["result"]["quote"]["id"]
    assert bss.quote(quote_id)["state"] == "approved"
    assert "quoteExpiry" in pending["timers"]
    assert len(messages_for(bss, "CUST-0001", pending["id"])) == 1
    await customer(http, pending["id"], "accept")
    done = await wait_status(http, pending["id"], "resolved")
    assert done["resolution"] == "accepted"
    agreement = bss.agreement(done["result"]["agreement"]["id"])
    assert agreement["quote"]["id"] == quote_id and bss.quote(quote_id)["state"] == "accepted"
    assert list(done["timers"]) == ["close.confirmation"]  # the quote's expiry is disarmed


async def test_quote_declined(http, bss):
    pending = await submit(http, body("quote", offeringId="PO-TV-BASIC"), "pending")
    await customer(http, pending["id"], "decline", reason="too expensive")
    done = await wait_status(http, pending["id"], "resolved")
    assert done["resolution"] == "declined"
    assert bss.quote(pending["result"]["quote"]["id"])["state"] == "rejected"


async def test_custom_quote_built_by_a_csr_then_accepted(http, bss):
    held = await submit(http, body("quote", custom=True), "held")
    assert held["queue"] == "sales"
    await csr(http, held["id"], "claim", "CSR-002")
    await csr(http, held["id"], "build-quote", "CSR-002", items=[{"offeringId": "PO-MOBILE-UNL", "quantity": 2}])
    pending = await wait_status(http, held["id"], "pending")
    quote = bss.quote(pending["result"]["quote"]["id"])
    assert quote["quoteItem"][0]["productOffering"]["id"] == "PO-MOBILE-UNL" and quote["quoteItem"][0]["quantity"] == 2
    await customer(http, held["id"], "accept")
    assert (await wait_status(http, held["id"], "resolved"))["resolution"] == "accepted"


# -- cartCheckout ----------------------------------------------------------------------------
async def test_cart_checked_out_and_order_completed(http, bss):
    cart = bss.create_cart(f"CART-{uuid.uuid4().hex[:8]}", "CUST-0001", [{"offeringId": "PO-FIBRE-1000", "quantity": 1}])
    done = await submit(http, body("cartCheckout", cartId=cart["id"]), "resolved")
    assert done["resolution"] == "ordered"
    assert kinds(done) == [("placeOrder", "completed"), ("trackOrder", "completed"), ("sendMessage", "completed")]
    order = bss.order(done["result"]["order"]["id"])
    assert order["state"] == "completed"


async def test_failed_order_goes_to_a_csr_who_retries(http, bss):
    cart = bss.create_cart(f"CART-{uuid.uuid4().hex[:8]}", "CUST-0001", [{"offeringId": "PO-DSL-LEGACY", "quantity": 1}])
    held = await submit(http, body("cartCheckout", cartId=cart["id"]), "held")
    assert held["queue"] == "orders" and "failed" in held["statusReason"]
    [first] = [r["id"] for r in held["references"] if r["type"] == "ProductOrder"]
    assert bss.order(first)["state"] == "failed"
    await csr(http, held["id"], "claim", "CSR-002")
    await csr(http, held["id"], "retry", "CSR-002")
    again = await wait_status(http, held["id"], "held")  # the legacy offering fails every time
    orders = [r["id"] for r in again["references"] if r["type"] == "ProductOrder"]
    assert len(orders) == 2 and orders[0] == first, (again["statusReason"], again["activities"])
    done = await claim_and(http, again, "CSR-002", "answer", text="DSL is no longer available; we called you.")
    assert done["resolution"] == "answeredByCsr"


# -- dunningNotice ---------------------------------------------------------------------------
async def test_dunning_notice_late_fee_then_promise_to_pay(http, bss):
    before = len(bss.charges_of("BA-0002"))
    pending = await submit(http, body("dunningNotice", party="CUST-0002", direction="outbound",
                                      billingAccountId="BA-0002"), "pending")
    assert [k for k, _ in kinds(pending)] == ["dunningNotice", "sendMessage", "chargeLateFee"]
    charges = bss.charges_of("BA-0002")
    assert len(charges) == before + 1 and charges[-1]["taxIncludedAmount"] == {"value": 10.0, "unit": "EUR"}
    [msg] = messages_for(bss, "CUST-0002", pending["id"])
    assert "overdue" in msg["content"]
    await customer(http, pending["id"], "promise", party="CUST-0002", amount=180, date="2026-12-15")
    done = await wait_status(http, pending["id"], "resolved")
    assert done["resolution"] == "promiseToPay" and done["result"]["promise"]["dueDate"] == "2026-12-15"


async def test_contested_dunning_notice_goes_to_collections(http, bss):
    pending = await submit(http, body("dunningNotice", party="CUST-0002", direction="outbound",
                                      billingAccountId="BA-0002"), "pending")
    await customer(http, pending["id"], "contest", party="CUST-0002", text="I paid last week.")
    held = await wait_status(http, pending["id"], "held")
    assert held["queue"] == "collections"
    done = await claim_and(http, held, "CSR-003", "answer", text="We found your payment; the fee is waived.")
    assert done["resolution"] == "answeredByCsr"
