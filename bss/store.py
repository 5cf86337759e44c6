"""``SqliteBss``: the reference BSS on one SQLite file (WAL), the embedded default.

Implements ``bss.interface.Bss``. The parts live in ``bss.sqlite`` by role: billing (accounts,
invoices, credits, charges, promises, dunning), sales (catalogue, quotes, agreements, carts,
orders) and contact (customers, knowledge base, CSRs, outbox).

Opening a path creates the schema when it is missing (an empty BSS); ``bss.demo`` fills it.
Every write runs in its own transaction and is idempotent on its first argument. Safe to share
between threads, and between processes opening the same file.
"""

from __future__ import annotations

from .schema import SCHEMA
from .shapes import money
from .sqlite.billing import Billing
from .sqlite.contact import Contact
from .sqlite.sales import Sales


class SqliteBss(Billing, Sales, Contact):
    def __repr__(self) -> str:
        return f"SqliteBss({str(self.path)!r})"


BssStore = SqliteBss  # the name process actors used first

__all__ = ["SCHEMA", "BssStore", "SqliteBss", "money"]
