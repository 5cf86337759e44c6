"""A host classifies the creates it is sent (``Shard.create_many``): what a caller gets back is the
request as the routing table and the host's clock make it, a refused body answers with its own
error and fails nothing else, and a keyed create sent again answers the request it made."""

from __future__ import annotations

import json
from datetime import timedelta

from actors.errors import Overloaded
from routing.router import request_id
from tests.actors.shard_support import ShardRig


def body(request_type: str = "billingInquiry", direction: str = "inbound", **characteristics) -> str:
    return json.dumps({"requestType": request_type, "direction": direction, "channel": "web",
                       "relatedParty": [{"id": "CUST-0001", "role": "customer"}],
                       "characteristics": characteristics or {"billingAccountId": "BA-0001"}})


async def test_bodies_are_classified_by_the_host_and_bad_ones_answer_alone(tmp_path):
    rig = ShardRig(tmp_path)
    try:
        await rig.clock.advance(timedelta(days=3))  # the host's clock, not the wall clock, dates them
        good = request_id(None, "channel:web")
        keyed = request_id("k-1", "channel:web")
        answers = await rig.shard.create_many([
            (good, body(), None, "channel:web", None),
            ("x1", body("noSuchType"), None, "channel:web", None),
            ("x2", body(direction="outbound"), None, "channel:web", None),
            ("x3", body(note="no account"), None, "channel:web", None),
            ("x4", b'{"requestType": "billingInquiry"}', None, "channel:web", None),
            (keyed, body(), "k-1", "channel:web", "camp-1"),
        ])
        assert [type(a).__name__ for a in answers[1:5]] == ["Invalid"] * 4
        assert [a.field for a in answers[1:5]] == ["requestType", "direction", "characteristics.billingAccountId",
                                                   "body"]
        created, state = answers[0]
        state = json.loads(state)
        assert created and state["id"] == good and state["status"] == "acknowledged"
        assert state["href"] == f"/api/v1/requests/{good}"
        assert state["creationDate"].startswith(rig.clock.now().date().isoformat())
        assert state["timeline"][0]["actor"] == "channel:web"
        assert json.loads(answers[5][1])["campaignId"] == "camp-1"
        assert rig.journal.known([good, keyed, "x1", "x2", "x3", "x4"]) == {good, keyed}

        [again] = await rig.shard.create_many([(keyed, body(), "k-1", "channel:web", "camp-1")])
        assert again[0] is False and json.loads(again[1])["id"] == keyed
        [conflict] = await rig.shard.create_many([(keyed, body(billingAccountId="BA-0002"), "k-1", "channel:web", None)])
        assert getattr(conflict, "code", None) == "request.idempotency_conflict", conflict
        await rig.settle()
        assert (await rig.status(good))["status"] == "resolved"
    finally:
        rig.close()


async def test_an_overloaded_host_refuses_a_batch_of_bodies_whole(tmp_path):
    rig = ShardRig(tmp_path, shard_options={"max_ready": 0, "max_driving": 1})
    try:
        first = await rig.shard.create_many([(request_id(None, "a"), body(), None, "a", None) for _ in range(3)])
        assert all(created for created, _ in first)  # one taken up, two in line: over max_ready now
        ids = [request_id(None, "a") for _ in range(3)]
        refused = await rig.shard.create_many([(rid, body(), None, "a", None) for rid in ids])
        assert all(isinstance(a, Overloaded) for a in refused)
        assert rig.journal.known(ids) == set()
    finally:
        rig.close()
