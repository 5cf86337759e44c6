"""The runtime pointed at a BSS over the TM Forum APIs (SWITCHBOARD_BSS_URL): the credit and the
product order are created in that BSS, here the stand-in TMF server over its own database."""

from __future__ import annotations

import uuid

import pytest

from bss import demo
from bss.http import HttpBss
from bss.store import SqliteBss
from bss.tmfserver import serving
from tests.conftest import DEMO_CUSTOMERS, Live, make_settings, wait_status
from tests.gateway.test_request_types import body

pytestmark = pytest.mark.usefixtures("ray_session")


async def test_dispute_and_checkout_write_to_the_tmf_bss(tmp_path):
    remote_path = tmp_path / "remote-bss.db"
    demo.generate(remote_path, customers=DEMO_CUSTOMERS)  # the operator's BSS knows the same customers
    remote = SqliteBss(remote_path)
    with serving(remote) as url:
        live = Live(make_settings(tmp_path / "data", bss_url=url))
        try:
            credited = (await live.http.post("/api/v1/requests", json=body(
                "billingDispute", billingAccountId="BA-0001", amount=12))).json()
            done = await wait_status(live.http, credited["id"], "resolved")
            credit_id = done["result"]["credit"]["id"]
            assert [c["id"] for c in remote.credits_of("BA-0001")] == [credit_id]  # in the TMF BSS

            tmf = HttpBss(url, SqliteBss(live.settings.bss_path), timeout=5.0)
            cart = tmf.create_cart(f"CART-{uuid.uuid4().hex[:8]}", "CUST-0001",
                                   [{"offeringId": "PO-TV-BASIC", "quantity": 1}])
            ordered = (await live.http.post("/api/v1/requests", json=body("cartCheckout", cartId=cart["id"]))).json()
            done = await wait_status(live.http, ordered["id"], "resolved")
            assert remote.order(done["result"]["order"]["id"])["state"] == "completed"
            tmf.close()
        finally:
            await live.aclose()
    remote.close()
