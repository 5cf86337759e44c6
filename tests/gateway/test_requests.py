"""The native API end to end: a real runtime on Ray behind the gateway app."""

from __future__ import annotations

import asyncio
import uuid

from bss import open_bss
from tests.conftest import inquiry, wait_status


async def test_billing_inquiry_resolves_with_the_balance(http, live):
    r = await http.post("/api/v1/requests", json=inquiry())
    assert r.status_code == 201
    created = r.json()
    assert r.headers["Location"] == f"/api/v1/requests/{created['id']}"
    assert created["status"] == "acknowledged"
    assert created["href"] == r.headers["Location"]

    done = await wait_status(http, created["id"], "resolved")
    # other tests credit BA-0001, so compare with the BSS now (tests/test_serve.py checks the demo value)
    assert done["result"] == open_bss(live.settings.bss_path).account_summary("BA-0001")
    assert done["result"]["dueDate"] == "2026-11-15"
    assert done["result"]["lastPayment"]["amount"] == {"value": 39.9, "unit": "EUR"}
    [activity] = done["activities"]
    assert (activity["kind"], activity["process"], activity["status"], activity["attempts"]) == (
        "accountSummary", "billing", "completed", 1)
    path = [(e["fromStatus"], e["toStatus"]) for e in done["timeline"] if e["toStatus"]]
    assert path == [(None, "acknowledged"), ("acknowledged", "inProgress"), ("inProgress", "resolved")]


async def test_unknown_account_goes_to_a_csr(http):
    r = await http.post("/api/v1/requests", json=inquiry(account="BA-9999"))
    held = await wait_status(http, r.json()["id"], "held")
    assert "BA-9999 not found" in held["statusReason"]
    assert held["activities"][0]["status"] == "failed"


async def test_account_of_another_party_is_not_disclosed(http):
    r = await http.post("/api/v1/requests", json=inquiry(account="BA-0002", party="CUST-0001"))
    held = await wait_status(http, r.json()["id"], "held")
    assert held["result"] is None
    assert "does not belong" in held["statusReason"]


async def test_unknown_id_is_404_problem(http):
    r = await http.get(f"/api/v1/requests/{uuid.uuid4().hex}")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "request.not_found"


async def test_cancel_then_every_change_is_refused(http):
    r = await http.post("/api/v1/requests", json=inquiry(account="BA-9998"))
    rid = r.json()["id"]
    await wait_status(http, rid, "held")
    r = await http.post(f"/api/v1/requests/{rid}/cancel", json={"reason": "customer called back"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert r.json()["timeline"][-1]["reason"] == "customer called back"
    before = (await http.get(f"/api/v1/requests/{rid}")).json()
    again = await http.post(f"/api/v1/requests/{rid}/cancel")
    assert again.status_code == 409
    assert again.json()["code"] == "request.invalid_transition"
    assert (await http.get(f"/api/v1/requests/{rid}")).json() == before


async def test_cancel_resolved_is_refused_and_changes_nothing(http):
    rid = (await http.post("/api/v1/requests", json=inquiry())).json()["id"]
    before = await wait_status(http, rid, "resolved")
    r = await http.post(f"/api/v1/requests/{rid}/cancel")
    assert r.status_code == 409
    assert "resolved" in r.json()["detail"]
    assert (await http.get(f"/api/v1/requests/{rid}")).json() == before


async def test_list_filters_and_counts(http):
    party = f"CUST-{uuid.uuid4().hex[:6]}"  # no such account: these requests end held
    ids = [(await http.post("/api/v1/requests", json=inquiry(account="BA-0001", party=party,
                                                            channel=ch))).json()["id"]
           for ch in ("web", "web", "ivr")]
    for rid in ids:
        await wait_status(http, rid, "held")
    r = await http.get("/api/v1/requests", params={"relatedParty.id": party})
    assert r.headers["X-Total-Count"] == "3"
    assert [x["id"] for x in r.json()] == ids[::-1]  # newest first
    r = await http.get("/api/v1/requests", params={"relatedParty.id": party, "channel": "ivr"})
    assert [x["id"] for x in r.json()] == [ids[2]]
    r = await http.get("/api/v1/requests", params={"relatedParty.id": party, "offset": 1, "limit": 1})
    assert [x["id"] for x in r.json()] == [ids[1]]
    assert (r.headers["X-Total-Count"], r.headers["X-Result-Count"]) == ("3", "1")
    r = await http.get("/api/v1/requests", params={"relatedParty.id": party, "status": "resolved"})
    assert r.headers["X-Total-Count"] == "0" and r.json() == []
    assert "bodyHash" not in (await http.get("/api/v1/requests", params={"relatedParty.id": party})).json()[0]


async def test_idempotent_repeat_returns_the_first_request(http):
    key = f"k-{uuid.uuid4()}"
    first = await http.post("/api/v1/requests", json=inquiry(), headers={"Idempotency-Key": key})
    second = await http.post("/api/v1/requests", json=inquiry(), headers={"Idempotency-Key": key})
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["Location"] == first.headers["Location"]


async def test_idempotency_key_with_another_body_is_409_and_creates_nothing(http):
    key = f"k-{uuid.uuid4()}"
    party = f"CUST-{uuid.uuid4().hex[:6]}"
    first = await http.post("/api/v1/requests", json=inquiry(party=party), headers={"Idempotency-Key": key})
    other = await http.post("/api/v1/requests", json=inquiry(party=party, description="different"),
                            headers={"Idempotency-Key": key})
    assert other.status_code == 409
    assert other.json()["code"] == "request.idempotency_conflict"
    listed = await http.get("/api/v1/requests", params={"relatedParty.id": party})
    assert [x["id"] for x in listed.json()] == [first.json()["id"]]


async def test_concurrent_duplicates_create_one_request(http):
    key = f"k-{uuid.uuid4()}"
    party = f"CUST-{uuid.uuid4().hex[:6]}"
    answers = await asyncio.gather(*(http.post("/api/v1/requests", json=inquiry(party=party),
                                               headers={"Idempotency-Key": key}) for _ in range(20)))
    assert sorted(a.status_code for a in answers) == [200] * 19 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    listed = await http.get("/api/v1/requests", params={"relatedParty.id": party})
    assert listed.headers["X-Total-Count"] == "1"


async def test_health_ready_and_metrics(http):
    assert (await http.get("/healthz")).status_code == 200
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and set(ready.json()["checks"]) == {"router", "request-host-0", "request-host-1",
                                                                   "webhooks", "campaigns"}
    rid = (await http.post("/api/v1/requests", json=inquiry(channel="chat"))).json()["id"]
    await wait_status(http, rid, "resolved")
    text = (await http.get("/metrics")).text
    assert 'switchboard_requests_created_total{channel="chat",requestType="billingInquiry"}' in text
    assert 'switchboard_transitions_total{from="inProgress",requestType="billingInquiry",to="resolved"}' in text
    assert 'switchboard_requests{status="resolved"}' in text
    assert "# TYPE switchboard_sla_events_total counter" in text and "switchboard_passivated_total " in text
    active = next(line for line in text.splitlines() if line.startswith("switchboard_request_actors "))
    assert float(active.split()[1]) >= 1  # the resolved request waits in memory for its confirmation
    assert 'switchboard_http_request_duration_seconds_count{method="POST",route="/api/v1/requests",status="201"}' in text
    assert 'route="unmatched",status="201"' not in text  # every create under its route, however answered


async def test_concurrent_queries_each_get_their_own_answer(http):
    """Queries arriving together travel to their host in one call; each still gets its own answer."""
    ids = [(await http.post("/api/v1/requests", json=inquiry())).json()["id"] for _ in range(6)]
    asked = [rid for rid in ids for _ in range(5)] + [uuid.uuid4().hex for _ in range(10)]
    answers = await asyncio.gather(*(http.get(f"/api/v1/requests/{rid}") for rid in asked))
    for rid, r in zip(asked, answers, strict=True):
        if rid in ids:
            assert r.status_code == 200 and r.json()["id"] == rid
        else:
            assert r.status_code == 404 and r.json()["code"] == "request.not_found"
