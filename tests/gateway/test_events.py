"""Server-sent events: a request's stream and a party's stream, served by a real uvicorn on loopback."""

from __future__ import annotations

import uuid

import httpx
import pytest_asyncio

from actors.events import EventFilter
from tests.conftest import eventually, inquiry, wait_status
from tests.gateway.support import messages, served, take

TIMEOUT = httpx.Timeout(30.0)


@pytest_asyncio.fixture(scope="module")
async def base(live):
    async with served(live.app) as url:
        yield url


def status_changes(events) -> list[tuple[str, str]]:
    return [(e.data["data"]["from"], e.data["data"]["to"]) for e in events if e.event == "statusChanged"]


async def test_request_stream_sends_every_transition_in_order_and_resumes_after_last_event_id(http, base):
    rid = (await http.post("/api/v1/requests", json=inquiry())).json()["id"]
    url = f"{base}/api/v1/requests/{rid}/events"
    async with httpx.AsyncClient(timeout=TIMEOUT, headers=http.headers) as client:
        async with client.stream("GET", url) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            stream, seen = messages(r), []
            while "resolved" not in {e.event for e in seen}:
                seen += await take(stream, 1)
        assert seen[0].event == "created" and seen[0].data["data"]["id"] == rid
        assert status_changes(seen) == [("acknowledged", "inProgress"), ("inProgress", "resolved")]
        assert {e.event for e in seen} == {"created", "statusChanged", "activityChanged", "resolved"}
        assert seen[-1].data["data"]["resolution"] == "answered" and seen[-2].event == "statusChanged"
        seqs = [int(e.id) for e in seen]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        for e in seen:  # the same shape for every event; the SSE id is the seq of its eventId
            assert set(e.data) == {"eventId", "eventType", "eventTime", "requestId", "requestType",
                                   "relatedPartyId", "data"}
            assert (e.data["eventType"], e.data["requestId"], e.data["requestType"], e.data["relatedPartyId"]) == (
                e.event, rid, "billingInquiry", "CUST-0001")
            assert e.data["eventId"].endswith(f":{e.id}")

        # Reconnect after the first event: exactly the rest, in the same order.
        async with client.stream("GET", url, headers={"Last-Event-ID": seen[0].id}) as r:
            rest = await take(messages(r), len(seen) - 1)
        assert [(e.id, e.event, e.data) for e in rest] == [(e.id, e.event, e.data) for e in seen[1:]]


async def test_the_stream_of_a_request_ends_when_it_is_final_and_a_reconnect_gets_204(http, base):
    rid = (await http.post("/api/v1/requests", json=inquiry(account="BA-9997"))).json()["id"]
    await wait_status(http, rid, "held")
    assert (await http.post(f"/api/v1/requests/{rid}/cancel", json={})).status_code == 200
    url = f"{base}/api/v1/requests/{rid}/events"
    async with httpx.AsyncClient(timeout=TIMEOUT, headers=http.headers) as client:
        r = await client.get(url)  # the whole stream: it ends by itself
        assert r.status_code == 200
        events = [m async for m in messages(r) if m.data is not None]
        assert status_changes(events)[-1] == ("held", "cancelled")
        r = await client.get(url, headers={"Last-Event-ID": events[-1].id})
        assert r.status_code == 204  # EventSource stops reconnecting


async def test_party_stream_spans_both_shards_and_resumes_from_its_cursor(http, base, live):
    party = f"CUST-{uuid.uuid4().hex[:8]}"  # not the account's party: each request goes held
    url = f"{base}/api/v1/events?relatedParty.id={party}"
    rt = live.client_rt
    async with httpx.AsyncClient(timeout=TIMEOUT, headers=http.headers) as client, client.stream("GET", url) as r:
        assert r.status_code == 200
        stream = messages(r)
        start = await anext(stream)  # the starting cursor, before any event
        assert start.data is None and start.id is not None
        ids: list[str] = []
        while len({rt.shard(i) for i in ids}) < 2:
            ids.append((await http.post("/api/v1/requests", json=inquiry(party=party))).json()["id"])
        for rid in ids:
            await wait_status(http, rid, "held")
        cursor0 = [int(part.split(":")[1]) for part in start.id.split(".")]
        journaled = {f"{shard}:{row.seq}"
                     for shard, rows in enumerate(await rt.events_all(cursor0, EventFilter(party_id=party), 1000))
                     for row in rows}
        seen = await take(stream, len(journaled))
    assert sorted(e.data["eventId"] for e in seen) == sorted(journaled)
    assert {e.data["requestId"] for e in seen} == set(ids)
    assert {e.data["relatedPartyId"] for e in seen} == {party}
    for e in seen:  # the id is the cursor after this event: its own shard at its seq
        shard, seq = e.data["eventId"].split(":")
        assert f"{shard}:{seq}" in e.id.split(".")

    middle = seen[len(seen) // 2]
    after = {int(s): int(q) for s, q in (p.split(":") for p in middle.id.split("."))}
    rest = sorted(i for i in journaled if int(i.split(":")[1]) > after[int(i.split(":")[0])])
    async with httpx.AsyncClient(timeout=TIMEOUT, headers=http.headers) as client, \
            client.stream("GET", url, headers={"Last-Event-ID": middle.id}) as r:
        resumed = await take(messages(r), len(rest))
    assert sorted(e.data["eventId"] for e in resumed) == rest


async def test_unknown_request_is_404_and_a_bad_last_event_id_422(http):
    r = await http.get(f"/api/v1/requests/{uuid.uuid4().hex}/events")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "request.not_found"
    rid = (await http.post("/api/v1/requests", json=inquiry())).json()["id"]
    r = await http.get(f"/api/v1/requests/{rid}/events", headers={"Last-Event-ID": "0:12"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Last-Event-ID"
    r = await http.get("/api/v1/events", headers={"Last-Event-ID": "7:12"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Last-Event-ID"
    r = await http.get("/api/v1/events", params={"eventType": "action.cancel"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "eventType.0"


async def test_a_stream_closed_by_its_client_is_gone_from_the_gateway(http, base):
    rid = (await http.post("/api/v1/requests", json=inquiry())).json()["id"]

    async def open_streams() -> float:
        text = (await http.get("/metrics")).text
        return float(next(line.split()[-1] for line in text.splitlines()
                          if line.startswith("switchboard_event_streams ")))

    await eventually(lambda: _is(open_streams, 0))  # earlier tests' streams are closed
    async with httpx.AsyncClient(timeout=TIMEOUT, headers=http.headers) as client:
        async with client.stream("GET", f"{base}/api/v1/requests/{rid}/events") as r:
            stream = messages(r)  # held: a dropped reader closes the connection
            await take(stream, 1)
            assert await open_streams() == 1
    await eventually(lambda: _is(open_streams, 0))
    text = (await http.get("/metrics")).text  # a stream's length is not a request latency
    assert 'route="/api/v1/requests/{request_id}/events",status="200"' not in text


async def _is(probe, value) -> bool:
    return await probe() == value
