"""A host whose journal falls behind refuses new creates (Overloaded) and creates nothing for them."""

from __future__ import annotations

import asyncio
import sqlite3

from actors.errors import Overloaded
from routing.models import RequestCreate
from tests.actors.shard_support import ShardRig


def new(rig: ShardRig) -> tuple[str, str, str]:
    body = RequestCreate(requestType="billingInquiry", direction="inbound", channel="web",
                         relatedParty=[{"id": "CUST-0001"}], characteristics={"billingAccountId": "BA-0001"})
    state = rig.classifier.classify(body, None, "api", now=rig.clock.now())
    return state.id, state.model_dump_json(), body.body_hash()


async def test_creates_are_refused_while_the_journal_queue_is_long(tmp_path):
    rig = ShardRig(tmp_path)
    rig.shard.max_backlog = 0
    blocker = sqlite3.connect(tmp_path / "shard.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the journal's writer thread waits on this lock
    try:
        a, b, c = new(rig), new(rig), new(rig)
        first = asyncio.ensure_future(rig.shard.create_states([a[1:]]))  # taken by the writer, which waits
        for _ in range(200):
            await asyncio.sleep(0.01)
            if rig.journal.backlog() == 0:
                break
        second = asyncio.ensure_future(rig.shard.create_states([b[1:]]))  # queued behind it
        for _ in range(200):
            await asyncio.sleep(0.01)
            if rig.journal.backlog() >= 1:
                break
        [refused] = await rig.shard.create_states([c[1:]])
        assert isinstance(refused, Overloaded) and "journal writes are waiting" in str(refused)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    [(created_a, _)] = await first
    [(created_b, _)] = await second
    assert created_a and created_b
    await rig.settle()
    assert rig.journal.get(a[0]) is not None and rig.journal.get(b[0]) is not None
    assert rig.journal.get(c[0]) is None  # the refused create left nothing
    rig.close()
