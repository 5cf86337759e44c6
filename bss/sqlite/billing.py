"""Billing in SQLite: accounts, payments, invoices, applied rates (credits and charges), promises,
dunning."""

from __future__ import annotations

from datetime import date
from typing import Any

from .. import shapes
from ..errors import ConflictInBss, InvalidForBss, NotFoundInBss
from .db import Db

DUNNING_STAGES = range(0, 5)  # 0 none, 1 reminder, 2 final notice + late fee, 3 suspended, 4 collections
SUSPENDED_FROM = 3


def _positive_cents(amount_cents: Any) -> int:
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise InvalidForBss(f"amount_cents must be a whole number of cents > 0, not {amount_cents!r}")
    return amount_cents


class Billing(Db):
    # -- reads ------------------------------------------------------------------------------

    def billing_account(self, account_id: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM billing_accounts WHERE id = ?", account_id)

    def accounts_of(self, customer_id: str) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM billing_accounts WHERE customer_id = ? ORDER BY id", customer_id)

    def last_payment(self, account_id: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM payments WHERE billing_account_id = ? ORDER BY paid_at DESC, id DESC LIMIT 1",
                         account_id)

    def account_summary(self, account_id: str) -> dict[str, Any] | None:
        """What a billingInquiry answers: balance, due date, standing and the last payment."""
        account = self.billing_account(account_id)
        return None if account is None else shapes.account_summary(account, self.last_payment(account_id))

    def invoice(self, invoice_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT i.*, a.customer_id, a.currency FROM invoices i "
                        "JOIN billing_accounts a ON a.id = i.billing_account_id WHERE i.id = ?", invoice_id)
        if row is None:
            return None
        rates = self._all("SELECT * FROM applied_rates WHERE bill_id = ? ORDER BY id", invoice_id)
        return shapes.customer_bill(row, row["customer_id"], rates, row["currency"])

    def invoices_of(self, account_id: str) -> list[dict[str, Any]]:
        ids = self._all("SELECT id FROM invoices WHERE billing_account_id = ? ORDER BY bill_date DESC, id DESC",
                        account_id)
        return [bill for r in ids if (bill := self.invoice(r["id"])) is not None]

    def applied_rate(self, rate_id: str) -> dict[str, Any] | None:
        """Any applied rate by id: an invoice line, a charge or a credit."""
        row = self._one("SELECT * FROM applied_rates WHERE id = ?", rate_id)
        return None if row is None else shapes.applied_rate(row)

    def credits_of(self, account_id: str) -> list[dict[str, Any]]:
        return self.applied_rates(account_id=account_id, type=shapes.CREDIT)

    def charges_of(self, account_id: str) -> list[dict[str, Any]]:
        return self.applied_rates(account_id=account_id, type=shapes.CHARGE)

    def applied_rates(self, *, account_id: str | None = None, bill_id: str | None = None,
                      type: str | None = None) -> list[dict[str, Any]]:
        """Applied rates matching every filter given (at least one), oldest first."""
        filters = {"billing_account_id": account_id, "bill_id": bill_id, "type": type}
        given = {k: v for k, v in filters.items() if v is not None}
        if not given:
            raise InvalidForBss("applied rates: give an account, a bill or a type")
        where = " AND ".join(f"{k} = ?" for k in given)
        rows = self._all(f"SELECT * FROM applied_rates WHERE {where} ORDER BY date, id", *given.values())
        return [shapes.applied_rate(r) for r in rows]

    def charge_spec(self, name: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM charge_specs WHERE name = ?", name)
        return None if row is None else shapes.charge_spec(row)

    def charge_specs(self) -> list[dict[str, Any]]:
        return [shapes.charge_spec(r) for r in self._all("SELECT * FROM charge_specs ORDER BY id")]

    def promises_of(self, account_id: str) -> list[dict[str, Any]]:
        rows = self._all("SELECT * FROM promises WHERE billing_account_id = ? ORDER BY due_date, id", account_id)
        return [shapes.promise(r) for r in rows]

    def overdue_accounts(self, min_days: int, limit: int | None = None) -> list[dict[str, Any]]:
        """Accounts at least ``min_days`` overdue with something owed, by id (for campaigns)."""
        sql = "SELECT * FROM billing_accounts WHERE days_overdue >= ? AND balance_cents > 0 ORDER BY id"
        return self._all(sql + " LIMIT ?", min_days, limit) if limit is not None else self._all(sql, min_days)

    # -- writes (idempotent on their first argument) ------------------------------------------

    def apply_credit(self, credit_id: str, account_id: str, amount_cents: int, reason: str) -> dict[str, Any]:
        """An AppliedCustomerBillingCredit: the balance goes down by ``amount_cents``. An overdue
        account whose balance reaches zero or less is back in good standing."""
        return self._apply_rate(credit_id, account_id, shapes.CREDIT, lambda: (_positive_cents(amount_cents),
                                                                             "Billing credit", reason))

    def apply_charge(self, charge_id: str, account_id: str, spec_name: str) -> dict[str, Any]:
        """A FinancialChargeSpec (``lateFee``, ``reconnectionFee``) applied: the balance goes up."""
        def amount() -> tuple[int, str, str]:
            spec = self._one("SELECT * FROM charge_specs WHERE name = ?", spec_name)
            if spec is None:
                raise InvalidForBss(f"no financial charge specification named {spec_name!r}")
            return spec["amount_cents"], spec["description"], spec_name
        return self._apply_rate(charge_id, account_id, shapes.CHARGE, amount)

    def _apply_rate(self, rate_id: str, account_id: str, type_: str, what) -> dict[str, Any]:
        with self._tx() as c:
            row = c.execute("SELECT * FROM applied_rates WHERE id = ?", (rate_id,)).fetchone()
            if row is not None:
                if row["type"] != type_:
                    raise ConflictInBss(f"{rate_id} is already used by a {row['type']} applied rate")
                return shapes.applied_rate(dict(row))
            account = c.execute("SELECT * FROM billing_accounts WHERE id = ?", (account_id,)).fetchone()
            if account is None:
                raise NotFoundInBss(f"billing account {account_id} not found")
            amount, name, detail = what()
            at = shapes.now()
            c.execute("INSERT INTO applied_rates VALUES (?, ?, NULL, ?, ?, ?, ?, ?)",
                      (rate_id, account_id, type_, name, at, amount, detail))
            balance = account["balance_cents"] + (-amount if type_ == shapes.CREDIT else amount)
            if type_ == shapes.CREDIT and balance <= 0 and account["standing"] == "overdue":
                c.execute("UPDATE billing_accounts SET balance_cents = ?, standing = 'good', dunning_stage = 0, "
                          "days_overdue = 0 WHERE id = ?", (balance, account_id))
            else:
                c.execute("UPDATE billing_accounts SET balance_cents = ? WHERE id = ?", (balance, account_id))
            row = c.execute("SELECT * FROM applied_rates WHERE id = ?", (rate_id,)).fetchone()
            return shapes.applied_rate(dict(row))

    def record_promise(self, promise_id: str, account_id: str, amount_cents: int, due_date: str) -> dict[str, Any]:
        """A promise to pay ``amount_cents`` by ``due_date`` (ISO date), state ``open``."""
        with self._tx() as c:
            row = c.execute("SELECT * FROM promises WHERE id = ?", (promise_id,)).fetchone()
            if row is not None:
                return shapes.promise(dict(row))
            _positive_cents(amount_cents)
            try:
                date.fromisoformat(due_date)
            except (TypeError, ValueError):
                raise InvalidForBss(f"due_date must be an ISO date (YYYY-MM-DD), not {due_date!r}") from None
            if c.execute("SELECT 1 FROM billing_accounts WHERE id = ?", (account_id,)).fetchone() is None:
                raise NotFoundInBss(f"billing account {account_id} not found")
            c.execute("INSERT INTO promises VALUES (?, ?, ?, ?, ?, 'open')",
                      (promise_id, account_id, amount_cents, due_date, shapes.now()))
            return shapes.promise(dict(c.execute("SELECT * FROM promises WHERE id = ?", (promise_id,)).fetchone()))

    def set_dunning_stage(self, account_id: str, stage: int) -> dict[str, Any]:
        """Set the dunning stage (0-4); from 3 the account is ``suspended``, below 3 a suspended
        account is ``overdue`` again (``good`` when nothing is overdue). Returns the account row."""
        if not isinstance(stage, int) or isinstance(stage, bool) or stage not in DUNNING_STAGES:
            raise InvalidForBss(f"dunning stage must be 0..4, not {stage!r}")
        with self._tx() as c:
            account = c.execute("SELECT * FROM billing_accounts WHERE id = ?", (account_id,)).fetchone()
            if account is None:
                raise NotFoundInBss(f"billing account {account_id} not found")
            standing = account["standing"]
            if stage >= SUSPENDED_FROM:
                standing = "suspended"
            elif standing == "suspended":
                standing = "overdue" if account["days_overdue"] > 0 else "good"
            c.execute("UPDATE billing_accounts SET dunning_stage = ?, standing = ? WHERE id = ?",
                      (stage, standing, account_id))
            return dict(c.execute("SELECT * FROM billing_accounts WHERE id = ?", (account_id,)).fetchone())
