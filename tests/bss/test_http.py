"""HttpBss and the TMF stand-in on their own: paths, headers, errors, the composite split, open_bss."""

from __future__ import annotations

import shutil
import socket

import httpx
import pytest

from bss import open_bss
from bss.errors import BssUnavailable
from bss.http import BILL, ORDER, HttpBss
from bss.store import SqliteBss
from bss.tmfserver import serving


@pytest.fixture
def stand_in(demo_db, tmp_path):
    """(url, remote store, local store): the stand-in and the local part on separate copies."""
    shutil.copy(demo_db, tmp_path / "remote.db")
    shutil.copy(demo_db, tmp_path / "local.db")
    remote, local = SqliteBss(tmp_path / "remote.db"), SqliteBss(tmp_path / "local.db")
    with serving(remote) as url:
        yield url, remote, local


def test_tmf678_lists_carry_counts(stand_in):
    url, _, _ = stand_in
    r = httpx.get(f"{url}{BILL}/customerBill", params={"billingAccount.id": "BA-0001", "limit": 1})
    assert r.status_code == 200 and len(r.json()) == 1
    assert (r.headers["X-Total-Count"], r.headers["X-Result-Count"]) == ("2", "1")
    bill = r.json()[0]
    assert bill["href"].endswith(f"{BILL}/customerBill/INV-0001") and "lines" not in bill


def test_stand_in_errors_are_tmf_errors(stand_in):
    url, _, _ = stand_in
    r = httpx.get(f"{url}{BILL}/customerBill/INV-NOPE")
    assert r.status_code == 404 and r.json()["code"] == "NotFoundInBss" and r.json()["reason"]
    assert httpx.get(f"{url}{BILL}/appliedCustomerBillingRate").status_code == 400


def test_credit_goes_to_the_bss_and_the_local_account_follows(stand_in):
    url, remote, local = stand_in
    bss = HttpBss(url, local)
    bss.apply_credit("CR-H1", "BA-0002", 3000, "dispute")
    bss.apply_credit("CR-H1", "BA-0002", 3000, "dispute")
    assert remote.billing_account("BA-0002")["balance_cents"] == 15000
    assert local.billing_account("BA-0002")["balance_cents"] == 15000
    assert [c["id"] for c in remote.credits_of("BA-0002")] == ["CR-H1"]


def test_orders_live_only_in_the_bss(stand_in):
    url, remote, local = stand_in
    bss = HttpBss(url, local)
    bss.create_order("PO-H1", "CUST-0001", [{"offeringId": "PO-TV-BASIC"}])
    assert remote.order("PO-H1")["state"] == "acknowledged" and local.order("PO-H1") is None
    r = httpx.get(f"{url}{ORDER}/productOrder", params={"externalId": "PO-H1"})
    assert [o["id"] for o in r.json()] == ["PO-H1"]


def test_without_driving_orders_advance_only_reads(stand_in):
    url, _, local = stand_in
    bss = HttpBss(url, local, drive_orders=False)
    bss.create_order("PO-H2", "CUST-0001", [{"offeringId": "PO-TV-BASIC"}])
    assert bss.advance_order("PO-H2")["state"] == "acknowledged"


def test_an_unreachable_bss_is_unavailable(demo_db):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bss = HttpBss(f"http://127.0.0.1:{port}", SqliteBss(demo_db), timeout=1.0)
    with pytest.raises(BssUnavailable):
        bss.invoice("INV-0001")
    assert bss.account_summary("BA-0001")["balance"]["value"] == 42.5  # local reads still answer


def test_open_bss(demo_db):
    assert isinstance(open_bss(demo_db), SqliteBss)
    remote = open_bss("http://127.0.0.1:9", local=demo_db, drive_orders=False)
    assert isinstance(remote, HttpBss) and remote.drive_orders is False
    with pytest.raises(ValueError):
        open_bss("https://bss.example.net")
