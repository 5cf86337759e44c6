"""Deterministic demo data for the reference BSS.

The same ``seed`` and ``customers`` always give the same rows. A few ids are stable and documented
in the README for examples and tests:

========== ============== ====================================================
customer   billing acct   what it is
========== ============== ====================================================
CUST-0001  BA-0001        good standing, balance 42.50 EUR due, paid last month
CUST-0002  BA-0002        overdue 45 days, 180.00 EUR, dunning stage 1
PROS-0001  (none)         a prospect, no account
========== ============== ====================================================

Generated customers follow as ``CUST-000004`` ... with accounts ``BA-000004`` ...
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta
from pathlib import Path

from .store import SCHEMA

TODAY = date(2026, 11, 1)  # fixed, so the data never depends on when it was generated

FIXED = [
    # customer, name, kind, segment, account, balance, due, standing, stage, overdue, [(paid_at, amount)]
    ("CUST-0001", "Ada Lovelace", "customer", "residential", "BA-0001", 4250, TODAY + timedelta(days=14), "good", 0, 0,
     [(TODAY - timedelta(days=20), 3990)]),
    ("CUST-0002", "Charles Babbage", "customer", "residential", "BA-0002", 18000, TODAY - timedelta(days=45), "overdue", 1, 45,
     [(TODAY - timedelta(days=80), 6000)]),
    ("PROS-0001", "Grace Hopper", "prospect", "business", None, 0, None, "good", 0, 0, []),
]


def generate(path: str | Path, customers: int = 1000, seed: int = 7) -> int:
    """(Re)create the BSS file at ``path`` with ``customers`` customers; returns the number written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    conn.executescript(SCHEMA)
    rng = random.Random(seed)
    cust, accts, pays = [], [], []
    for cid, name, kind, seg, ba, bal, due, standing, stage, overdue, payments in FIXED:
        cust.append((cid, name, kind, seg))
        if ba:
            accts.append((ba, cid, "EUR", bal, due.isoformat() if due else None, standing, stage, overdue))
            pays += [(f"PAY-{ba}-{i}", ba, d.isoformat(), amt, "card") for i, (d, amt) in enumerate(payments)]
    for n in range(len(FIXED) + 1, customers + 1):
        cid, ba = f"CUST-{n:06d}", f"BA-{n:06d}"
        overdue = rng.choice([0] * 8 + [10, 35, 65])
        bal = rng.randrange(0, 25000)
        standing = "good" if overdue == 0 else "overdue"
        due = TODAY + timedelta(days=rng.randrange(1, 28)) if overdue == 0 else TODAY - timedelta(days=overdue)
        cust.append((cid, f"Customer {n}", "customer", rng.choice(["residential", "business"])))
        accts.append((ba, cid, "EUR", bal, due.isoformat(), standing, min(overdue // 30, 3), overdue))
        pays.append((f"PAY-{ba}-0", ba, (TODAY - timedelta(days=rng.randrange(1, 60))).isoformat(),
                     rng.randrange(1000, 9000), rng.choice(["card", "directDebit", "transfer"])))
    with conn:
        conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", cust)
        conn.executemany("INSERT INTO billing_accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?)", accts)
        conn.executemany("INSERT INTO payments VALUES (?, ?, ?, ?, ?)", pays)
    conn.close()
    tmp.replace(path)
    return len(cust)


def ensure(path: str | Path, customers: int = 1000) -> bool:
    """Generate the demo data unless the file already exists; True when it was generated."""
    if Path(path).exists():
        return False
    generate(path, customers)
    return True
