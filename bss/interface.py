"""``Bss``: the one interface through which fulfilment processes read and change the BSS.

Implementations: ``bss.store.SqliteBss`` (embedded SQLite, the default) and ``bss.http.HttpBss``
(TM Forum Open APIs, with a local ``SqliteBss`` for what those APIs do not cover).

Rules every implementation keeps:

- Synchronous: process actors call it from a worker thread (``asyncio.to_thread``).
- Plain JSON-able dicts in and out. Money out is ``{"value": float, "unit": "EUR"}``; money in is
  an int of cents (``amount_cents``). Shapes are built in ``bss.shapes``: master data keep their
  row keys, TMF resources their TMF shape (see there).
- A read of one object returns ``None`` when it does not exist; lists are empty.
- Every write takes a caller-supplied id first and is idempotent on it: a repeat with the same id
  returns the first record and changes nothing (no second credit, order or message), whatever
  the other arguments say. ``advance_order`` is the exception: each call is one more step.
- Errors are ``bss.errors`` classes: NotFoundInBss, InvalidForBss, ConflictInBss, BssUnavailable.
- Resources created with a caller id carry it as ``externalId``; ``id`` is the BSS's own (equal to
  the caller's id in SqliteBss and the stand-in, perhaps not in a real BSS). Look them up with the
  caller's id.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

Doc = dict[str, Any]


@runtime_checkable
class Bss(Protocol):
    # -- parties and billing accounts -------------------------------------------------------
    def customer(self, customer_id: str) -> Doc | None:
        """``{id, name, kind: customer|prospect, segment, email, phone}``."""

    def billing_account(self, account_id: str) -> Doc | None:
        """Row: ``{id, customer_id, currency, balance_cents, due_date, standing, dunning_stage, days_overdue}``."""

    def accounts_of(self, customer_id: str) -> list[Doc]:
        """The billing-account rows of a customer, by id."""

    def account_summary(self, account_id: str) -> Doc | None:
        """``{billingAccountId, customerId, balance, dueDate, standing, dunningStage, lastPayment}``."""

    def last_payment(self, account_id: str) -> Doc | None:
        """Row: ``{id, billing_account_id, paid_at, amount_cents, method}``."""

    def overdue_accounts(self, min_days: int, limit: int | None = None) -> list[Doc]:
        """Account rows at least ``min_days`` overdue with a positive balance, by id."""

    # -- invoices, charges, credits ----------------------------------------------------------
    def invoice(self, invoice_id: str) -> Doc | None:
        """TMF678 CustomerBill with ``lines`` and ``charges`` (AppliedCustomerBillingRate lists)."""

    def invoices_of(self, account_id: str) -> list[Doc]:
        """The invoices of an account, newest first."""

    def charge_spec(self, name: str) -> Doc | None:
        """FinancialChargeSpec by name (``lateFee``, ``reconnectionFee``): ``{id, name, description, amount}``."""

    def credits_of(self, account_id: str) -> list[Doc]:
        """AppliedCustomerBillingCredits of an account, oldest first."""

    def charges_of(self, account_id: str) -> list[Doc]:
        """Financial charges (late fee...) applied to an account, oldest first."""

    def apply_credit(self, credit_id: str, account_id: str, amount_cents: int, reason: str) -> Doc:
        """Credit the account (balance goes down); an AppliedCustomerBillingCredit."""

    def apply_charge(self, charge_id: str, account_id: str, spec_name: str) -> Doc:
        """Charge a FinancialChargeSpec (balance goes up by its amount); an AppliedCustomerBillingCharge."""

    def record_promise(self, promise_id: str, account_id: str, amount_cents: int, due_date: str) -> Doc:
        """Record a promise to pay by ``due_date`` (ISO date)."""

    def set_dunning_stage(self, account_id: str, stage: int) -> Doc:
        """Set the dunning stage 0..4 (3+: suspended); returns the account row. Idempotent by nature."""

    # -- catalogue and sales ------------------------------------------------------------------
    def offering(self, offering_id: str) -> Doc | None:
        """ProductOffering with its ``productOfferingPrice`` list (recurring and one-off prices)."""

    def offerings(self) -> list[Doc]:
        """The catalogue, by id."""

    def quote(self, quote_id: str) -> Doc | None:
        """TMF648 Quote (SalesQuote) by the caller's id."""

    def create_quote(self, quote_id: str, party_id: str, items: list[Doc], valid_days: int = 30) -> Doc:
        """SalesQuote for ``[{offeringId, quantity}]`` priced from the catalogue, state ``approved``."""

    def set_quote_state(self, quote_id: str, state: str) -> Doc:
        """Move a quote to a TMF648 state (accepted, rejected, cancelled...); illegal moves: ConflictInBss."""

    def create_agreement(self, agreement_id: str, quote_id: str) -> Doc:
        """SalesQuoteAgreement: the customer accepts the approved quote (quote becomes ``accepted``)."""

    def agreement(self, agreement_id: str) -> Doc | None:
        """SalesQuoteAgreement by the caller's id."""

    def cart(self, cart_id: str) -> Doc | None:
        """TMF663 ShoppingCart by the caller's id."""

    def create_cart(self, cart_id: str, party_id: str, items: list[Doc]) -> Doc:
        """ShoppingCart for ``[{offeringId, quantity}]`` priced from the catalogue."""

    def order(self, order_id: str) -> Doc | None:
        """TMF622 ProductOrder (CustomerProductOrder) by the caller's id."""

    def create_order(self, order_id: str, party_id: str, items: list[Doc] | None, cart_id: str | None = None) -> Doc:
        """CustomerProductOrder, ``acknowledged``; items from the cart when only ``cart_id`` is given."""

    def advance_order(self, order_id: str) -> Doc:
        """One fulfilment step: acknowledged -> inProgress -> completed (failed for PO-DSL-LEGACY)."""

    def set_order_state(self, order_id: str, state: str) -> Doc:
        """Move an order to a TMF622 state allowed from its current one (e.g. cancelled)."""

    # -- contact --------------------------------------------------------------------------------
    def kb_search(self, text: str, limit: int = 3) -> list[Doc]:
        """Knowledge-base articles ``{id, title, answer, score in 0..1}``, best first, deterministic."""

    def csrs(self) -> list[Doc]:
        """CSRs ``{id, name, skills, queues}``."""

    def outbox(self, party_id: str | None = None) -> list[Doc]:
        """Messages sent (TMF681 CommunicationMessage), oldest first, all or to one party."""

    def send_message(self, message_id: str, party_id: str, channel: str, subject: str, body: str,
                     related_request_id: str | None = None) -> Doc:
        """Send a CommunicationMessage (stored in the outbox) to a customer or prospect."""
