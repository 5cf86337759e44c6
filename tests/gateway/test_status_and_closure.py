"""Provide Request Status and Close Request over HTTP: SLA in the status, `fields=`, a party's own
list, information asked and given, confirm, reopen, and 409 on every change after closure."""

from __future__ import annotations

from tests.conftest import inquiry, wait_status
from tests.gateway.test_request_types import body, submit


async def test_status_shows_the_sla_and_fields_selects_attributes(http):
    rid = (await http.post("/api/v1/requests", json=inquiry())).json()["id"]
    done = await wait_status(http, rid, "resolved")
    sla = done["sla"]
    assert sla["policy"] == "standard" and sla["respondedAt"] and sla["resolvedAt"]
    assert sla["timeLeft"] == {}  # both targets met
    assert "close.confirmation" in done["timers"]

    r = await http.get(f"/api/v1/requests/{rid}", params={"fields": "status,sla"})
    assert r.status_code == 200 and set(r.json()) == {"id", "href", "status", "sla"}
    assert r.json()["status"] == "resolved"
    r = await http.get(f"/api/v1/requests/{rid}", params={"fields": "status,colour"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "fields" and "colour" in r.json()["detail"]


async def test_a_party_lists_its_own_requests(http):
    mine = (await http.post("/api/v1/requests", json=inquiry(account="BA-0003", party="CUST-0003"))).json()["id"]
    r = await http.get("/api/v1/requests", params={"relatedParty.id": "CUST-0003", "fields": "status"})
    listed = r.json()
    assert mine in [x["id"] for x in listed]
    assert all(set(x) == {"id", "href", "status"} for x in listed)
    every = await http.get("/api/v1/requests", params={"relatedParty.id": "CUST-0003", "limit": 1000})
    assert all(x["relatedParty"][0]["id"] == "CUST-0003" for x in every.json())


async def test_information_asked_and_given_then_confirmed_and_closed(http):
    held = await submit(http, body("inquiry", description="Do you deliver garden gnomes?"), "held")
    rid = held["id"]
    assert (await http.post(f"/api/v1/requests/{rid}/claim", json={"csrId": "CSR-001"})).status_code == 200
    asked = await http.post(f"/api/v1/requests/{rid}/request-information",
                            json={"csrId": "CSR-001", "question": "To which town?"})
    assert asked.status_code == 200 and asked.json()["status"] == "pending"
    assert asked.json()["sla"]["pausedSince"] is not None
    given = await http.post(f"/api/v1/requests/{rid}/information", json={"partyId": "CUST-0001", "text": "Lyon"})
    assert given.json()["status"] == "held" and given.json()["sla"]["pausedSince"] is None

    await http.post(f"/api/v1/requests/{rid}/claim", json={"csrId": "CSR-001"})
    await http.post(f"/api/v1/requests/{rid}/answer", json={"csrId": "CSR-001", "text": "Yes, to Lyon."})
    await wait_status(http, rid, "resolved")
    r = await http.post(f"/api/v1/requests/{rid}/reopen", json={"partyId": "CUST-0001", "reason": "Which day?"})
    assert r.status_code == 200 and r.json()["status"] == "held"
    await http.post(f"/api/v1/requests/{rid}/claim", json={"csrId": "CSR-001"})
    await http.post(f"/api/v1/requests/{rid}/answer", json={"csrId": "CSR-001", "text": "Tuesday."})
    await wait_status(http, rid, "resolved")

    r = await http.post(f"/api/v1/requests/{rid}/confirm", json={"partyId": "CUST-0002"})
    assert r.status_code == 404  # not their request
    r = await http.post(f"/api/v1/requests/{rid}/confirm", json={"partyId": "CUST-0001", "reason": "thanks"})
    closed = r.json()
    assert r.status_code == 200 and closed["status"] == "closed" and closed["closedAt"]
    assert closed["resolution"] == "answeredByCsr"
    again = await http.get(f"/api/v1/requests/{rid}")
    assert again.json() == closed  # from the journal now: the same shape
    for path, payload in [("cancel", {}), ("confirm", {"partyId": "CUST-0001"}),
                          ("reopen", {"partyId": "CUST-0001", "reason": "x"}), ("claim", {"csrId": "CSR-001"}),
                          ("information", {"partyId": "CUST-0001", "text": "x"})]:
        r = await http.post(f"/api/v1/requests/{rid}/{path}", json=payload)
        assert r.status_code == 409, (path, r.json())
    assert (await http.get(f"/api/v1/requests/{rid}")).json() == closed


async def test_confirm_needs_a_resolved_request(http):
    held = await submit(http, body("inquiry", description="garden gnomes, again?"), "held")
    r = await http.post(f"/api/v1/requests/{held['id']}/confirm", json={"partyId": "CUST-0001"})
    assert r.status_code == 409 and "resolved" in r.json()["detail"]
