"""The demo generator: deterministic, with the documented stable ids, and its CLI."""

from __future__ import annotations

import sqlite3

import pytest

from bss import demo
from bss.errors import BssError
from bss.store import SqliteBss


def dump(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_same_seed_same_rows(tmp_path):
    demo.generate(tmp_path / "a.db", customers=200, seed=11)
    demo.generate(tmp_path / "b.db", customers=200, seed=11)
    demo.generate(tmp_path / "c.db", customers=200, seed=12)
    assert dump(tmp_path / "a.db") == dump(tmp_path / "b.db")
    assert dump(tmp_path / "a.db") != dump(tmp_path / "c.db")


def test_stable_ids(demo_db):
    bss = SqliteBss(demo_db)
    assert bss.billing_account("BA-0001") == {
        "id": "BA-0001", "customer_id": "CUST-0001", "currency": "EUR", "balance_cents": 4250,
        "due_date": "2026-11-15", "standing": "good", "dunning_stage": 0, "days_overdue": 0}
    assert bss.billing_account("BA-0002")["balance_cents"] == 18000
    assert bss.customer("PROS-0001")["kind"] == "prospect"
    assert [bss.invoice(i)["amountDue"]["value"] for i in ("INV-0001", "INV-0002", "INV-0003", "INV-0004")] == [
        42.5, 39.9, 180.0, 60.0]
    assert {o["id"] for o in bss.offerings()} >= {"PO-FIBRE-500", "PO-MOBILE-10GB", "PO-ROUTER-WIFI6", "PO-DSL-LEGACY"}
    assert bss.kb_article("KB-001")["title"].startswith("Roaming")
    assert all(bss.kb_article(f"KB-{n:03d}") for n in range(1, 9))
    assert [c["id"] for c in bss.csrs()] == ["CSR-001", "CSR-002", "CSR-003", "CSR-004"]
    bss.close()


def test_generated_customers_are_consistent(demo_db):
    bss = SqliteBss(demo_db)
    conn = sqlite3.connect(demo_db)
    assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 60
    assert bss.customer("CUST-000004") is not None and bss.customer("CUST-000061") is None
    for n in range(4, 61):
        account = bss.billing_account(f"BA-{n:06d}")
        current, previous = bss.invoices_of(account["id"])
        assert current["amountDue"]["value"] * 100 == pytest.approx(account["balance_cents"])
        assert current["paymentDueDate"] == account["due_date"]
        assert previous["state"] == "settled"
        assert bss.last_payment(account["id"])["amount_cents"] == round(previous["amountDue"]["value"] * 100)
        assert (account["standing"] == "overdue") == (account["days_overdue"] > 0)
    conn.close()
    bss.close()


def test_ensure_generates_once(tmp_path):
    path = tmp_path / "bss.db"
    assert demo.ensure(path, 10) is True
    assert demo.ensure(path, 10) is False


def test_ensure_replaces_a_file_of_the_first_generator(tmp_path):
    path = tmp_path / "bss.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT, kind TEXT, segment TEXT)")
    conn.close()
    assert demo.ensure(path, 10) is True
    assert SqliteBss(path).charge_spec("lateFee") is not None


def test_ensure_refuses_another_schema_version(tmp_path):
    path = tmp_path / "bss.db"
    demo.generate(path, 5)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE bss_meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(BssError):
        demo.ensure(path, 5)


def test_cli(tmp_path, capsys):
    demo.main(["--customers", "25", "--path", str(tmp_path / "cli.db")])
    out = capsys.readouterr().out
    assert "customers" in out and "25" in out
    assert SqliteBss(tmp_path / "cli.db").customer("CUST-000025") is not None
    with pytest.raises(SystemExit):
        demo.main(["--customers", "2", "--path", str(tmp_path / "x.db")])
