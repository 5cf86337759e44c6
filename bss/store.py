"""Read access to the reference BSS (embedded SQLite)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,             -- customer | prospect
    segment TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS billing_accounts (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    currency TEXT NOT NULL,
    balance_cents INTEGER NOT NULL,  -- amount owed; negative is a credit
    due_date TEXT,
    standing TEXT NOT NULL,         -- good | overdue | suspended
    dunning_stage INTEGER NOT NULL,
    days_overdue INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS billing_accounts_customer ON billing_accounts(customer_id);
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY,
    billing_account_id TEXT NOT NULL REFERENCES billing_accounts(id),
    paid_at TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    method TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_account ON payments(billing_account_id, paid_at);
"""


def money(cents: int, currency: str) -> dict[str, Any]:
    return {"value": round(cents / 100, 2), "unit": currency}


class BssStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._local = threading.local()

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            conn.row_factory = sqlite3.Row
        return conn

    def billing_account(self, account_id: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM billing_accounts WHERE id = ?", (account_id,)).fetchone()
        return dict(row) if row else None

    def last_payment(self, account_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT * FROM payments WHERE billing_account_id = ? ORDER BY paid_at DESC LIMIT 1", (account_id,)
        ).fetchone()
        return dict(row) if row else None

    def account_summary(self, account_id: str) -> dict[str, Any] | None:
        """What a billingInquiry answers: balance, due date, standing and the last payment."""
        account = self.billing_account(account_id)
        if account is None:
            return None
        currency = account["currency"]
        payment = self.last_payment(account_id)
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
