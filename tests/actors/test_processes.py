"""Process actors: a kill in the middle of an activity is retried, and its effect happens once;
timers of waiting requests (quote expiry, next dunning step) fire."""

from __future__ import annotations

import sqlite3

import pytest
import ray

from actors.names import process_name
from bss import open_bss
from routing.table import RoutingTable
from tests.conftest import Live, eventually, make_settings, wait_status
from tests.gateway.test_request_types import body

pytestmark = pytest.mark.usefixtures("ray_session")


def table(**rules) -> RoutingTable:
    raw = RoutingTable.load().model_dump(mode="json")
    for rtype, r in rules.items():
        raw["requestTypes"][rtype]["rules"].update(r)
    fast = {"maxAttempts": 5, "initialBackoffSeconds": 0.05, "backoffMultiplier": 1, "maxBackoffSeconds": 1}
    for rt in raw["requestTypes"].values():
        rt["retry"] = fast
    return RoutingTable.model_validate(raw)


async def test_process_killed_mid_activity_credits_once(tmp_path):
    live = Live(make_settings(tmp_path), table())
    try:
        bss = open_bss(live.settings.bss_path)
        before = bss.billing_account("BA-0001")["balance_cents"]
        lock = sqlite3.connect(live.settings.bss_path, isolation_level=None, timeout=30)
        lock.execute("BEGIN IMMEDIATE")  # the BSS cannot be written: applyCredit waits inside the process
        try:
            rid = (await live.http.post("/api/v1/requests", json=body("billingDispute", billingAccountId="BA-0001",
                                                                       amount=15))).json()["id"]

            billing = ray.get_actor(process_name("billing", 0), namespace=live.settings.namespace)

            async def crediting():  # the process has the applyCredit activity in hand
                return any(a.endswith(":applyCredit") for a in await billing.inflight.remote())
            await eventually(crediting)
            first_pid = await billing.pid.remote()
            ray.kill(billing, no_restart=False)

            async def restarted():  # only then let the BSS go: the killed attempt never wrote
                try:
                    return await billing.pid.remote() != first_pid
                except ray.exceptions.RayActorError:
                    return False
            await eventually(restarted)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        done = await wait_status(live.http, rid, "resolved", timeout=60)
        credit = next(a for a in done["activities"] if a["kind"] == "applyCredit")
        assert credit["attempts"] >= 2  # the killed attempt, then the retry
        assert [c["id"] for c in bss.credits_of("BA-0001")] == [done["result"]["credit"]["id"]]
        assert bss.billing_account("BA-0001")["balance_cents"] == before - 1500
    finally:
        await live.aclose()


async def test_quote_expires_dunning_moves_on_and_an_idle_claim_expires(tmp_path):
    second = 1 / 86400
    tbl = table(quote={"quoteValidityDays": 1.5 * second}, dunningNotice={"dunningStepDays": 1.5 * second})
    tbl.requestTypes["inquiry"].claimMinutes = 1 / 60  # a claim not worked for a second lapses
    live = Live(make_settings(tmp_path), tbl)
    try:
        held = (await live.http.post("/api/v1/requests", json=body("inquiry", description="garden gnomes?"))).json()
        await wait_status(live.http, held["id"], "held")
        claim = f"/api/v1/requests/{held['id']}/claim"
        assert (await live.http.post(claim, json={"csrId": "CSR-001"})).status_code == 200
        assert (await live.http.post(claim, json={"csrId": "CSR-003"})).status_code == 409

        async def lapsed():
            return (await live.http.post(claim, json={"csrId": "CSR-003"})).status_code == 200
        await eventually(lapsed, timeout=20, interval=0.2)
        assert (await live.http.get(f"/api/v1/requests/{held['id']}")).json()["assignee"] == "csr:CSR-003"

        bss = open_bss(live.settings.bss_path)
        quote = (await live.http.post("/api/v1/requests", json=body("quote", offeringId="PO-TV-BASIC"))).json()
        notice = (await live.http.post("/api/v1/requests", json=body(
            "dunningNotice", party="CUST-0002", direction="outbound", billingAccountId="BA-0002"))).json()
        expired = await wait_status(live.http, quote["id"], "resolved")
        assert expired["resolution"] == "expired"
        assert bss.quote(expired["result"]["quote"]["id"])["state"] == "cancelled"
        assert any(e["event"] == "timer.quoteExpiry" for e in expired["timeline"])
        stepped = await wait_status(live.http, notice["id"], "resolved")
        assert stepped["resolution"] == "nextDunningStep"
        assert bss.billing_account("BA-0002")["dunning_stage"] == 2  # demo BA-0002 starts at stage 1
    finally:
        await live.aclose()
