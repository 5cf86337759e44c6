"""The behaviour of the ``Bss`` interface, run against SqliteBss and HttpBss alike (``bss`` fixture)."""

from __future__ import annotations

import pytest

from bss.errors import ConflictInBss, InvalidForBss, NotFoundInBss
from bss.interface import Bss

from .support import new_id

EUR = "EUR"


def eur(value: float) -> dict:
    return {"value": value, "unit": EUR}


def test_implements_the_interface(bss):
    assert isinstance(bss, Bss)


# -- reads of the stable demo data --------------------------------------------------------------

def test_stable_customers_and_accounts(bss):
    assert bss.customer("CUST-0001")["name"] == "Ada Lovelace"
    assert bss.customer("PROS-0001")["kind"] == "prospect"
    assert bss.accounts_of("PROS-0001") == []
    assert [a["id"] for a in bss.accounts_of("CUST-0001")] == ["BA-0001"]
    assert set(bss.billing_account("BA-0001")) == {"id", "customer_id", "currency", "balance_cents", "due_date",
                                                   "standing", "dunning_stage", "days_overdue"}
    assert bss.last_payment("BA-0001")["amount_cents"] == 3990


def test_account_summary_keeps_its_shape(bss):
    assert bss.account_summary("BA-0001") == {
        "billingAccountId": "BA-0001", "customerId": "CUST-0001", "balance": eur(42.5), "dueDate": "2026-11-15",
        "standing": "good", "dunningStage": 0,
        "lastPayment": {"date": "2026-10-12", "amount": eur(39.9), "method": "card"},
    }
    overdue = bss.account_summary("BA-0002")
    assert (overdue["balance"], overdue["standing"], overdue["dunningStage"]) == (eur(180.0), "overdue", 1)
    assert bss.billing_account("BA-0002")["days_overdue"] == 45


def test_invoices_with_lines_and_charges(bss):
    bill = bss.invoice("INV-0001")
    assert (bill["billingAccount"]["id"], bill["state"], bill["paymentDueDate"]) == ("BA-0001", "sent", "2026-11-15")
    assert bill["amountDue"] == eur(42.5) and bill["remainingAmount"] == eur(42.5)
    assert [(line["id"], line["type"], line["taxIncludedAmount"]) for line in bill["lines"]] == [
        ("INV-0001-L1", "recurring", eur(35.0)), ("INV-0001-L2", "usage", eur(7.5))]
    assert bill["charges"] == []
    previous = bss.invoice("INV-0002")
    assert previous["state"] == "settled" and previous["remainingAmount"] == eur(0.0)
    assert [(c["id"], c["characteristic"][0]["value"]) for c in previous["charges"]] == [("INV-0002-L2", "lateFee")]
    assert [b["id"] for b in bss.invoices_of("BA-0001")] == ["INV-0001", "INV-0002"]


def test_charge_specs_catalogue_and_csrs(bss):
    assert bss.charge_spec("lateFee")["amount"] == eur(10.0)
    assert bss.charge_spec("reconnectionFee")["amount"] == eur(25.0)
    fibre = bss.offering("PO-FIBRE-500")
    assert [(p["priceType"], p["price"]) for p in fibre["productOfferingPrice"]] == [
        ("recurring", eur(35.0)), ("oneTime", eur(49.0))]
    assert [o["id"] for o in bss.offerings() if o["failsFulfilment"]] == ["PO-DSL-LEGACY"]
    skills = {c["id"]: c["skills"] for c in bss.csrs()}
    assert skills == {"CSR-001": ["billing", "general"], "CSR-002": ["sales", "orders"], "CSR-003": ["collections", "general"],
                      "CSR-004": ["escalations"]}


def test_missing_objects_read_as_none(bss):
    for read in (bss.customer, bss.billing_account, bss.account_summary, bss.last_payment, bss.invoice,
                 bss.charge_spec, bss.offering, bss.quote, bss.agreement, bss.cart, bss.order):
        assert read("NOPE-1") is None, read.__name__
    assert bss.invoices_of("NOPE-1") == [] and bss.credits_of("NOPE-1") == []


def test_overdue_accounts(bss):
    found = bss.overdue_accounts(30)
    assert "BA-0002" in [a["id"] for a in found]
    assert all(a["days_overdue"] >= 30 and a["balance_cents"] > 0 for a in found)
    assert [a["id"] for a in found] == sorted(a["id"] for a in found)


# -- knowledge base -----------------------------------------------------------------------------

@pytest.mark.parametrize("phrase, article", [
    ("I am travelling abroad next week, will roaming cost extra?", "KB-001"),
    ("I forgot my password and cannot log in", "KB-002"),
    ("Why is my invoice higher this month?", "KB-003"),
    ("Can I pay by direct debit?", "KB-004"),
    ("My internet connection is very slow", "KB-008"),
    ("We are moving house next month", "KB-006"),
])
def test_kb_search_ranks_the_right_article_first(bss, phrase, article):
    hits = bss.kb_search(phrase)
    assert hits[0]["id"] == article
    assert all(0 < h["score"] <= 1 for h in hits) and len(hits) <= 3
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert bss.kb_search(phrase) == hits


def test_kb_search_without_a_match(bss):
    assert bss.kb_search("zzz qqq") == []
    assert len(bss.kb_search("invoice roaming password", limit=2)) == 2


# -- billing writes -----------------------------------------------------------------------------

def test_credit_is_applied_once(bss, accounts):
    account, credit_id = next(accounts), new_id("CR")
    before = bss.billing_account(account)["balance_cents"]
    first = bss.apply_credit(credit_id, account, 1250, "billing dispute")
    again = bss.apply_credit(credit_id, account, 9999, "a retry with other arguments")
    assert again == first
    assert first["@type"] == "AppliedCustomerBillingCredit" and first["taxIncludedAmount"] == eur(12.5)
    assert bss.billing_account(account)["balance_cents"] == before - 1250
    assert [c["id"] for c in bss.credits_of(account)] == [credit_id]


def test_credit_that_clears_an_overdue_account_restores_good_standing(bss, overdue):
    account = bss.billing_account(next(overdue))
    bss.apply_credit(new_id("CR"), account["id"], account["balance_cents"], "settled by goodwill credit")
    after = bss.billing_account(account["id"])
    assert (after["balance_cents"], after["standing"], after["dunning_stage"]) == (0, "good", 0)


def test_credit_refusals(bss, accounts):
    with pytest.raises(InvalidForBss):
        bss.apply_credit(new_id("CR"), next(accounts), 0, "nothing")
    with pytest.raises(NotFoundInBss):
        bss.apply_credit(new_id("CR"), "BA-NOPE", 100, "no account")


def test_charge_is_applied_once_at_the_spec_amount(bss, accounts):
    account, charge_id = next(accounts), new_id("CH")
    before = bss.billing_account(account)["balance_cents"]
    first = bss.apply_charge(charge_id, account, "lateFee")
    assert bss.apply_charge(charge_id, account, "reconnectionFee") == first
    assert first["taxIncludedAmount"] == eur(10.0) and first["type"] == "financialCharge"
    assert bss.billing_account(account)["balance_cents"] == before + 1000
    assert [c["id"] for c in bss.charges_of(account)] == [charge_id]


def test_charge_refusals(bss, accounts):
    account, credit_id = next(accounts), new_id("CR")
    with pytest.raises(InvalidForBss):
        bss.apply_charge(new_id("CH"), account, "noSuchFee")
    bss.apply_credit(credit_id, account, 100, "x")
    with pytest.raises(ConflictInBss):
        bss.apply_charge(credit_id, account, "lateFee")


def test_promise_is_recorded_once(bss, overdue):
    account, promise_id = next(overdue), new_id("PR")
    first = bss.record_promise(promise_id, account, 5000, "2026-12-01")
    assert bss.record_promise(promise_id, account, 1, "2027-01-01") == first
    assert (first["amount"], first["dueDate"], first["state"]) == (eur(50.0), "2026-12-01", "open")
    with pytest.raises(InvalidForBss):
        bss.record_promise(new_id("PR"), account, 5000, "next week")


def test_dunning_stage_suspends_and_restores(bss, overdue):
    account = next(overdue)
    assert bss.set_dunning_stage(account, 3)["standing"] == "suspended"
    assert bss.set_dunning_stage(account, 3)["dunning_stage"] == 3
    assert bss.set_dunning_stage(account, 2)["standing"] == "overdue"
    with pytest.raises(InvalidForBss):
        bss.set_dunning_stage(account, 9)
    with pytest.raises(NotFoundInBss):
        bss.set_dunning_stage("BA-NOPE", 1)


# -- quotes and agreements ------------------------------------------------------------------------

ITEMS = [{"offeringId": "PO-FIBRE-500", "quantity": 1}, {"offeringId": "PO-MOBILE-10GB", "quantity": 2}]


def totals(doc: dict, key: str) -> dict:
    return {t["priceType"]: t["price"]["taxIncludedAmount"] for t in doc[key]}


def test_quote_is_priced_from_the_catalogue_once(bss):
    quote_id = new_id("Q")
    quote = bss.create_quote(quote_id, "PROS-0001", ITEMS, valid_days=14)
    assert quote["externalId"] == quote_id and quote["state"] == "approved"
    assert totals(quote, "quoteTotalPrice") == {"recurring": eur(65.0), "oneTime": eur(59.0)}
    assert [i["productOffering"]["id"] for i in quote["quoteItem"]] == ["PO-FIBRE-500", "PO-MOBILE-10GB"]
    assert quote["quoteItem"][1]["quoteItemPrice"][0]["price"]["taxIncludedAmount"] == eur(15.0)
    assert bss.create_quote(quote_id, "CUST-0001", [{"offeringId": "PO-TV-BASIC"}]) == quote
    assert bss.quote(quote_id) == quote


def test_quote_refusals(bss):
    with pytest.raises(InvalidForBss):
        bss.create_quote(new_id("Q"), "CUST-0001", [{"offeringId": "PO-NOPE"}])
    with pytest.raises(InvalidForBss):
        bss.create_quote(new_id("Q"), "CUST-0001", [])
    with pytest.raises(NotFoundInBss):
        bss.create_quote(new_id("Q"), "CUST-NOPE", ITEMS)


def test_quote_states_follow_tmf648(bss):
    quote_id = new_id("Q")
    bss.create_quote(quote_id, "CUST-0001", ITEMS)
    assert bss.set_quote_state(quote_id, "rejected")["state"] == "rejected"
    assert bss.set_quote_state(quote_id, "rejected")["state"] == "rejected"
    with pytest.raises(ConflictInBss):
        bss.set_quote_state(quote_id, "accepted")
    with pytest.raises(InvalidForBss):
        bss.set_quote_state(quote_id, "declined")
    with pytest.raises(NotFoundInBss):
        bss.set_quote_state(new_id("Q"), "cancelled")


def test_agreement_is_created_once(bss):
    quote_id, agreement_id = new_id("Q"), new_id("AG")
    bss.create_quote(quote_id, "CUST-0001", ITEMS)
    agreement = bss.create_agreement(agreement_id, quote_id)
    assert agreement["@type"] == "SalesQuoteAgreement" and agreement["quote"]["externalId"] == quote_id
    assert bss.create_agreement(agreement_id, quote_id) == agreement
    assert bss.agreement(agreement_id) == agreement
    quote = bss.quote(quote_id)
    assert quote["state"] == "accepted" and [a["id"] for a in quote["agreement"]] == [agreement_id]
    with pytest.raises(ConflictInBss):
        bss.create_agreement(new_id("AG"), quote_id)


def test_a_rejected_quote_cannot_be_agreed(bss):
    quote_id = new_id("Q")
    bss.create_quote(quote_id, "CUST-0001", ITEMS)
    bss.set_quote_state(quote_id, "rejected")
    with pytest.raises(ConflictInBss):
        bss.create_agreement(new_id("AG"), quote_id)


# -- carts and orders -----------------------------------------------------------------------------

def test_cart_checkout_makes_one_order(bss):
    cart_id, order_id = new_id("SC"), new_id("PO")
    cart = bss.create_cart(cart_id, "CUST-0001", ITEMS)
    assert totals(cart, "cartTotalPrice") == {"recurring": eur(65.0), "oneTime": eur(59.0)}
    assert bss.create_cart(cart_id, "CUST-0001", [{"offeringId": "PO-TV-BASIC"}]) == cart
    order = bss.create_order(order_id, "CUST-0001", None, cart_id=cart_id)
    assert order["state"] == "acknowledged" and order["shoppingCart"]["id"] == cart_id
    assert [(i["productOffering"]["id"], i["quantity"]) for i in order["productOrderItem"]] == [
        ("PO-FIBRE-500", 1), ("PO-MOBILE-10GB", 2)]
    assert bss.create_order(order_id, "CUST-0001", None, cart_id=cart_id) == order
    assert bss.order(order_id) == order
    with pytest.raises(ConflictInBss):
        bss.create_order(new_id("PO"), "CUST-0001", None, cart_id=cart_id)


def test_order_is_fulfilled_step_by_step(bss):
    order_id = new_id("PO")
    bss.create_order(order_id, "CUST-0001", [{"offeringId": "PO-TV-BASIC"}])
    states = [bss.advance_order(order_id)["state"] for _ in range(3)]
    assert states == ["inProgress", "completed", "completed"]
    order = bss.order(order_id)
    assert order["completionDate"] and {i["state"] for i in order["productOrderItem"]} == {"completed"}


def test_order_of_the_failing_offering_ends_failed(bss):
    order_id = new_id("PO")
    bss.create_order(order_id, "CUST-0002", [{"offeringId": "PO-DSL-LEGACY"}, {"offeringId": "PO-TV-BASIC"}])
    assert [bss.advance_order(order_id)["state"] for _ in range(3)] == ["inProgress", "failed", "failed"]


def test_order_refusals_and_cancel(bss):
    with pytest.raises(InvalidForBss):
        bss.create_order(new_id("PO"), "CUST-0001", [{"offeringId": "PO-NOPE"}])
    with pytest.raises(NotFoundInBss):
        bss.create_order(new_id("PO"), "CUST-0001", None, cart_id="SC-NOPE")
    with pytest.raises(NotFoundInBss):
        bss.advance_order("PO-NOPE")
    order_id = new_id("PO")
    bss.create_order(order_id, "CUST-0001", [{"offeringId": "PO-ROUTER-WIFI6"}])
    assert bss.set_order_state(order_id, "cancelled")["state"] == "cancelled"
    with pytest.raises(ConflictInBss):
        bss.set_order_state(order_id, "inProgress")


# -- messages -------------------------------------------------------------------------------------

def test_message_is_sent_once(bss):
    message_id = new_id("MSG")
    first = bss.send_message(message_id, "PROS-0001", "email", "Your quote", "Here it is.", "REQ-1")
    assert bss.send_message(message_id, "PROS-0001", "sms", "Again", "Again.", "REQ-1") == first
    assert first["receiver"][0]["email"] == "grace.hopper@example.com"
    assert first["characteristic"] == [{"name": "relatedRequestId", "value": "REQ-1"}]
    assert [m["id"] for m in bss.outbox("PROS-0001")].count(message_id) == 1
    assert message_id in [m["id"] for m in bss.outbox()]
    assert message_id not in [m["id"] for m in bss.outbox("CUST-0001")]
    with pytest.raises(NotFoundInBss):
        bss.send_message(new_id("MSG"), "CUST-NOPE", "email", "s", "b", None)
