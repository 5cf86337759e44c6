"""The CSR work queue: least-load assignment, claims (one winner), claim rules, customer scoping."""

from __future__ import annotations

import asyncio

from tests.gateway.test_request_types import body, submit


async def held_inquiry(http) -> dict:
    return await submit(http, body("inquiry", description="Do you sell garden gnomes?"), "held")


async def test_two_csrs_claim_at_once_one_wins(http):
    held = await held_inquiry(http)
    a, b = await asyncio.gather(*(http.post(f"/api/v1/requests/{held['id']}/claim", json={"csrId": c})
                                  for c in ("CSR-001", "CSR-003")))
    assert sorted([a.status_code, b.status_code]) == [200, 409]
    loser = a if a.status_code == 409 else b
    assert loser.json()["errors"][0]["field"] == "assignee"
    winner = (a if a.status_code == 200 else b).json()["assignee"]
    now = (await http.get(f"/api/v1/requests/{held['id']}")).json()
    assert now["assignee"] == winner and now["status"] == "held"


async def test_actions_need_the_claim_and_the_skill(http):
    held = await held_inquiry(http)
    rid = held["id"]
    r = await http.post(f"/api/v1/requests/{rid}/answer", json={"csrId": "CSR-001", "text": "hello"})
    assert r.status_code == 409 and "claim it first" in r.json()["detail"]
    r = await http.post(f"/api/v1/requests/{rid}/claim", json={"csrId": "CSR-002"})  # sales/orders only
    assert r.status_code == 409 and "no general skill" in r.json()["detail"]
    r = await http.post(f"/api/v1/requests/{rid}/claim", json={"csrId": "CSR-404"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "csrId"
    assert (await http.post(f"/api/v1/requests/{rid}/claim", json={"csrId": "CSR-001"})).status_code == 200
    r = await http.post(f"/api/v1/requests/{rid}/release", json={"csrId": "CSR-001"})
    assert r.status_code == 200 and r.json()["assignee"] is None
    assert (await http.post(f"/api/v1/requests/{rid}/claim", json={"csrId": "CSR-003"})).status_code == 200
    after = (await http.get(f"/api/v1/requests/{rid}")).json()
    assert [e["actor"] for e in after["timeline"] if e["event"].startswith("action.")] == [
        "csr:CSR-001", "csr:CSR-001", "csr:CSR-003"]


async def test_queue_assigns_by_least_load(http):
    # CSR-001 and CSR-003 both take the general queue; CSR-001 holds a live claim on one request.
    busy = await held_inquiry(http)
    await http.post(f"/api/v1/requests/{busy['id']}/claim", json={"csrId": "CSR-001"})
    fresh = [await held_inquiry(http) for _ in range(3)]
    q1 = [r["id"] for r in (await http.get("/api/v1/csrs/CSR-001/queue")).json()]
    q3 = [r["id"] for r in (await http.get("/api/v1/csrs/CSR-003/queue")).json()]
    assert busy["id"] in q1 and busy["id"] not in q3  # a claim stays with its CSR
    offered = [r["id"] for r in fresh]
    assert set(offered) <= set(q1) | set(q3)
    assert not set(q1) & set(q3)  # each request is offered to one CSR
    loads = {c["id"]: c["load"] for c in (await http.get("/api/v1/csrs")).json()}
    assert loads["CSR-001"] >= 1
    # least load: CSR-003 (fewer claims) is offered at least as many unclaimed requests as CSR-001
    assert len([i for i in q3 if i in offered]) >= len([i for i in q1 if i in offered])


async def test_customer_cannot_act_on_another_partys_request(http):
    pending = await submit(http, body("quote", offeringId="PO-ROAM-PASS"), "pending")
    r = await http.post(f"/api/v1/requests/{pending['id']}/accept", json={"partyId": "CUST-0002"})
    assert r.status_code == 404
    assert (await http.get(f"/api/v1/requests/{pending['id']}")).json()["status"] == "pending"


async def test_customer_adds_information_to_a_pending_request(http):
    pending = await submit(http, body("quote", offeringId="PO-ROAM-PASS"), "pending")
    r = await http.post(f"/api/v1/requests/{pending['id']}/information",
                        json={"partyId": "CUST-0001", "text": "I travel to Japan <b>next week</b>"})
    assert r.status_code == 200
    after = r.json()
    assert after["status"] == "held" and after["result"]["information"] == "I travel to Japan <b>next week</b>"
    path = [(e["fromStatus"], e["toStatus"]) for e in after["timeline"] if e["toStatus"]][-2:]
    assert path == [("pending", "inProgress"), ("inProgress", "held")]


async def test_action_not_available_in_this_status_is_409(http):
    pending = await submit(http, body("quote", offeringId="PO-ROAM-PASS"), "pending")
    r = await http.post(f"/api/v1/requests/{pending['id']}/promise",
                        json={"partyId": "CUST-0001", "amount": 10, "date": "2026-12-01"})
    assert r.status_code == 409
    r = await http.post(f"/api/v1/requests/{pending['id']}/approve", json={"csrId": "CSR-001"})
    assert r.status_code == 409
    assert (await http.get(f"/api/v1/requests/{pending['id']}")).json()["status"] == "pending"
