"""Deterministic demo data for the reference BSS, and ``python -m bss.demo`` to write it.

The same ``seed`` and ``customers`` always give the same rows (dates count from a fixed
``TODAY`` = 2026-11-01, never from the clock). Stable ids for examples and tests:

=================== =========================================================================
id                  what it is
=================== =========================================================================
CUST-0001 BA-0001   Ada Lovelace, good standing: 42.50 EUR due 2026-11-15, last paid 39.90 EUR
                    on 2026-10-12 (card)
INV-0001            CUST-0001's current invoice, 42.50 EUR, sent, due 2026-11-15: lines
                    INV-0001-L1 Fibre 500 monthly fee 35.00 (recurring), INV-0001-L2 roaming 7.50 (usage)
INV-0002            CUST-0001's previous invoice, 39.90 EUR, settled: a line of 29.90 and the charge
                    INV-0002-L2 late payment fee 10.00 (financialCharge, lateFee)
CUST-0002 BA-0002   Charles Babbage, overdue 45 days: 180.00 EUR due 2026-09-17, dunning stage 1,
                    last paid 60.00 EUR on 2026-08-13
INV-0003            CUST-0002's unpaid invoice, 180.00 EUR (Fibre 1000 55.00, router 120.00, calls 5.00)
INV-0004            CUST-0002's previous invoice, 60.00 EUR, settled
PROS-0001           Grace Hopper, a (business) prospect, no account
PO-FIBRE-500        Fibre 500: 35.00/month + 49.00 installation (one-off)
PO-FIBRE-1000       Fibre 1000: 55.00/month + 49.00 installation
PO-MOBILE-10GB      Mobile 10 GB: 15.00/month + 5.00 SIM card
PO-MOBILE-UNL       Mobile Unlimited: 30.00/month + 5.00 SIM card
PO-TV-BASIC         TV Basic: 12.50/month
PO-ROUTER-WIFI6     Wi-Fi 6 router: 120.00 one-off
PO-ROAM-PASS        World roaming pass: 9.90 one-off
PO-DSL-LEGACY       Legacy DSL 20: 25.00/month; its orders always end ``failed`` at the
                    inProgress step (to exercise order failure)
lateFee             FCS-LATE-FEE, 10.00 EUR
reconnectionFee     FCS-RECONNECTION-FEE, 25.00 EUR
KB-001 .. KB-008    roaming, password reset, invoice explanation, ways to pay, late payment,
                    moving house, SIM/PIN/PUK, slow internet
CSR-001             Alice Martin: billing, general
CSR-002             Bruno Silva: sales, orders
CSR-003             Chloe Dubois: collections, general
CSR-004             Dana Okafor (team lead): escalations
=================== =========================================================================

Generated customers follow as ``CUST-000004`` ... with accounts ``BA-000004`` ..., each with a
plan, a settled previous invoice ``INV-000004-1`` and its payment, and a current invoice
``INV-000004-2`` whose total is the balance; 3 in 11 are overdue, by 10, 35 or 65 days (dunning
stage 0, 1, 2; the 65-day ones carry a late fee on the invoice).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from .errors import BssError
from .reference import CHARGE_SPECS, CSRS, KB_ARTICLES, OFFERINGS, PLANS
from .schema import INDEXES, SCHEMA, SCHEMA_VERSION

TODAY = date(2026, 11, 1)  # fixed, so the data never depends on when it was generated
LATE_FEE = CHARGE_SPECS[0]


@cache
def _d(days: int) -> str:
    """The ISO date ``days`` from TODAY (cached: the generator asks for the same few hundred)."""
    return (TODAY + timedelta(days=days)).isoformat()


# id, name, kind, segment, email, phone
FIXED_CUSTOMERS = [
    ("CUST-0001", "Ada Lovelace", "customer", "residential", "ada.lovelace@example.com", "+44 20 7946 0001"),
    ("CUST-0002", "Charles Babbage", "customer", "residential", "charles.babbage@example.com", "+44 20 7946 0002"),
    ("PROS-0001", "Grace Hopper", "prospect", "business", "grace.hopper@example.com", "+1 202 555 0103"),
]
# id, customer, currency, balance, due date, standing, dunning stage, days overdue
FIXED_ACCOUNTS = [
    ("BA-0001", "CUST-0001", "EUR", 4250, _d(14), "good", 0, 0),
    ("BA-0002", "CUST-0002", "EUR", 18000, _d(-45), "overdue", 1, 45),
]
FIXED_PAYMENTS = [
    ("PAY-BA-0001-0", "BA-0001", _d(-20), 3990, "card"),
    ("PAY-BA-0002-0", "BA-0002", _d(-80), 6000, "card"),
]
# id, account, bill no, bill date, due date, period start, period end, state, paid
FIXED_INVOICES = [
    ("INV-0001", "BA-0001", "2026-0000001", _d(-16), _d(14), _d(-46), _d(-17), "sent", 0),
    ("INV-0002", "BA-0001", "2026-0000002", _d(-46), _d(-16), _d(-76), _d(-47), "settled", 3990),
    ("INV-0003", "BA-0002", "2026-0000003", _d(-75), _d(-45), _d(-105), _d(-76), "sent", 0),
    ("INV-0004", "BA-0002", "2026-0000004", _d(-105), _d(-75), _d(-135), _d(-106), "settled", 6000),
]
# id, account, bill, type, name, date, cents, detail
FIXED_RATES = [
    ("INV-0001-L1", "BA-0001", "INV-0001", "recurring", "Fibre 500 monthly fee", _d(-16), 3500, None),
    ("INV-0001-L2", "BA-0001", "INV-0001", "usage", "Roaming data (Switzerland)", _d(-16), 750, None),
    ("INV-0002-L1", "BA-0001", "INV-0002", "recurring", "Fibre 500 monthly fee (promotion)", _d(-46), 2990, None),
    ("INV-0002-L2", "BA-0001", "INV-0002", "financialCharge", "Late payment fee", _d(-46), 1000, "lateFee"),
    ("INV-0003-L1", "BA-0002", "INV-0003", "recurring", "Fibre 1000 monthly fee", _d(-75), 5500, None),
    ("INV-0003-L2", "BA-0002", "INV-0003", "oneTime", "Wi-Fi 6 router", _d(-75), 12000, None),
    ("INV-0003-L3", "BA-0002", "INV-0003", "usage", "Calls to premium numbers", _d(-75), 500, None),
    ("INV-0004-L1", "BA-0002", "INV-0004", "recurring", "Fibre 1000 monthly fee", _d(-105), 5500, None),
    ("INV-0004-L2", "BA-0002", "INV-0004", "usage", "Calls to premium numbers", _d(-105), 500, None),
]


def _reference_rows() -> dict[str, list[tuple]]:
    prices = [(pid, o[0], name, ptype, period, amount) for o in OFFERINGS for pid, name, ptype, period, amount in o[5]]
    return {
        "offerings": [(o[0], o[1], o[2], o[3], int(o[4])) for o in OFFERINGS],
        "offering_prices": prices,
        "charge_specs": [(i, n, d, a, "EUR") for i, n, d, a in CHARGE_SPECS],
        "kb_articles": list(KB_ARTICLES),
        "csrs": [(i, n, ",".join(s), ",".join(q)) for i, n, s, q in CSRS],
    }


def _generated_rows(customers: int, seed: int) -> dict[str, list[tuple]]:
    rng = random.Random(seed)
    plans = [(o[0], o[5][0][1], o[5][0][4]) for o in OFFERINGS if o[0] in PLANS]  # id, fee name, cents
    rows: dict[str, list[tuple]] = {"customers": [], "billing_accounts": [], "payments": [], "invoices": [],
                                    "applied_rates": []}
    cust, accts, pays, invs, rates = (rows[k] for k in rows)
    bill_no = len(FIXED_INVOICES)
    for n in range(len(FIXED_CUSTOMERS) + 1, customers + 1):
        cid, ba = f"CUST-{n:06d}", f"BA-{n:06d}"
        segment = rng.choice(["residential", "business"])
        cust.append((cid, f"Customer {n}", "customer", segment, f"customer{n}@example.com", f"+44 20 7{n:07d}"))
        _, fee_name, fee = rng.choice(plans)
        overdue = rng.choice([0] * 8 + [10, 35, 65])
        stage = min(overdue // 30, 3)
        due = -overdue if overdue else rng.randrange(1, 28)
        total = 0
        for k, (bill, state) in enumerate(((due - 60, "settled"), (due - 30, "sent")), start=1):
            inv = f"INV-{n:06d}-{k}"
            bill_no += 1
            usage = rng.randrange(0, 3000)
            lines = [("recurring", fee_name, fee, None)]
            if usage:
                lines.append(("usage", "Calls and data beyond the plan", usage, None))
            if state == "sent" and stage >= 2:
                lines.append(("financialCharge", LATE_FEE[2], LATE_FEE[3], LATE_FEE[1]))
            total = sum(line[2] for line in lines)
            rates += [(f"{inv}-L{i}", ba, inv, t, name, _d(bill), cents, detail)
                      for i, (t, name, cents, detail) in enumerate(lines, start=1)]
            paid = total if state == "settled" else 0
            invs.append((inv, ba, f"2026-{bill_no:07d}", _d(bill), _d(bill + 30), _d(bill - 30), _d(bill - 1), state, paid))
            if state == "settled":
                pays.append((f"PAY-{ba}-0", ba, _d(bill + 30 - rng.randrange(0, 10)), paid,
                             rng.choice(["card", "directDebit", "transfer"])))
        accts.append((ba, cid, "EUR", total, _d(due), "overdue" if overdue else "good", stage, overdue))
    return rows


def generate(path: str | Path, customers: int = 1000, seed: int = 7) -> int:
    """(Re)create the BSS file at ``path`` with ``customers`` customers; returns the number written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    tables = {
        "customers": list(FIXED_CUSTOMERS), "billing_accounts": list(FIXED_ACCOUNTS),
        "payments": list(FIXED_PAYMENTS), "invoices": list(FIXED_INVOICES), "applied_rates": list(FIXED_RATES),
    }
    for table, rows in _generated_rows(customers, seed).items():
        tables[table] += rows
    tables.update(_reference_rows())
    tables["bss_meta"] = [("schema_version", SCHEMA_VERSION), ("seed", str(seed)), ("customers", str(customers)),
                          ("today", TODAY.isoformat())]
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.executescript(SCHEMA)
    conn.execute("BEGIN")
    for table, rows in tables.items():
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    conn.execute("COMMIT")
    conn.executescript(INDEXES)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    tmp.replace(path)
    return len(tables["customers"])


def schema_version(path: str | Path) -> str | None:
    """The schema version a generated file records; None when it has none (an older or empty file)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM bss_meta WHERE key = 'schema_version'").fetchone()
        return row[0] if row else None
    except sqlite3.OperationalError:  # no bss_meta table: written by the first, read-only generator
        return None
    finally:
        conn.close()


def ensure(path: str | Path, customers: int = 1000) -> bool:
    """Generate the demo data unless the file already holds it; True when it was generated.

    A file from the first (read-only, schema 1) generator, or an empty one, is regenerated; a file
    with another schema version is refused rather than overwritten.
    """
    if Path(path).exists():
        version = schema_version(path)
        if version == SCHEMA_VERSION:
            return False
        if version is not None:
            raise BssError(f"{path} has BSS schema {version}, this code reads {SCHEMA_VERSION}")
    generate(path, customers)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bss.demo", description="Write the deterministic demo BSS.")
    parser.add_argument("--customers", type=int, default=1000, help="customers in all, fixed ones included (>= 3)")
    parser.add_argument("--path", type=Path, default=Path("var/bss.db"), help="the SQLite file to (re)create")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.customers < len(FIXED_CUSTOMERS):
        parser.error(f"--customers must be at least {len(FIXED_CUSTOMERS)}")
    started = time.perf_counter()
    generate(args.path, args.customers, args.seed)
    elapsed = time.perf_counter() - started
    conn = sqlite3.connect(args.path)
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("customers", "billing_accounts", "payments", "invoices", "applied_rates",
                        "offerings", "charge_specs", "kb_articles", "csrs")}
    conn.close()
    print(f"wrote {args.path} in {elapsed:.1f}s (seed {args.seed}):")
    for table, count in counts.items():
        print(f"  {table:<17} {count:>9,}")


if __name__ == "__main__":
    main()
