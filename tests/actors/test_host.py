"""Hosts die and come back; the whole runtime stops and starts again: nothing acknowledged is lost."""

from __future__ import annotations

import asyncio

import pytest
import ray

from routing.ring import HashRing
from tests.conftest import Live, eventually, inquiry, make_settings, wait_status

pytestmark = pytest.mark.usefixtures("ray_session")

SETTLED = {"resolved", "held", "cancelled"}


async def settle(http, ids):
    async def all_settled():
        states = [(await http.get(f"/api/v1/requests/{rid}")).json() for rid in ids]
        return states if all(s.get("status") in SETTLED for s in states) else None
    return {s["id"]: s for s in await eventually(all_settled)}


def on_host(ids, host, hosts=2):
    ring = HashRing(hosts)
    return [rid for rid in ids if ring.host_for(rid) == host]


async def test_killed_host_comes_back_with_every_request(live, http):
    ids = [(await http.post("/api/v1/requests", json=inquiry(account="BA-0001" if i % 2 else "BA-9999"))).json()["id"]
           for i in range(16)]
    before = await settle(http, ids)
    assert on_host(ids, 0) and on_host(ids, 1)
    open_on_0 = [rid for rid in on_host(ids, 0) if before[rid]["status"] != "cancelled"]  # resolved is not final

    ray.kill(live.client_rt.hosts[0], no_restart=False)

    async def answers_again():
        states = [await http.get(f"/api/v1/requests/{rid}") for rid in ids]
        return {r.json()["id"]: r.json() for r in states} if all(r.status_code == 200 for r in states) else None
    after = await eventually(answers_again)
    for rid in ids:
        assert (after[rid]["status"], after[rid]["timeline"]) == (before[rid]["status"], before[rid]["timeline"])
    pong = await live.client_rt.hosts[0].ping.remote()
    assert pong["rehydrated"] >= len(open_on_0) > 0


async def test_requests_in_flight_when_a_host_dies_are_fulfilled_once(live, http):
    answers = await asyncio.gather(*(http.post("/api/v1/requests", json=inquiry()) for _ in range(20)))
    assert all(a.status_code == 201 for a in answers)
    ray.kill(live.client_rt.hosts[1], no_restart=False)
    ids = [a.json()["id"] for a in answers]
    for rid in ids:
        done = await wait_status(http, rid, "resolved", timeout=60)
        assert [a["status"] for a in done["activities"]] == ["completed"]
        assert done["result"]["billingAccountId"] == "BA-0001"


async def test_full_stop_and_start_finds_every_request(tmp_path):
    first = Live(make_settings(tmp_path))
    http = first.http
    ids = [(await http.post("/api/v1/requests", json=inquiry(account=acct))).json()["id"]
           for acct in ("BA-0001", "BA-9999", "BA-0001", "BA-9999")]
    before = await settle(http, ids)
    cancelled = ids[3]
    before[cancelled] = (await http.post(f"/api/v1/requests/{cancelled}/cancel")).json()
    await first.aclose()

    second = Live(make_settings(tmp_path))  # same data directory, new actors
    try:
        for rid in ids:
            r = await second.http.get(f"/api/v1/requests/{rid}")
            assert r.status_code == 200
            after, earlier = r.json(), before[rid]
            left, left_before = after["sla"].pop("timeLeft"), earlier["sla"].pop("timeLeft")
            assert after == earlier
            assert left.keys() == left_before.keys()  # a held request's clock ran on: less time left
            assert all(left[k] <= left_before[k] for k in left)
        listed = await second.http.get("/api/v1/requests")
        assert listed.headers["X-Total-Count"] == "4"
        pongs = await asyncio.gather(*(h.ping.remote() for h in second.client_rt.hosts))
        assert sum(p["rehydrated"] for p in pongs) == 3  # every open request is active again; not the cancelled
        r = await second.http.post(f"/api/v1/requests/{ids[1]}/cancel")  # and it takes messages
        assert r.json()["status"] == "cancelled"
    finally:
        await second.aclose()


async def test_the_router_actor_creates_for_a_driver_without_the_routing_table(live, http):
    """The gateway and the campaigns actor route in process; the ``router`` actor does the same for
    other drivers: bodies as JSON, each answered on its own, duplicates by key found by the host."""
    import json

    router = live.runtime.router
    good, bad = json.dumps(inquiry()), json.dumps({**inquiry(), "direction": "sideways"})
    first = await router.create_many.remote([(good, "k-1", "script"), (bad, None, "script"), (good, "k-1", "script")])
    created, rid, body = first[0]
    assert created and json.loads(body)["id"] == rid
    assert getattr(first[1], "code", None) == "request.invalid" and first[1].field == "body"
    assert first[2][:2] == (False, rid)  # the same key from the same caller: the same request
    done = await wait_status(http, rid, "resolved")
    assert done["result"]["billingAccountId"] == "BA-0001"
