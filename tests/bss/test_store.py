"""SqliteBss on its own: safe from several threads and connections, WAL, the old names."""

from __future__ import annotations

import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from bss import open_bss
from bss.store import BssStore, SqliteBss, money


def test_old_names_still_work(demo_db):
    assert BssStore is SqliteBss
    assert money(4250, "EUR") == {"value": 42.5, "unit": "EUR"}


def test_wal(demo_db, tmp_path):
    shutil.copy(demo_db, tmp_path / "bss.db")
    SqliteBss(tmp_path / "bss.db")
    assert sqlite3.connect(tmp_path / "bss.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_empty_file_gets_the_schema(tmp_path):
    bss = SqliteBss(tmp_path / "empty.db")
    assert bss.offerings() == [] and bss.customer("CUST-0001") is None


def test_same_credit_from_many_connections_at_once_is_applied_once(demo_db, tmp_path):
    """Eight connections (as eight process actors would have) race to apply one credit."""
    shutil.copy(demo_db, tmp_path / "bss.db")
    stores = [SqliteBss(tmp_path / "bss.db") for _ in range(8)]
    before = stores[0].billing_account("BA-000005")["balance_cents"]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda s: s.apply_credit("CR-RACE", "BA-000005", 700, "race"), stores))
    assert all(r == results[0] for r in results)
    assert stores[0].billing_account("BA-000005")["balance_cents"] == before - 700
    assert len(stores[0].credits_of("BA-000005")) == 1


def test_concurrent_different_writes_all_land(demo_db, tmp_path):
    shutil.copy(demo_db, tmp_path / "bss.db")
    bss = open_bss(tmp_path / "bss.db")
    before = bss.billing_account("BA-000006")["balance_cents"]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: bss.apply_charge(f"CH-{n}", "BA-000006", "lateFee"), range(40)))
    assert bss.billing_account("BA-000006")["balance_cents"] == before + 40 * 1000
    assert len(bss.charges_of("BA-000006")) == 40
