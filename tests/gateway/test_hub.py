"""Webhooks: a receiver started by the test gets every matching event, signed, once per delivery id;
a failing one gets retries, then a dead letter that an operator replays; a restarted webhooks actor
loses nothing and makes no new ids."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import uuid

import pytest_asyncio
import ray

from actors.events import EventFilter
from tests.conftest import Live, eventually, inquiry, wait_status
from tests.gateway.support import Receiver

ATTEMPTS = 3


@pytest_asyncio.fixture(scope="module")
async def hub(ray_session, settings_factory):
    """A runtime of its own, with retries in milliseconds."""
    rt = Live(settings_factory(webhook_max_attempts=ATTEMPTS, webhook_initial_backoff_seconds=0.05,
                               webhook_backoff_multiplier=2.0, webhook_timeout_seconds=5.0))
    yield rt
    await rt.aclose()


def party() -> str:
    return f"CUST-{uuid.uuid4().hex[:8]}"  # not the account's party: its billing inquiries go held


def valid(secret: str, got) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), got.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, got.headers["x-switchboard-signature"])


async def subscribe(http, callback: str, **query) -> dict:
    r = await http.post("/api/v1/hub", json={"callback": callback, "query": query})
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/api/v1/hub/{r.json()['id']}"
    return r.json()


async def journaled(live: Live, rids: list[str], types: set[str]) -> dict[str, tuple[str, str]]:
    """Public events of these requests in the journal: ``"<shard>:<seq>" -> (requestId, type)``."""
    out = {}
    for rid in rids:
        shard = live.client_rt.shard(rid)
        for row in await live.client_rt.events(shard, 0, EventFilter(request_id=rid), 1000):
            if row.type in types:
                out[f"{shard}:{row.seq}"] = (rid, row.type)
    return out


async def test_receiver_gets_each_matching_event_once_per_delivery_id_signed(hub, receiver):
    http, p = hub.http, party()
    sub = await subscribe(http, receiver.url, eventTypes=["created", "statusChanged"],
                          requestTypes=["billingInquiry"], relatedPartyId=p)
    assert len(sub["secret"]) >= 32
    other = await subscribe(http, receiver.url + "?other", relatedPartyId=party())  # matches none of these
    rids = [(await http.post("/api/v1/requests", json=inquiry(party=p))).json()["id"] for _ in range(3)]
    for rid in rids:
        await wait_status(http, rid, "held")
    expected = await journaled(hub, rids, {"created", "statusChanged"})
    assert len(expected) == 3 * 3  # created, acknowledged -> inProgress, inProgress -> held

    await eventually(lambda: _at_least(receiver, len(expected)))
    ids = receiver.ids()
    assert len(ids) == len(set(ids)) == len(expected)  # once per delivery id
    assert set(ids) == {f"{sub['id']}:{eid}" for eid in expected}
    for got in receiver.got:
        body = got.json
        assert valid(sub["secret"], got)
        assert body["deliveryId"] == got.headers["x-switchboard-delivery"]
        assert body["eventType"] == got.headers["x-switchboard-event"] == expected[body["eventId"]][1]
        assert body["requestId"] == expected[body["eventId"]][0]
        assert (body["requestType"], body["relatedPartyId"]) == ("billingInquiry", p)
    created = {g.json["requestId"]: g.json["data"] for g in receiver.got if g.json["eventType"] == "created"}
    assert {rid: s["id"] for rid, s in created.items()} == {rid: rid for rid in rids}
    for rid in rids:  # per subscription, in order
        seqs = [int(g.json["eventId"].split(":")[1]) for g in receiver.got if g.json["requestId"] == rid]
        assert seqs == sorted(seqs)

    listed = (await http.get("/api/v1/hub")).json()
    assert {s["id"] for s in listed} >= {sub["id"], other["id"]}
    one = (await http.get(f"/api/v1/hub/{sub['id']}")).json()
    assert "secret" not in one and one["query"]["relatedPartyId"] == p


async def test_failing_receiver_gets_retries_then_a_dead_letter_an_operator_replays(hub, receiver):
    http, p = hub.http, party()
    receiver.status = 500
    sub = await subscribe(http, receiver.url, eventTypes=["created"], relatedPartyId=p)
    rid = (await http.post("/api/v1/requests", json=inquiry(party=p))).json()["id"]
    [eid] = await journaled(hub, [rid], {"created"})
    did = f"{sub['id']}:{eid}"

    async def dead_letters() -> list:
        r = await http.get("/api/v1/hub/deadLetters", params={"subscriptionId": sub["id"]})
        return r.json()
    [dead] = await eventually(dead_letters)
    assert receiver.ids() == [did] * ATTEMPTS
    assert all(valid(sub["secret"], g) for g in receiver.got)
    assert (dead["id"], dead["attempts"], dead["lastStatus"], dead["lastError"]) == (did, ATTEMPTS, 500, "HTTP 500")
    assert dead["event"]["requestId"] == rid and dead["event"]["deliveryId"] == did

    r = await http.post(f"/api/v1/hub/deadLetters/{did}/replay")  # still failing: kept, with one attempt more
    assert r.status_code == 200 and r.json()["delivered"] is False
    assert r.json()["deadLetter"]["attempts"] == ATTEMPTS + 1

    receiver.status = 204  # the receiver recovers
    r = await http.post(f"/api/v1/hub/deadLetters/{did}/replay")
    assert r.status_code == 200 and r.json() == {"delivered": True, "deliveryId": did, "deadLetter": None}
    assert await dead_letters() == []
    assert receiver.ids() == [did] * (ATTEMPTS + 2)  # the same delivery id every time
    assert receiver.got[-1].body == receiver.got[0].body and valid(sub["secret"], receiver.got[-1])

    r = await http.post(f"/api/v1/hub/deadLetters/{did}/replay")
    assert r.status_code == 404 and r.json()["code"] == "hub.dead_letter_not_found"


async def test_a_restarted_webhooks_actor_loses_nothing_and_keeps_delivery_ids(hub, receiver):
    http, p = hub.http, party()
    sub = await subscribe(http, receiver.url, eventTypes=["created"], relatedPartyId=p)
    receiver.hold = hold = asyncio.Event()  # the first delivery stays in flight
    first = (await http.post("/api/v1/requests", json=inquiry(party=p))).json()["id"]
    await eventually(lambda: _at_least(receiver, 1))

    before = await hub.runtime.webhooks.__ray_call__.remote(_pid)
    ray.kill(hub.runtime.webhooks, no_restart=False)  # Ray restarts it; it resumes from its file
    second = (await http.post("/api/v1/requests", json=inquiry(party=p))).json()["id"]
    # The kill is asynchronous: the held delivery is let go only once the actor it came from is
    # gone, or that one could still finish it (and nothing would be in flight to send again).
    await eventually(lambda: _restarted(hub, before))
    hold.set()
    receiver.hold = None
    [first_eid] = await journaled(hub, [first], {"created"})
    expected = {f"{sub['id']}:{eid}" for eid in await journaled(hub, [first, second], {"created"})}
    # The one in flight is sent again with the same id. The second request's event lives on
    # another shard, so it may arrive before or after that repeat: wait for both.
    await eventually(lambda: _has(receiver, expected))
    await eventually(lambda: _repeated(receiver, f"{sub['id']}:{first_eid}"))
    assert set(receiver.ids()) == expected  # nothing lost, no new ids
    assert all(valid(sub["secret"], g) for g in receiver.got)


async def test_hub_refuses_bad_subscriptions_and_forgets_deleted_ones(hub):
    http = hub.http
    for body, field in [
        ({"callback": "ftp://example.net/hook"}, "callback"),
        ({"callback": "https://user:pw@example.net/hook"}, "callback"),
        ({"callback": "https://example.net/hook", "query": {"eventTypes": ["timer.expire"]}}, "query.eventTypes.0"),
        ({"callback": "https://example.net/hook", "secret": "short"}, "secret"),
        ({"callback": "https://example.net/hook", "colour": "red"}, "colour"),
    ]:
        r = await http.post("/api/v1/hub", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in r.json()["errors"]] == [field], r.text

    sub = await subscribe(http, "https://example.net/hook", eventTypes=["resolved", "closed"])
    assert (await http.delete(f"/api/v1/hub/{sub['id']}")).status_code == 204
    for r in [await http.get(f"/api/v1/hub/{sub['id']}"), await http.delete(f"/api/v1/hub/{sub['id']}")]:
        assert r.status_code == 404 and r.json()["code"] == "hub.not_found"


async def _at_least(receiver: Receiver, n: int) -> bool:
    return len(receiver.got) >= n


async def _has(receiver: Receiver, ids: set[str]) -> bool:
    return set(receiver.ids()) >= ids


def _pid(_actor) -> int:
    return os.getpid()


async def _restarted(hub, before: int) -> bool:
    return await hub.runtime.webhooks.__ray_call__.remote(_pid) != before


async def _repeated(receiver: Receiver, delivery_id: str) -> bool:
    return receiver.ids().count(delivery_id) >= 2
